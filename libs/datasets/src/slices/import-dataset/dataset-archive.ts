import { unzipSync } from 'fflate';
import { DomainError } from '../../../../core/src/index.js';
import { DatasetErrors } from '../../domain/dataset-errors.js';
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
  /** null when over the per-file size limit (not extracted). */
  bytes: Buffer | null;
  labelName: string | null;
  regions?: ArchiveRegion[];
  split?: Split;
  /** Named by the annotations but not in the archive. */
  missing?: boolean;
}

export interface DatasetArchive {
  images: ArchiveImage[];
  /** Label names used, in first-seen order. */
  labelNames: string[];
  /** Entries that are neither images nor the annotation file (README, CSV, …). */
  ignored: number;
}

export interface ArchiveLimits {
  maxFileBytes: number;
  maxFiles: number;
  /** All extracted bytes together (zip-bomb guard). */
  maxTotalBytes: number;
}

const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;
const SPLIT_FOLDERS: Record<string, Split> = {
  train: 'train',
  training: 'train',
  val: 'validation',
  valid: 'validation',
  validation: 'validation',
  test: 'test',
  testing: 'test',
};

function isJunk(path: string): boolean {
  return path.endsWith('/') || path.split('/').some((segment) => segment.startsWith('.') || segment === '__MACOSX');
}

function extract(zip: Uint8Array, limits: ArchiveLimits): { entries: Map<string, Buffer | null>; ignored: number } {
  const sizes = new Map<string, number>();
  let total = 0;
  let ignored = 0;
  let files;
  try {
    files = unzipSync(zip, {
      filter: (file) => {
        if (isJunk(file.name)) return false;
        const wanted = IMAGE_EXTENSIONS.test(file.name) || /\.json$/i.test(file.name);
        if (!wanted) {
          ignored += 1;
          return false;
        }
        sizes.set(file.name, file.originalSize);
        if (sizes.size > limits.maxFiles) {
          throw new DomainError('too-large', DatasetErrors.TOO_MANY_FILES, `The archive holds more than ${limits.maxFiles} images.`, {
            maxFiles: limits.maxFiles,
          });
        }
        const limit = /\.json$/i.test(file.name) ? limits.maxTotalBytes : limits.maxFileBytes;
        if (file.originalSize > limit) return false;
        total += file.originalSize;
        if (total > limits.maxTotalBytes) {
          throw new DomainError('too-large', DatasetErrors.REQUEST_TOO_LARGE, `The archive unpacks to more than ${limits.maxTotalBytes} bytes.`, {
            maxTotalBytes: limits.maxTotalBytes,
          });
        }
        return true;
      },
    });
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw DomainError.validation(DatasetErrors.INVALID_ARCHIVE, `The archive is not a readable zip file: ${(error as Error).message}.`);
  }
  const entries = new Map<string, Buffer | null>();
  for (const name of sizes.keys()) {
    const bytes = files[name];
    entries.set(name, bytes ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : null);
  }
  return { entries, ignored };
}

/** The folder all paths share (e.g. `dataset/`), so `dataset/cat/1.png` reads as `cat/1.png`. */
function commonRoot(paths: readonly string[]): string {
  if (!paths.length) return '';
  const first = paths[0].split('/');
  if (first.length < 2) return '';
  const root = `${first[0]}/`;
  return paths.every((path) => path.startsWith(root) && path.split('/').length > 2) ? root : '';
}

/**
 * Classification, the common layout: one folder per class (`cat/1.jpg`), optionally under split folders
 * (`train/cat/1.jpg`, `val/dog/2.jpg`, `test/…`) and a common top folder. Images at the top are unlabeled.
 */
export function readClassificationArchive(zip: Uint8Array, limits: ArchiveLimits): DatasetArchive {
  const { entries, ignored } = extract(zip, limits);
  const imagePaths = [...entries.keys()].filter((path) => IMAGE_EXTENSIONS.test(path)).sort();
  const root = commonRoot(imagePaths);
  const labelNames: string[] = [];
  const images = imagePaths.map((path): ArchiveImage => {
    const segments = path.slice(root.length).split('/');
    const folders = segments.slice(0, -1);
    let split: Split | undefined;
    if (folders.length >= 1 && SPLIT_FOLDERS[folders[0].toLowerCase()] && folders.length >= 2) {
      split = SPLIT_FOLDERS[folders[0].toLowerCase()];
      folders.shift();
    }
    const labelName = folders.length ? folders[folders.length - 1].trim() : null;
    if (labelName && !labelNames.some((known) => known.toLowerCase() === labelName.toLowerCase())) labelNames.push(labelName);
    return { path, bytes: entries.get(path) ?? null, labelName: labelName || null, split };
  });
  return { images, labelNames, ignored: ignored + (entries.size - imagePaths.length) };
}

interface CocoFile {
  images?: { id: number | string; file_name: string; width?: number; height?: number }[];
  annotations?: { image_id: number | string; category_id: number | string; bbox?: number[] }[];
  categories?: { id: number | string; name: string }[];
}

/**
 * Detection, COCO: one or more COCO JSON files (`images`, `annotations` with pixel `bbox` [x, y, w, h],
 * `categories`) and the images they name, found next to the JSON file or anywhere by file name. A JSON file
 * inside a `train/`, `valid/` or `test/` folder (as Roboflow exports) sets the split of its images.
 */
export function readCocoArchive(zip: Uint8Array, limits: ArchiveLimits): DatasetArchive {
  const { entries, ignored } = extract(zip, limits);
  const jsonPaths = [...entries.keys()].filter((path) => /\.json$/i.test(path)).sort();
  if (!jsonPaths.length) {
    throw DomainError.validation(DatasetErrors.INVALID_ARCHIVE, 'A detection archive needs a COCO JSON file (images, annotations, categories).');
  }
  const byBasename = new Map<string, string>();
  for (const path of entries.keys()) byBasename.set(path.split('/').pop()!, path);
  const labelNames: string[] = [];
  const images: ArchiveImage[] = [];
  const used = new Set<string>();
  for (const jsonPath of jsonPaths) {
    let coco: CocoFile;
    try {
      coco = JSON.parse(entries.get(jsonPath)?.toString('utf8') ?? '') as CocoFile;
    } catch {
      throw DomainError.validation(DatasetErrors.INVALID_ARCHIVE, `${jsonPath} is not valid JSON.`);
    }
    if (!Array.isArray(coco.images) || !Array.isArray(coco.categories)) {
      throw DomainError.validation(DatasetErrors.INVALID_ARCHIVE, `${jsonPath} is not COCO: it needs "images" and "categories".`);
    }
    const folder = jsonPath.includes('/') ? jsonPath.slice(0, jsonPath.lastIndexOf('/') + 1) : '';
    const folderName = folder.split('/').filter(Boolean).pop()?.toLowerCase();
    const split = folderName ? SPLIT_FOLDERS[folderName] : undefined;
    const categories = new Map(coco.categories.map((category) => [String(category.id), String(category.name).trim()]));
    const imagesById = new Map(coco.images.map((image) => [String(image.id), image]));
    const boxes = new Map<string, ArchiveRegion[]>();
    for (const annotation of coco.annotations ?? []) {
      const name = categories.get(String(annotation.category_id));
      const image = imagesById.get(String(annotation.image_id));
      if (!name || !image || !Array.isArray(annotation.bbox) || annotation.bbox.length !== 4) continue;
      const { width, height } = image;
      if (!width || !height) {
        throw DomainError.validation(DatasetErrors.INVALID_ARCHIVE, `${jsonPath}: image ${image.file_name} needs its width and height.`);
      }
      const [bx, by, bw, bh] = annotation.bbox.map(Number);
      // Pixel boxes a rounding step outside the image are clamped to it; boxes without area are dropped.
      const x0 = Math.max(0, Math.min(width, bx));
      const y0 = Math.max(0, Math.min(height, by));
      const x1 = Math.max(0, Math.min(width, bx + bw));
      const y1 = Math.max(0, Math.min(height, by + bh));
      if (!(x1 > x0 && y1 > y0)) continue;
      if (!labelNames.some((known) => known.toLowerCase() === name.toLowerCase())) labelNames.push(name);
      const key = String(image.id);
      boxes.set(key, [
        ...(boxes.get(key) ?? []),
        { labelName: name, x: x0 / width, y: y0 / height, width: (x1 - x0) / width, height: (y1 - y0) / height },
      ]);
    }
    for (const image of coco.images) {
      const path = entries.has(folder + image.file_name)
        ? folder + image.file_name
        : (byBasename.get(String(image.file_name).split('/').pop()!) ?? null);
      if (!path || used.has(path)) {
        if (!path) images.push({ path: folder + image.file_name, bytes: null, labelName: null, missing: true });
        continue;
      }
      used.add(path);
      images.push({ path, bytes: entries.get(path) ?? null, labelName: null, regions: boxes.get(String(image.id)) ?? [], split });
    }
  }
  const imageEntries = [...entries.keys()].filter((path) => IMAGE_EXTENSIONS.test(path));
  return { images, labelNames, ignored: ignored + imageEntries.filter((path) => !used.has(path)).length };
}
