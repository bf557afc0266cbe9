import { unzipSync, zipSync } from 'fflate';
import { type ArchiveLimits, unzipSafely, type ZipSource } from '@diyml/core/pure';
import type { ModelMetadata, SerializedModel } from '@diyml/ml';

/** Fixed entry times, so the same model always packs to the same bytes (and the same sha256). */
const EPOCH = new Date('1980-01-01T00:00:00Z');
const MODEL_JSON = 'model.json';
const WEIGHTS = 'weights.bin';
const METADATA_JSON = 'metadata.json';

/**
 * A model as one zip in TensorFlow.js layers format: model.json, weights.bin and metadata.json (labels and
 * preprocessing, as Teachable Machine exports have it). This is the stored model and the export format.
 */
export function packModel(model: SerializedModel & { weights: Uint8Array }): Uint8Array {
  const json = JSON.parse(model.modelJson) as { userDefinedMetadata?: { diyml?: ModelMetadata } };
  const metadata = json.userDefinedMetadata?.diyml;
  const entries: Record<string, [Uint8Array, { mtime: Date }]> = {
    [MODEL_JSON]: [new TextEncoder().encode(model.modelJson), { mtime: EPOCH }],
    [WEIGHTS]: [model.weights, { mtime: EPOCH }],
  };
  if (metadata) {
    entries[METADATA_JSON] = [new TextEncoder().encode(JSON.stringify(metadata, null, 2)), { mtime: EPOCH }];
  }
  return zipSync(entries, { level: 6 });
}

/** The entries a model archive is read from; anything else in the zip is never inflated. */
export const MODEL_ARCHIVE_FILES = /(^|\/)(model\.json|metadata\.json|[^/]*\.bin)$/i;
/** Folders, dot files and macOS resource forks, never read even when named like a model file. */
export const MODEL_ARCHIVE_JUNK = /\/$|(^|\/)(\.|__MACOSX(\/|$))/;

/**
 * Reads a stored model zip: ours, or a Teachable Machine image-model export (model.json, weights.bin,
 * metadata.json) that the import checked within the archive limits.
 */
export function unpackModel(zip: Uint8Array): SerializedModel {
  const files = unzipSync(zip, {
    filter: (file) => MODEL_ARCHIVE_FILES.test(file.name) && !MODEL_ARCHIVE_JUNK.test(file.name),
  });
  const byName = new Map(Object.entries(files).map(([path, bytes]) => [path.split('/').pop() ?? path, bytes]));
  return modelFromFiles(byName);
}

/**
 * Reads a model zip on a worker thread within the archive limits (413 ARCHIVE_* when passed, 400
 * INVALID_ARCHIVE when not a zip): only model.json, metadata.json and *.bin are inflated. For archives that
 * come from outside (an import, read from its temporary file: `oneModel` refuses one holding two files of a name),
 * and for loading stored ones without blocking the event loop (as they were imported).
 */
export async function unpackModelSafely(
  zip: ZipSource,
  limits: ArchiveLimits,
  { oneModel = false }: { oneModel?: boolean } = {},
): Promise<SerializedModel & { weights: Record<string, Uint8Array> }> {
  const archive = await unzipSafely(zip, {
    limits,
    omit: { pattern: MODEL_ARCHIVE_JUNK.source },
    rules: [{ pattern: MODEL_ARCHIVE_FILES.source, flags: MODEL_ARCHIVE_FILES.flags }],
  });
  if (oneModel) requireOneModel(archive.entries.map(({ path }) => path));
  const byName = new Map(archive.entries.map(({ path, bytes }) => [fileName(path), bytes!]));
  return modelFromFiles(byName);
}

const fileName = (path: string) => path.split('/').pop() ?? path;

/**
 * Refuses two files of one name in an archive that comes in (a folder of several exports zipped whole): taking
 * either, or model.json of one and weights of another, would import a model the user did not mean.
 */
function requireOneModel(paths: readonly string[]): void {
  const seen = new Map<string, string>();
  for (const path of paths) {
    const other = seen.get(fileName(path));
    if (other !== undefined)
      throw new Error(`the archive holds more than one model (${other} and ${path}): send one model per archive`);
    seen.set(fileName(path), path);
  }
}

/** The serialized model in an archive's files, keyed by file name without folders. */
function modelFromFiles(
  byName: ReadonlyMap<string, Uint8Array>,
): SerializedModel & { weights: Record<string, Uint8Array> } {
  const modelJson = byName.get(MODEL_JSON);
  if (!modelJson) throw new Error('the archive has no model.json');
  const weights: Record<string, Uint8Array> = {};
  for (const [name, bytes] of byName) if (name.endsWith('.bin')) weights[name] = bytes;
  const metadataJson = byName.get(METADATA_JSON);
  return {
    modelJson: new TextDecoder().decode(modelJson),
    weights,
    ...(metadataJson ? { metadataJson: new TextDecoder().decode(metadataJson) } : {}),
  };
}
