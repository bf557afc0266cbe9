import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { SerializedModel } from '../models/model-serialization.js';
import { BackboneError, type BackboneDescriptor, type WeightSource } from './backbone.js';

export interface WeightSourceOptions {
  /** Where URL backbones are kept once downloaded (`DATA_DIR/backbones`); required for URL sources. */
  cacheDirectory?: string;
  /** Fetch for URL sources; the global fetch by default. */
  fetch?: typeof fetch;
}

interface ManifestJson {
  weightsManifest?: { paths: string[] }[];
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The model.json text and weight files of a backbone, wherever they live. */
export async function readBackboneModel(
  descriptor: BackboneDescriptor,
  options: WeightSourceOptions = {},
): Promise<SerializedModel> {
  const { source } = descriptor;
  switch (source.kind) {
    case 'npm-package':
      return readPackagedModel(descriptor.id, source);
    case 'url':
      return readUrlModel(descriptor.id, source, options);
    case 'model':
      return source.model;
  }
}

/** Checks, without building a model, that a backbone's weights can be read (and are downloaded, for URL sources). */
export async function ensureBackboneWeights(
  descriptor: BackboneDescriptor,
  options: WeightSourceOptions = {},
): Promise<void> {
  const { source } = descriptor;
  if (source.kind === 'npm-package') {
    for (const file of packagedFiles(descriptor.id, source)) {
      if (!existsSync(file)) throw missing(descriptor.id, source.package, file);
    }
    return;
  }
  await readBackboneModel(descriptor, options);
}

function missing(id: string, packageName: string, file: string): BackboneError {
  return new BackboneError(
    'BACKBONE_WEIGHTS_MISSING',
    `The weights of backbone '${id}' are missing (${file}); install the npm package '${packageName}' (npm install).`,
    id,
  );
}

function packageDirectory(id: string, source: Extract<WeightSource, { kind: 'npm-package' }>): string {
  // Looked up along node's search paths: packages with an `exports` map do not resolve their own files by name.
  const searchPaths = createRequire(import.meta.url).resolve.paths(source.package) ?? [];
  const found = searchPaths
    .map((base) => join(base, source.package))
    .find((directory) => existsSync(join(directory, 'package.json')));
  if (!found)
    throw new BackboneError(
      'BACKBONE_WEIGHTS_MISSING',
      `Backbone '${id}' needs the npm package '${source.package}', which is not installed (npm install).`,
      id,
    );
  return found;
}

/** model.json (or its UMD wrapper) and every weight file it names, as paths. */
function packagedFiles(id: string, source: Extract<WeightSource, { kind: 'npm-package' }>): string[] {
  const directory = join(packageDirectory(id, source), source.directory);
  const modelPath = join(directory, source.modelFile);
  if (!existsSync(modelPath)) return [modelPath];
  const json = loadPackagedFile(modelPath, source.wrapped) as ManifestJson;
  const shards = (json.weightsManifest ?? [])
    .flatMap((group) => group.paths)
    .map((path) => join(directory, source.wrapped ? `${path}.min.js` : path));
  return [modelPath, ...shards];
}

/**
 * Packages meant for browsers (nsfwjs) wrap model.json as a UMD module exporting the object and each weight shard
 * as one exporting its base64 text; plain packages ship the files as they are.
 */
function loadPackagedFile(path: string, wrapped: boolean): unknown {
  return wrapped ? createRequire(import.meta.url)(path) : path;
}

async function readPackagedModel(
  id: string,
  source: Extract<WeightSource, { kind: 'npm-package' }>,
): Promise<SerializedModel> {
  const [modelPath, ...shardPaths] = packagedFiles(id, source);
  for (const file of [modelPath, ...shardPaths]) if (!existsSync(file)) throw missing(id, source.package, file);
  const json = source.wrapped
    ? (loadPackagedFile(modelPath, true) as ManifestJson)
    : (JSON.parse(await readFile(modelPath, 'utf8')) as ManifestJson);
  const paths = (json.weightsManifest ?? []).flatMap((group) => group.paths);
  const weights: Record<string, Uint8Array> = {};
  for (const [index, path] of paths.entries()) {
    weights[path] = source.wrapped
      ? new Uint8Array(Buffer.from(loadPackagedFile(shardPaths[index], true) as string, 'base64'))
      : new Uint8Array(await readFile(shardPaths[index]));
  }
  return { modelJson: JSON.stringify(json), weights };
}

/** Downloads each file once into the cache directory, verifying every file against its sha256 before use. */
async function readUrlModel(
  id: string,
  source: Extract<WeightSource, { kind: 'url' }>,
  options: WeightSourceOptions,
): Promise<SerializedModel> {
  if (!options.cacheDirectory)
    throw new BackboneError(
      'BACKBONE_INVALID',
      `Backbone '${id}' is fetched from a URL, which needs a data directory to keep it in.`,
      id,
    );
  const modelFile = new URL(source.url).pathname.split('/').pop() || 'model.json';
  const directory = join(options.cacheDirectory, id);
  const modelBytes = await cachedFile(id, source, modelFile, directory, options);
  let json: ManifestJson;
  try {
    json = JSON.parse(new TextDecoder().decode(modelBytes)) as ManifestJson;
  } catch (error) {
    throw new BackboneError('BACKBONE_INVALID', `${source.url} is not a tfjs model.json.`, id, { cause: error });
  }
  const weights: Record<string, Uint8Array> = {};
  for (const path of (json.weightsManifest ?? []).flatMap((group) => group.paths))
    weights[path] = await cachedFile(id, source, path, directory, options);
  return { modelJson: new TextDecoder().decode(modelBytes), weights };
}

async function cachedFile(
  id: string,
  source: Extract<WeightSource, { kind: 'url' }>,
  file: string,
  directory: string,
  options: WeightSourceOptions,
): Promise<Uint8Array> {
  const expected = source.sha256[file];
  if (!expected)
    throw new BackboneError(
      'BACKBONE_INVALID',
      `Backbone '${id}' lists no sha256 for its file '${file}'; add it to the backbone's sha256 map.`,
      id,
    );
  const path = join(directory, expected);
  if (existsSync(path)) {
    const bytes = new Uint8Array(await readFile(path));
    if (sha256(bytes) === expected) return bytes;
  }
  const url = new URL(file, source.url).toString();
  let bytes: Uint8Array;
  try {
    const response = await (options.fetch ?? fetch)(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new BackboneError(
      'BACKBONE_DOWNLOAD_FAILED',
      `Backbone '${id}' could not be downloaded from ${url} (${(error as Error).message}). It is fetched once; connect this machine or copy the file to ${path}.`,
      id,
      { cause: error },
    );
  }
  const actual = sha256(bytes);
  if (actual !== expected) {
    throw new BackboneError(
      'BACKBONE_CHECKSUM_MISMATCH',
      `${url} has sha256 ${actual}, but backbone '${id}' expects ${expected}; check the URL and the checksum.`,
      id,
    );
  }
  await mkdir(directory, { recursive: true });
  // Written aside and renamed, so a concurrent reader never sees half a file.
  const partial = `${path}.${process.pid}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, path);
  return bytes;
}
