import { parse as parseCsv } from 'csv-parse/sync';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { type ArchiveLimits, DomainError, type InflatedEntry, unzipSafely, type ZipSource } from '@diyml/core/pure';
import { labelNameKey } from '@diyml/projects';
import { DatasetErrors } from '../../domain/dataset-errors.js';
import { MIN_REGION_SIZE } from '../../domain/image.decider.js';
import type { Split } from '../../domain/image.events.js';

/** A box in an archive, before its label name is resolved to a label of the project. */
export interface ArchiveRegion {
  labelName: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ArchiveImage {
  /** Path inside the archive. */
  path: string;
  /** The temporary file the image was unpacked to; null when over the per-file size limit (not extracted). */
  file: string | null;
  labelName: string | null;
  /** Multilabel: every label of the image (a CSV row's), besides or instead of `labelName`. */
  labelNames?: string[];
  regions?: ArchiveRegion[];
  split?: Split;
  /** Named by the annotations but not in the archive (or not told apart: see `sameName`). */
  missing?: boolean;
  /** Named by the annotations by a file name several files of the archive have (their paths): not guessed between. */
  sameName?: string[];
  /** Its annotations that were dropped or changed on the way in. */
  annotationIssues?: AnnotationIssue[];
  /** The size the annotation file gives the image (COCO `width`, `height`): the frame its boxes were drawn in. */
  annotatedSize?: { file: string; width: number; height: number };
}

export type AnnotationIssueCode =
  | 'UNKNOWN_IMAGE_ID'
  | 'UNKNOWN_CATEGORY_ID'
  | 'INVALID_BBOX'
  | 'BOX_CLAMPED'
  | 'BOX_EMPTY'
  | 'BOX_TOO_SMALL'
  | 'IMAGE_LISTED_TWICE'
  | 'BOXES_TURNED_UPRIGHT';

/** An annotation of a COCO file that was not taken as it stands. */
export interface AnnotationIssue {
  /** The COCO file. */
  file: string;
  /** Index in the file's `annotations`. */
  annotation: number;
  /** The annotation's own `id`, when it has one. */
  annotationId?: number | string;
  code: AnnotationIssueCode;
  action: 'dropped' | 'changed';
  message: string;
}

export interface DatasetArchive {
  images: ArchiveImage[];
  /** Label names used, in first-seen order. */
  labelNames: string[];
  /** Entries that are neither images nor the annotation file (README, CSV, …). */
  ignored: number;
  /** Annotations dropped because they name no image of their file. */
  unmatchedAnnotations: AnnotationIssue[];
}

export interface DatasetArchiveLimits {
  /** Largest image: a larger one is reported as rejected (FILE_TOO_LARGE), the others are still taken. */
  maxFileBytes: number;
  /** Images in the archive. */
  maxFiles: number;
  /** What the archive may inflate to (ARCHIVE_MAX_* settings). */
  archive: ArchiveLimits;
}

/**
 * Pictures: the formats taken (an iPhone's HEIC too, converted to JPEG), and those people send that are not (BMP, …),
 * so that each of these is reported with how to convert it instead of being passed over.
 */
const IMAGE_EXTENSIONS = /\.(jpe?g|jpe|jfif|png|webp|gif|tiff?|avif|heic|heif|hif|bmp|dib|jxl|jp2|j2k|psd|svg)$/i;
const JSON_FILE = /\.json$/i;
const CSV_FILE = /\.csv$/i;
const SPLIT_FOLDERS: Record<string, Split> = {
  train: 'train',
  training: 'train',
  val: 'validation',
  valid: 'validation',
  validation: 'validation',
  test: 'test',
  testing: 'test',
};

/** Folders, dot files and macOS resource forks: passed over without a word. */
const JUNK = { pattern: '/$|(^|/)(\\.|__MACOSX(/|$))' };

/**
 * Unpacks the images to files in `imagesDirectory`, the caller's folder which it removes (never all in memory: an
 * archive may hold gigabytes of them), and the JSON files into memory.
 */
async function extract(
  zip: ZipSource,
  limits: DatasetArchiveLimits,
  imagesDirectory: string,
): Promise<{ entries: Map<string, InflatedEntry>; ignored: number }> {
  const archive = await unzipSafely(zip, {
    limits: limits.archive,
    omit: JUNK,
    rules: [
      {
        pattern: IMAGE_EXTENSIONS.source,
        flags: 'i',
        maxBytes: limits.maxFileBytes,
        oversize: 'skip',
        directory: imagesDirectory,
      },
      { pattern: JSON_FILE.source, flags: 'i' },
      { pattern: CSV_FILE.source, flags: 'i' },
    ],
  });
  const images = archive.entries.filter((entry) => IMAGE_EXTENSIONS.test(entry.path)).length;
  if (images > limits.maxFiles) {
    throw new DomainError(
      'too-large',
      DatasetErrors.TOO_MANY_FILES,
      `The archive holds more than ${limits.maxFiles} images.`,
      {
        maxFiles: limits.maxFiles,
      },
    );
  }
  return { entries: new Map(archive.entries.map((entry) => [entry.path, entry])), ignored: archive.skipped };
}

/**
 * A name as people read it: macOS names files in decomposed Unicode (`e` and a combining accent), what they type is
 * composed (`é`); both forms of a name must be one label, and one file.
 */
function composed(name: string): string {
  return name.normalize('NFC');
}

/** The split a folder or word names: `train`, `val`, `test`, … also with a year, as COCO's `val2017`. */
function splitNamed(name: string): Split | undefined {
  return SPLIT_FOLDERS[name.toLowerCase().replace(/\d+$/, '')];
}

/** The split named by the nearest folder above the label's folder (`train/`, `val/`, `test/`, …), if any. */
function splitOf(folders: readonly string[]): Split | undefined {
  for (let index = folders.length - 2; index >= 0; index--) {
    const split = splitNamed(folders[index]);
    if (split) return split;
  }
  return undefined;
}

/**
 * Classification, the common layout: one folder per class (`cat/1.jpg`), optionally under split folders
 * (`train/cat/1.jpg`, `val/dog/2.jpg`, `test/…`) and top folders (`chest_xray/chest_xray/train/NORMAL/1.jpeg`, as
 * Kaggle's downloads nest them). Images at the top, or right in a split folder, are unlabeled.
 */
export async function readClassificationArchive(
  zip: ZipSource,
  limits: DatasetArchiveLimits,
  imagesDirectory: string,
): Promise<DatasetArchive> {
  const { entries, ignored } = await extract(zip, limits, imagesDirectory);
  const { images, labelNames } = classificationImages(entries);
  return { images, labelNames, ignored: ignored + (entries.size - images.length), unmatchedAnnotations: [] };
}

/** The images of the archive, each labeled by its folder (split folders set its split). */
function classificationImages(
  entries: ReadonlyMap<string, InflatedEntry>,
): Pick<DatasetArchive, 'images' | 'labelNames'> {
  const imagePaths = [...entries.keys()].filter((path) => IMAGE_EXTENSIONS.test(path)).sort();
  const foldersOf = (path: string) => path.split('/').slice(0, -1);
  // A split folder holding images itself holds them unlabeled (Kaggle's test/ beside train/<class>/, or train/ and
  // test/ whose labels are in a CSV), while among class folders a class may be named like one (`vehicles/train/`).
  const lastFolders = imagePaths.map((path) => foldersOf(path).pop()).filter((name) => name !== undefined);
  const splitsUsed =
    imagePaths.some((path) => splitOf(foldersOf(path)) !== undefined) ||
    (lastFolders.length > 0 && lastFolders.every((name) => splitNamed(name) !== undefined));
  const labelNames: string[] = [];
  const images = imagePaths.map((path): ArchiveImage => {
    const folders = foldersOf(path);
    const last = folders.length ? folders[folders.length - 1] : undefined;
    const splitHoldingImages = splitsUsed && last !== undefined ? splitNamed(last) : undefined;
    const file = entries.get(path)?.file ?? null;
    if (splitHoldingImages) return { path, file, labelName: null, split: splitHoldingImages };
    const labelName = last !== undefined ? composed(last.trim()) : null;
    if (labelName) addLabelName(labelNames, labelName);
    return { path, file, labelName: labelName || null, split: splitOf(folders) };
  });
  return { images, labelNames };
}

/**
 * The text of a CSV file: UTF-8 (with or without a BOM), UTF-16 with its BOM (Excel's "Unicode Text"), else
 * Windows-1252, the code page Excel on Windows saves "CSV (Comma delimited)" in.
 */
function csvText(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

/**
 * What separates the fields of a CSV table whose first column is `filename`: a comma, or the semicolon (or tab) that
 * Excel writes where the comma is the decimal separator (most of Europe).
 */
function csvDelimiter(text: string): string {
  return /^\s*"?filename"?\s*([;\t])/i.exec(text.slice(0, 256))?.[1] ?? ',';
}

/** The records of a CSV file (RFC 4180: quoted fields may hold commas, doubled quotes and line breaks). */
function csvRecords(path: string, bytes: Uint8Array): string[][] {
  const text = csvText(bytes);
  try {
    return parseCsv(text, {
      bom: true,
      delimiter: csvDelimiter(text),
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
    }) as string[][];
  } catch (error) {
    throw DomainError.validation(
      DatasetErrors.INVALID_ARCHIVE,
      `${path} is not a valid CSV file (${error instanceof Error ? error.message : String(error)}): fix or remove it.`,
    );
  }
}

/**
 * The folder of an annotation file (with its trailing slash) and the split its folder names (Roboflow's
 * train/valid/test), else a word of its own name (COCO's and CVAT's annotations/instances_val2017.json).
 */
function annotationFolder(path: string): { folder: string; split: Split | undefined } {
  const folder = path.slice(0, path.lastIndexOf('/') + 1);
  const folderName = folder.split('/').filter(Boolean).pop();
  const words = path
    .slice(folder.length)
    .replace(/\.[^.]*$/, '')
    .split(/[^\p{L}\p{N}]+/u);
  const split = (folderName ? splitNamed(folderName) : undefined) ?? words.map(splitNamed).find(Boolean);
  return { folder, split };
}

/**
 * A path as files are matched by: `/` between folders (an annotation file written on Windows has `images\\1.jpg`),
 * no leading `./`, composed Unicode.
 */
function matchingKey(path: string): string {
  return composed(path.replaceAll('\\', '/').replace(/^(\.\/)+/, ''));
}

/** A file an annotation file names: found, or several files it may be. */
type FoundFile = { path: string } | { sameName: string[] };

/** A path and its endings, longest first: `a/b/c.jpg`, `b/c.jpg`, `c.jpg`. */
function endingsOf(key: string): string[] {
  const segments = key.split('/');
  return segments.map((_, start) => segments.slice(start).join('/'));
}

/** The one file of the longest ending of `key` the index holds, or the several files of it. */
function longestEnding(byEnding: ReadonlyMap<string, string[]>, key: string): FoundFile | undefined {
  for (const ending of endingsOf(key)) {
    const alike = byEnding.get(ending);
    if (alike) return alike.length === 1 ? { path: alike[0] } : { sameName: alike };
  }
  return undefined;
}

/**
 * Where a file an annotation file names is in the archive: next to that file; else the file whose path ends with the
 * longest part of that name (`video1/frame_1.jpg` as `images/video1/frame_1.jpg`, an absolute path by its last
 * folders, else the file name alone), in its case or else in any (a table typed on Windows names IMG_1.JPG
 * img_1.jpg). When several files end so (frames of each video named alike), none is guessed.
 */
function fileFinder(paths: Iterable<string>): (folder: string, filename: string) => FoundFile | undefined {
  const byKey = new Map<string, string>();
  const byEnding = new Map<string, string[]>();
  const byEndingInAnyCase = new Map<string, string[]>();
  const add = (index: Map<string, string[]>, ending: string, path: string) => {
    const alike = index.get(ending);
    if (alike) alike.push(path);
    else index.set(ending, [path]);
  };
  for (const path of paths) {
    const key = matchingKey(path);
    byKey.set(key, path);
    for (const ending of endingsOf(key)) {
      add(byEnding, ending, path);
      add(byEndingInAnyCase, ending.toLowerCase(), path);
    }
  }
  return (folder, filename) => {
    const key = matchingKey(filename);
    const next = byKey.get(matchingKey(folder) + key);
    if (next) return { path: next };
    return longestEnding(byEnding, key) ?? longestEnding(byEndingInAnyCase, key.toLowerCase());
  };
}

/** The image an annotation file names that is not taken: not in the archive, or not told apart from others. */
function missingImage(path: string, found: FoundFile | undefined): ArchiveImage {
  return { path, file: null, labelName: null, missing: true, ...(found && 'sameName' in found ? found : {}) };
}

/** Adds a label name unless the list has it already, compared as the project compares names (labelNameKey). */
function addLabelName(labelNames: string[], name: string): void {
  const key = labelNameKey(name);
  if (!labelNames.some((known) => labelNameKey(known) === key)) labelNames.push(name);
}

const YES_CELL = /^(true|yes)$/i;
const NO_CELL = /^(false|no)?$/i;

/** Whether a CSV cell gives its column's label: 1 (1.0 as pandas writes it), true or yes; 0, false, no or empty. */
function cellSays(cell: string): boolean | null {
  const text = cell.trim();
  if (YES_CELL.test(text)) return true;
  if (NO_CELL.test(text)) return false;
  const number = Number(text);
  return number === 1 ? true : number === 0 ? false : null;
}

/** The SHA-256 of a file, read a piece at a time. */
async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * A picture in several label folders (a multilabel dataset laid out in folders) gets the labels of all of them, on
 * every copy: the intake takes the first copy in and answers the others as its duplicates, whose labels it ignores.
 */
async function labelCopiesAlike(images: readonly ArchiveImage[]): Promise<void> {
  const byFolder = images.filter((image) => image.file !== null && image.labelName && !image.labelNames);
  if (new Set(byFolder.map((image) => labelNameKey(image.labelName!))).size < 2) return;
  // Only pictures of the same size can be copies: those alone are read to be hashed.
  const bySize = new Map<number, ArchiveImage[]>();
  for (const image of byFolder) {
    const { size } = await stat(image.file!);
    const sameSize = bySize.get(size);
    if (sameSize) sameSize.push(image);
    else bySize.set(size, [image]);
  }
  const copies = new Map<string, ArchiveImage[]>();
  for (const sameSize of bySize.values()) {
    if (sameSize.length < 2) continue;
    for (const image of sameSize) {
      const sha256 = await sha256Of(image.file!);
      const alike = copies.get(sha256);
      if (alike) alike.push(image);
      else copies.set(sha256, [image]);
    }
  }
  for (const alike of copies.values()) {
    const labelNames: string[] = [];
    for (const image of alike) addLabelName(labelNames, image.labelName!);
    if (labelNames.length < 2) continue;
    for (const image of alike) {
      image.labelName = null;
      image.labelNames = labelNames;
    }
  }
}

/**
 * Multilabel: the classification layout (one folder per label, split folders), and CSV files whose first column is
 * `filename` followed by one column per label holding 1 or 0 (Roboflow's multi-label `_classes.csv`): each row gives
 * the image of that name, next to the CSV (or anywhere by file name), the labels of its 1 columns. A CSV inside a
 * `train/`, `valid/` or `test/` folder sets the split of its images. A row whose image is not in the archive is
 * reported missing.
 */
export async function readMultilabelArchive(
  zip: ZipSource,
  limits: DatasetArchiveLimits,
  imagesDirectory: string,
): Promise<DatasetArchive> {
  const { entries, ignored } = await extract(zip, limits, imagesDirectory);
  const byFolders = classificationImages(entries);
  const csvPaths = [...entries.keys()].filter((path) => CSV_FILE.test(path)).sort();
  const foldersOnly = async (): Promise<DatasetArchive> => {
    await labelCopiesAlike(byFolders.images);
    return { ...byFolders, ignored: ignored + (entries.size - byFolders.images.length), unmatchedAnnotations: [] };
  };
  if (!csvPaths.length) return foldersOnly();

  const byPath = new Map(byFolders.images.map((image) => [image.path, image]));
  const find = fileFinder(byPath.keys());
  const labelNames: string[] = [];
  const addLabel = (name: string) => addLabelName(labelNames, name);
  const missing: ArchiveImage[] = [];
  let tables = 0;
  for (const csvPath of csvPaths) {
    const [header, ...rows] = csvRecords(csvPath, entries.get(csvPath)?.bytes ?? new Uint8Array(0));
    if (!header || header[0].trim().toLowerCase() !== 'filename') continue;
    tables++;
    const columns = header.slice(1).map((name) => composed(name.trim()));
    if (columns.some((name) => name === '')) {
      throw DomainError.validation(DatasetErrors.INVALID_ARCHIVE, `${csvPath}: every label column needs a name.`);
    }
    columns.forEach(addLabel);
    const { folder, split } = annotationFolder(csvPath);
    for (const row of rows) {
      const filename = row[0].trim();
      const labels = columns.filter((column, index) => {
        const cell = row[index + 1] ?? '';
        const says = cellSays(cell);
        if (says === null) {
          throw DomainError.validation(
            DatasetErrors.INVALID_ARCHIVE,
            `${csvPath}: the row of ${filename} has ${JSON.stringify(cell)} under "${column}", which is neither 1 ` +
              'nor 0: write 1 where the image has the label, 0 or nothing where it has not.',
          );
        }
        return says;
      });
      const found = find(folder, filename);
      const image = found && 'path' in found ? byPath.get(found.path) : undefined;
      if (!image) {
        missing.push(missingImage(folder + filename, found));
        continue;
      }
      image.labelName = null;
      image.labelNames = labels;
      if (split) image.split = split;
    }
  }
  if (tables === 0) {
    // A CSV beside pictures no folder labels was meant to label them: say why it did not, rather than import none.
    if (byFolders.images.every((image) => !image.labelName)) {
      throw DomainError.validation(
        DatasetErrors.INVALID_ARCHIVE,
        `${csvPaths.join(', ')} ${csvPaths.length > 1 ? 'do' : 'does'} not start with a "filename" column, and no ` +
          'folder names a label: label the images with a CSV whose header is filename,<label>,<label>,… and a row ' +
          'per image (1 where it has the label), or put them in a folder per label.',
      );
    }
    return foldersOnly();
  }
  await labelCopiesAlike(byFolders.images);
  for (const image of byFolders.images) {
    if (image.labelNames) image.labelNames.forEach(addLabel);
    else if (image.labelName) addLabel(image.labelName);
  }
  return {
    images: [...byFolders.images, ...missing],
    labelNames,
    ignored: ignored + (entries.size - byFolders.images.length - tables),
    unmatchedAnnotations: [],
  };
}

interface CocoFile {
  images?: { id: number | string; file_name: string; width?: number; height?: number }[];
  annotations?: { id?: number | string; image_id: number | string; category_id: number | string; bbox?: unknown }[];
  categories?: { id: number | string; name: string }[];
}

/** An image a COCO file lists, with the boxes taken from its annotations (in fractions of the image). */
export interface CocoImage {
  id: number | string;
  fileName: string;
  width?: number;
  height?: number;
  regions: ArchiveRegion[];
  /** Its annotations that were dropped or changed. */
  issues: AnnotationIssue[];
}

/** What one COCO JSON file says. */
export interface CocoAnnotations {
  images: CocoImage[];
  /** Label names used, in first-seen order. */
  labelNames: string[];
  /** Annotations dropped because they name no image of the file. */
  unmatched: AnnotationIssue[];
}

/**
 * Reads one COCO JSON file (`images`, `annotations` with pixel `bbox` [x, y, w, h], `categories`): boxes outside the
 * image are cut to it, and boxes without area, too small, of unknown categories or images are dropped, each one
 * reported. `invalid` makes the error for a file that is not COCO (its message says what to fix).
 */
export function readCocoFile(
  jsonPath: string,
  bytes: Uint8Array,
  invalid: (message: string) => DomainError,
): CocoAnnotations {
  return readCoco(jsonPath, parsedJson(jsonPath, bytes, invalid), invalid);
}

function parsedJson(jsonPath: string, bytes: Uint8Array, invalid: (message: string) => DomainError): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw invalid(`${jsonPath} is not valid JSON.`);
  }
}

/**
 * Whether a JSON file of an archive is meant as COCO: an object with `images` or `categories`. Others beside it
 * (Roboflow's README.dataset.json, a meta.json, per-image sidecars of Label Studio or LabelMe) are passed over.
 */
function meantAsCoco(json: unknown): boolean {
  return (
    typeof json === 'object' && json !== null && !Array.isArray(json) && ('images' in json || 'categories' in json)
  );
}

function readCoco(jsonPath: string, json: unknown, invalid: (message: string) => DomainError): CocoAnnotations {
  const coco = json as CocoFile;
  if (typeof coco !== 'object' || coco === null || !Array.isArray(coco.images) || !Array.isArray(coco.categories)) {
    throw invalid(`${jsonPath} is not COCO: it needs "images" and "categories".`);
  }
  const labelNames: string[] = [];
  const unmatched: AnnotationIssue[] = [];
  const categories = new Map(
    coco.categories.map((category) => [String(category.id), composed(String(category.name).trim())]),
  );
  const imagesById = new Map(coco.images.map((image) => [String(image.id), image]));
  const boxes = new Map<string, ArchiveRegion[]>();
  const issues = new Map<string, AnnotationIssue[]>();
  (coco.annotations ?? []).forEach((annotation, index) => {
    const issue = (code: AnnotationIssueCode, action: AnnotationIssue['action'], message: string): AnnotationIssue => ({
      file: jsonPath,
      annotation: index,
      ...(annotation.id !== undefined ? { annotationId: annotation.id } : {}),
      code,
      action,
      message,
    });
    const image = imagesById.get(String(annotation.image_id));
    if (!image) {
      unmatched.push(
        issue(
          'UNKNOWN_IMAGE_ID',
          'dropped',
          `It names image id ${JSON.stringify(annotation.image_id)}, which ${jsonPath} does not list.`,
        ),
      );
      return;
    }
    const key = String(image.id);
    const report = (found: AnnotationIssue) => issues.set(key, [...(issues.get(key) ?? []), found]);
    const name = categories.get(String(annotation.category_id));
    if (!name) {
      report(
        issue(
          'UNKNOWN_CATEGORY_ID',
          'dropped',
          `It names category id ${JSON.stringify(annotation.category_id)}, which ${jsonPath} does not list.`,
        ),
      );
      return;
    }
    const bbox = Array.isArray(annotation.bbox) ? annotation.bbox.map(Number) : [];
    if (bbox.length !== 4 || !bbox.every(Number.isFinite)) {
      report(issue('INVALID_BBOX', 'dropped', 'Its bbox is not four finite numbers [x, y, width, height] in pixels.'));
      return;
    }
    const { width, height } = image;
    if (!width || !height) throw invalid(`${jsonPath}: image ${image.file_name} needs its width and height.`);
    const [bx, by, bw, bh] = bbox;
    const x0 = Math.max(0, Math.min(width, bx));
    const y0 = Math.max(0, Math.min(height, by));
    const x1 = Math.max(0, Math.min(width, bx + bw));
    const y1 = Math.max(0, Math.min(height, by + bh));
    if (!(x1 > x0 && y1 > y0)) {
      report(
        issue('BOX_EMPTY', 'dropped', `Its bbox [${bbox.join(', ')}] has no area inside the ${width}×${height} image.`),
      );
      return;
    }
    const region = {
      labelName: name,
      x: x0 / width,
      y: y0 / height,
      width: (x1 - x0) / width,
      height: (y1 - y0) / height,
    };
    if (region.width < MIN_REGION_SIZE || region.height < MIN_REGION_SIZE) {
      report(
        issue(
          'BOX_TOO_SMALL',
          'dropped',
          `Its bbox [${bbox.join(', ')}] is smaller than ${MIN_REGION_SIZE} of the image.`,
        ),
      );
      return;
    }
    if (x0 !== bx || y0 !== by || x1 !== bx + bw || y1 !== by + bh) {
      report(
        issue(
          'BOX_CLAMPED',
          'changed',
          `Its bbox [${bbox.join(', ')}] reaches outside the ${width}×${height} image: cut to [${x0}, ${y0}, ${x1 - x0}, ${y1 - y0}].`,
        ),
      );
    }
    addLabelName(labelNames, name);
    boxes.set(key, [...(boxes.get(key) ?? []), region]);
  });
  return {
    images: coco.images.map((image) => ({
      id: image.id,
      fileName: String(image.file_name),
      ...(image.width && image.height ? { width: Number(image.width), height: Number(image.height) } : {}),
      regions: boxes.get(String(image.id)) ?? [],
      issues: issues.get(String(image.id)) ?? [],
    })),
    labelNames,
    unmatched,
  };
}

/**
 * Detection, COCO: one or more COCO JSON files (see readCocoFile) and the images they name, found next to the JSON
 * file or anywhere by file name. A JSON file inside a `train/`, `valid/` or `test/` folder (as Roboflow exports) sets
 * the split of its images. Other JSON files (see meantAsCoco) are ignored, as files of other kinds are.
 */
export async function readCocoArchive(
  zip: ZipSource,
  limits: DatasetArchiveLimits,
  imagesDirectory: string,
): Promise<DatasetArchive> {
  const { entries, ignored } = await extract(zip, limits, imagesDirectory);
  const invalid = (message: string) => DomainError.validation(DatasetErrors.INVALID_ARCHIVE, message);
  const jsonFiles = [...entries.keys()]
    .filter((path) => JSON_FILE.test(path))
    .sort()
    .map((path) => ({ path, json: parsedJson(path, entries.get(path)?.bytes ?? new Uint8Array(0), invalid) }));
  const cocoFiles = jsonFiles.filter(({ json }) => meantAsCoco(json));
  if (!cocoFiles.length) {
    const others = jsonFiles.map(({ path }) => path);
    throw invalid(
      'A detection archive needs a COCO JSON file (an object with "images", "annotations" and "categories")' +
        (others.length ? `; ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} not COCO.` : '.'),
    );
  }
  const find = fileFinder(entries.keys());
  const labelNames: string[] = [];
  const images: ArchiveImage[] = [];
  const used = new Set<string>();
  const unmatchedAnnotations: AnnotationIssue[] = [];
  for (const { path: jsonPath, json } of cocoFiles) {
    const coco = readCoco(jsonPath, json, invalid);
    for (const name of coco.labelNames) addLabelName(labelNames, name);
    unmatchedAnnotations.push(...coco.unmatched);
    const { folder, split } = annotationFolder(jsonPath);
    for (const image of coco.images) {
      const found = find(folder, image.fileName);
      const path = found && 'path' in found ? found.path : null;
      if (path && used.has(path)) {
        const dropped = image.regions.length;
        const listed = images.find((taken) => taken.path === path)!;
        listed.annotationIssues = [
          ...(listed.annotationIssues ?? []),
          ...image.issues,
          ...(dropped
            ? [
                {
                  file: jsonPath,
                  annotation: -1,
                  code: 'IMAGE_LISTED_TWICE' as const,
                  action: 'dropped' as const,
                  message: `${jsonPath} lists this file again as image id ${JSON.stringify(image.id)}: its ${dropped} box(es) there were not taken.`,
                },
              ]
            : []),
        ];
        continue;
      }
      const reported = image.issues.length ? { annotationIssues: image.issues } : {};
      if (!path) {
        images.push({ ...missingImage(folder + image.fileName, found), ...reported });
        continue;
      }
      used.add(path);
      images.push({
        path,
        file: entries.get(path)?.file ?? null,
        labelName: null,
        regions: image.regions,
        split,
        ...reported,
        ...(image.width && image.height
          ? { annotatedSize: { file: jsonPath, width: image.width, height: image.height } }
          : {}),
      });
    }
  }
  return {
    images,
    labelNames,
    ignored: ignored + (entries.size - used.size - cocoFiles.length),
    unmatchedAnnotations,
  };
}
