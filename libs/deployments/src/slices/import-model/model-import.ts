import { join } from 'node:path';
import {
  ArchiveErrors,
  type ArchiveLimits,
  DomainError,
  type InflatedArchive,
  isDomainError,
  unzipSafely,
  ZipArchive,
  type ZipSource,
} from '@diyml/core/pure';
import {
  expectedWeightBytes,
  manifestWeights,
  type SerializedModel,
  type Task,
  type WeightsManifestJson,
} from '@diyml/ml';
import { isHdf5File, KERAS_ZIP_ENTRIES, KerasImportError, type KerasModelFile, readKerasOnThread } from '@diyml/ml';
import { labelNameKey } from '@diyml/projects';
import { unpackModelSafely } from '@diyml/training/pure';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { convertKerasOnThread } from './keras-conversion-thread.js';
import { checkModelOnThread } from './model-check-thread.js';

export type ModelFormat = 'diyml' | 'teachable-machine' | 'tfjs-layers' | 'keras-h5' | 'keras';

export interface InspectedModel {
  format: ModelFormat;
  task: Task;
  architecture: string;
  /** In model-output order. */
  labels: string[];
}

export interface ModelImportLimits {
  archive: ArchiveLimits;
  /** Largest width × height of input a model may declare. */
  maxInputPixels: number;
}

function invalid(message: string): DomainError {
  return DomainError.validation(DeploymentErrors.INVALID_MODEL_ARCHIVE, message);
}

function formatOf(serialized: SerializedModel): { format: ModelFormat; hasLabels: boolean } {
  const json = JSON.parse(serialized.modelJson) as { userDefinedMetadata?: { diyml?: { labels?: unknown } } };
  if (json.userDefinedMetadata?.diyml)
    return { format: 'diyml', hasLabels: Array.isArray(json.userDefinedMetadata.diyml.labels) };
  const metadata = serialized.metadataJson
    ? (JSON.parse(serialized.metadataJson) as { packageName?: string; labels?: unknown })
    : {};
  const format = String(metadata.packageName ?? '').includes('teachablemachine') ? 'teachable-machine' : 'tfjs-layers';
  return { format, hasLabels: Array.isArray(metadata.labels) };
}

/** Unzips the files a model is made of within the archive limits, off the event loop. */
async function unpackModelArchive(zip: ZipSource, limits: ArchiveLimits): Promise<SerializedModel> {
  try {
    return await unpackModelSafely(zip, limits, { oneModel: true });
  } catch (error) {
    if (isDomainError(error, ArchiveErrors.INVALID_ARCHIVE))
      throw invalid(`The file is not a model archive: ${error.message}`);
    if (error instanceof DomainError) throw error;
    throw invalid(`The file is not a model archive: ${(error as Error).message}.`);
  }
}

/** The weight files must be exactly those model.json names, holding exactly the bytes its manifest describes. */
function requireWeightsAsDeclared(serialized: SerializedModel): void {
  const mismatch = (message: string, details?: unknown) =>
    DomainError.unprocessable(DeploymentErrors.MODEL_WEIGHTS_MISMATCH, message, details);
  let expected: number;
  let paths: string[];
  try {
    const json = JSON.parse(serialized.modelJson) as WeightsManifestJson;
    expected = expectedWeightBytes(manifestWeights(json));
    paths = (json.weightsManifest ?? [])
      .flatMap((group) => group.paths ?? [])
      .map((path) => path.split('/').pop() ?? path);
  } catch (error) {
    throw invalid(`model.json does not describe its weights: ${(error as Error).message}.`);
  }
  const files = serialized.weights as Record<string, Uint8Array>;
  const missing = paths.filter((path) => !files[path]);
  if (missing.length)
    throw mismatch(`model.json names weight files the archive does not hold: ${missing.join(', ')}.`, { missing });
  const unnamed = Object.keys(files).filter((name) => !paths.includes(name));
  if (unnamed.length)
    throw mismatch(`The archive holds weight files model.json does not name: ${unnamed.join(', ')}.`, { unnamed });
  const actual = paths.reduce((total, path) => total + files[path].byteLength, 0);
  if (actual !== expected) {
    throw mismatch(`The weight files hold ${actual} bytes; model.json describes ${expected}.`, {
      expectedBytes: expected,
      actualBytes: actual,
    });
  }
}

/**
 * Opens a model archive (a diyml export, or a Teachable Machine image-model export: model.json, weights.bin,
 * metadata.json) and proves it can serve: unpacked within the archive limits, weights exactly as the manifest
 * describes and all finite, loaded and tried on one blank image on a worker thread, as a deployment will use it.
 */
export async function inspectModelArchive(zip: ZipSource, limits: ModelImportLimits): Promise<InspectedModel> {
  const serialized = await unpackModelArchive(zip, limits.archive);
  let described: { format: ModelFormat; hasLabels: boolean };
  try {
    described = formatOf(serialized);
  } catch (error) {
    throw invalid(`The model's JSON files do not parse: ${(error as Error).message}.`);
  }
  if (!described.hasLabels) {
    throw DomainError.validation(
      DeploymentErrors.MODEL_LABELS_MISSING,
      'The archive names no labels: add a metadata.json with {"labels": [...]} in model-output order, as Teachable Machine exports have.',
    );
  }
  requireWeightsAsDeclared(serialized);
  const checked = await checkModelOnThread(serialized, limits.maxInputPixels);
  if (checked.type === 'invalid') {
    throw DomainError.unprocessable(DeploymentErrors.MODEL_INVALID, `The model cannot serve: ${checked.reason}.`, {
      reason: checked.reason,
    });
  }
  return { format: described.format, task: checked.task, architecture: checked.architecture, labels: checked.labels };
}

/**
 * The project's labels for the model's outputs, matched by name (exactly, else as the project compares names:
 * ignoring case and Unicode form). Labels are never created by an import: a name the project lacks is a 400
 * listing them all.
 */
export function mapLabels(
  modelLabels: readonly string[],
  projectLabels: readonly { id: string; name: string }[],
): { id: string; name: string }[] {
  const exact = new Map(projectLabels.map((label) => [label.name, label]));
  const folded = new Map(projectLabels.map((label) => [labelNameKey(label.name), label]));
  const unknown: string[] = [];
  const mapped = modelLabels.map((name) => {
    const label = exact.get(name) ?? folded.get(labelNameKey(name));
    if (!label) unknown.push(name);
    return label ? { id: label.id, name: label.name } : { id: '', name };
  });
  if (unknown.length) {
    throw DomainError.validation(
      DeploymentErrors.UNKNOWN_MODEL_LABELS,
      `The model predicts labels the project does not have: ${unknown.join(', ')}. Add them to the project first.`,
      { unknownLabels: unknown, projectLabels: projectLabels.map((label) => label.name) },
    );
  }
  const ids = new Set(mapped.map((label) => label.id));
  if (ids.size !== mapped.length) {
    throw DomainError.validation(
      DeploymentErrors.UNKNOWN_MODEL_LABELS,
      "Two of the model's labels match the same project label.",
      {
        modelLabels,
      },
    );
  }
  return mapped;
}

/** What a Keras file does not say about itself, sent beside it as form fields. */
export interface KerasImportFields {
  /**
   * Class names in model-output order: a JSON array, names one a line (a labels.txt; Teachable Machine's Keras export
   * numbers them, "0 cat"), or names separated by commas.
   */
  labels?: string;
  /** The pixel range the model's input expects, "low,high" (default 0,255: what Keras's image loading gives). */
  inputRange?: string;
}

export const DEFAULT_KERAS_INPUT_RANGE: [number, number] = [0, 255];

/** A labels file's lines: blank ones left out, and Teachable Machine's numbering ("0 cat", "1 dog") taken off. */
function labelLines(text: string): string[] {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const numbered = lines.map((line) => /^(\d+)\s+(\S.*)$/.exec(line));
  return numbered.every((match, index) => match && Number(match[1]) === index)
    ? numbered.map((match) => match![2])
    : lines;
}

function kerasLabels(field: string | undefined): string[] {
  const missing = () =>
    DomainError.validation(
      DeploymentErrors.MODEL_LABELS_MISSING,
      'A Keras file does not name its classes: send them in the form field "labels", in model-output order, as a JSON array, one a line or separated by commas.',
    );
  // trim() takes a byte-order mark off too, which a labels file saved on Windows starts with.
  const text = field?.trim();
  if (!text) throw missing();
  let names: unknown;
  try {
    names = text.startsWith('[') ? JSON.parse(text) : /[\r\n]/.test(text) ? labelLines(text) : text.split(',');
  } catch {
    throw DomainError.validation(
      DeploymentErrors.MODEL_LABELS_MISSING,
      'The field "labels" starts like a JSON array but does not parse: send ["cat","dog"] or cat,dog.',
    );
  }
  if (!Array.isArray(names) || names.some((name) => typeof name !== 'string')) {
    throw DomainError.validation(
      DeploymentErrors.MODEL_LABELS_MISSING,
      'The field "labels" must be a JSON array of strings, names one a line, or names separated by commas.',
    );
  }
  const labels = (names as string[]).map((name) => name.trim());
  if (labels.length === 0 || labels.some((name) => name === '')) throw missing();
  if (new Set(labels).size !== labels.length) {
    throw DomainError.validation(DeploymentErrors.MODEL_LABELS_MISSING, 'The field "labels" names a class twice.', {
      labels,
    });
  }
  return labels;
}

function kerasInputRange(field: string | undefined): [number, number] {
  if (field === undefined || field.trim() === '') return DEFAULT_KERAS_INPUT_RANGE;
  const parts = field.split(',').map((part) => part.trim());
  const range = parts.map(Number);
  if (range.length !== 2 || parts.includes('') || !range.every(Number.isFinite) || range[0] >= range[1]) {
    throw DomainError.validation(
      DeploymentErrors.INVALID_INPUT_RANGE,
      `The field "inputRange" is "${field}": send the pixel range the model expects as "low,high", e.g. "0,255", "0,1" or "-1,1".`,
    );
  }
  return [range[0], range[1]];
}

/** How long reading a Keras file may take once its thread is ready (a real model reads in well under a second). */
const KERAS_READ_TIMEOUT_MS = 30_000;

/** Lists a zip's entries whatever they declare: deciding what the file is inflates nothing. */
const LISTING_ONLY: ArchiveLimits = {
  maxTotalBytes: Number.POSITIVE_INFINITY,
  maxEntryBytes: Number.POSITIVE_INFINITY,
  maxEntries: Number.POSITIVE_INFINITY,
  maxRatio: Number.POSITIVE_INFINITY,
};

/**
 * Whether the file is a Keras 3 `.keras` zip: its central directory names config.json and model.weights.h5 (read
 * from the file, nothing inflated). Anything unreadable is no Keras zip: the model-archive checks name the problem.
 */
async function isKerasZipFile(path: string): Promise<boolean> {
  let zip: ZipArchive;
  try {
    zip = await ZipArchive.open(path, LISTING_ONLY);
  } catch {
    return false;
  }
  try {
    const names = new Set<string>();
    for await (const entry of zip.entries()) names.add(entry.name);
    return names.has(KERAS_ZIP_ENTRIES.config) && names.has(KERAS_ZIP_ENTRIES.weights);
  } catch {
    return false;
  } finally {
    await zip.close();
  }
}

/** A pattern that matches the entry `name` and nothing else. */
const exactly = (name: string) => `^${name.replaceAll('.', '\\.')}$`;

/**
 * The Keras model in an uploaded file, if it is one: Keras 2's HDF5 (by its signature), or a Keras 3 zip (by its
 * entries), whose model.weights.h5 is unpacked within the archive limits to a file in `workDirectory`. The HDF5 file
 * is read where it lies, on a worker thread (readKerasOnThread): only the model's arrays are read from it, and they
 * may not declare more bytes than one archive entry may hold (converted, they are the archive's weights.bin, which
 * the import then unpacks within the same limit): a model refused there is refused before its arrays are read.
 */
async function readKerasUpload(
  path: string,
  limits: ArchiveLimits,
  workDirectory: string,
): Promise<KerasModelFile | null> {
  const threadLimits = {
    maxFileBytes: limits.maxTotalBytes,
    maxWeightBytes: limits.maxEntryBytes,
    timeoutMs: KERAS_READ_TIMEOUT_MS,
  };
  if (await isHdf5File(path)) return readKerasOnThread({ kind: 'keras-h5', path }, threadLimits);
  if (!(await isKerasZipFile(path))) return null;
  let archive: InflatedArchive;
  try {
    archive = await unzipSafely(path, {
      limits,
      rules: [
        { pattern: exactly(KERAS_ZIP_ENTRIES.weights), directory: workDirectory },
        { pattern: exactly(KERAS_ZIP_ENTRIES.config) },
      ],
    });
  } catch (error) {
    if (isDomainError(error, ArchiveErrors.INVALID_ARCHIVE))
      throw invalid(`The .keras file is not a readable zip: ${error.message}`);
    throw error;
  }
  const entry = (name: string) => archive.entries.find((candidate) => candidate.path === name);
  const config = entry(KERAS_ZIP_ENTRIES.config)?.bytes;
  const weightsPath = entry(KERAS_ZIP_ENTRIES.weights)?.file;
  if (!config || !weightsPath) {
    throw new KerasImportError(
      'KERAS_NOT_A_MODEL',
      `A .keras file holds ${KERAS_ZIP_ENTRIES.config} and ${KERAS_ZIP_ENTRIES.weights}; this zip does not.`,
    );
  }
  return readKerasOnThread({ kind: 'keras', config: new TextDecoder().decode(config), weightsPath }, threadLimits);
}

/**
 * A Keras model (Keras 2 `.h5` or Keras 3 `.keras`, the uploaded file at `path`) as a model archive the import checks
 * like any other, written to a file in `workDirectory` (the caller's, which it removes): read and mapped onto
 * TensorFlow.js layers on worker threads, its weights moved between them, never copied through the event loop's heap.
 * Null when the upload is not a Keras file. A layer diyml cannot run is a 400 KERAS_UNSUPPORTED_LAYER naming its type;
 * an HDF5 file that holds no model a 400 KERAS_NOT_A_MODEL.
 */
export async function convertKerasUpload(
  path: string,
  fields: KerasImportFields,
  limits: ModelImportLimits,
  workDirectory: string,
): Promise<{ format: 'keras-h5' | 'keras'; zipPath: string } | null> {
  let file: KerasModelFile | null;
  try {
    file = await readKerasUpload(path, limits.archive, workDirectory);
  } catch (error) {
    if (error instanceof KerasImportError) throw DomainError.validation(error.code, error.message, error.details);
    throw error;
  }
  if (!file) return null;
  const labels = kerasLabels(fields.labels);
  const inputRange = kerasInputRange(fields.inputRange);
  const zipPath = join(workDirectory, 'converted.zip');
  const converted = await convertKerasOnThread({ file, labels, inputRange, zipPath });
  if (converted.type === 'refused') throw DomainError.validation(converted.code, converted.message, converted.details);
  return { format: file.format, zipPath };
}
