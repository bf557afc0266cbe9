import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateImage } from '../../testing/test-images.js';
import {
  type DatasetArchive,
  type DatasetArchiveLimits,
  readClassificationArchive,
  readCocoArchive,
  readMultilabelArchive,
} from './dataset-archive.js';

const MiB = 1024 * 1024;
const limits: DatasetArchiveLimits = {
  maxFileBytes: 10 * MiB,
  maxFiles: 100,
  archive: { maxTotalBytes: 100 * MiB, maxEntryBytes: 10 * MiB, maxEntries: 1000, maxRatio: 1000 },
};

/** `café` as macOS names files (decomposed: e + combining acute) and as it is typed (composed). */
const CAFE_DECOMPOSED = 'cafe\u0301';
const CAFE_COMPOSED = 'caf\u00e9';

let imagesDirectory: string;
beforeEach(async () => {
  imagesDirectory = await mkdtemp(join(tmpdir(), 'dataset-archive-'));
});
afterEach(async () => {
  await rm(imagesDirectory, { recursive: true, force: true });
});

async function zipOf(files: Record<string, Uint8Array | string>): Promise<Buffer> {
  const entries = Object.fromEntries(
    Object.entries(files).map(([path, content]) => [
      path,
      typeof content === 'string' ? new TextEncoder().encode(content) : content,
    ]),
  );
  return Buffer.from(zipSync(entries));
}

/** Each image's path, label(s) and split, as a user reads the import's outcome. */
function outcome(archive: DatasetArchive) {
  return archive.images.map(({ path, labelName, labelNames, split, missing }) => ({
    path,
    ...(labelName ? { labelName } : {}),
    ...(labelNames ? { labelNames } : {}),
    ...(split ? { split } : {}),
    ...(missing ? { missing } : {}),
  }));
}

describe('dataset archives', () => {
  it('reads a folder named on a Mac (decomposed é) and the same name typed elsewhere as one label', async () => {
    const zip = await zipOf({
      [`${CAFE_DECOMPOSED}/1.png`]: await generateImage(1),
      [`${CAFE_COMPOSED}/2.png`]: await generateImage(2),
    });
    const archive = await readClassificationArchive(zip, limits, imagesDirectory);
    expect(archive.labelNames).toEqual([CAFE_COMPOSED]);
    expect(archive.images.map((image) => image.labelName)).toEqual([CAFE_COMPOSED, CAFE_COMPOSED]);
  });

  it('finds the images a COCO file names with Windows backslashes or in the other Unicode form of a Mac file name', async () => {
    const coco = {
      images: [
        { id: 1, file_name: 'images\\1.png', width: 24, height: 24 },
        { id: 2, file_name: `.\\images\\${CAFE_COMPOSED}.png`, width: 24, height: 24 },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 3, bbox: [0, 0, 12, 12] },
        { id: 2, image_id: 2, category_id: 3, bbox: [12, 12, 12, 12] },
      ],
      categories: [{ id: 3, name: 'cup' }],
    };
    const zip = await zipOf({
      'annotations.json': JSON.stringify(coco),
      'images/1.png': await generateImage(1),
      [`images/${CAFE_DECOMPOSED}.png`]: await generateImage(2),
    });
    const archive = await readCocoArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([{ path: 'images/1.png' }, { path: `images/${CAFE_DECOMPOSED}.png` }]);
    expect(archive.images.map((image) => image.regions?.length)).toEqual([1, 1]);
  });

  it('takes the split folders of a dataset nested in two top folders, as Kaggle downloads are', async () => {
    const zip = await zipOf({
      'chest_xray/chest_xray/train/NORMAL/1.png': await generateImage(1),
      'chest_xray/chest_xray/val/PNEUMONIA/2.png': await generateImage(2),
      'chest_xray/chest_xray/test/NORMAL/3.png': await generateImage(3),
    });
    const archive = await readClassificationArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: 'chest_xray/chest_xray/test/NORMAL/3.png', labelName: 'NORMAL', split: 'test' },
      { path: 'chest_xray/chest_xray/train/NORMAL/1.png', labelName: 'NORMAL', split: 'train' },
      { path: 'chest_xray/chest_xray/val/PNEUMONIA/2.png', labelName: 'PNEUMONIA', split: 'validation' },
    ]);
  });

  it('takes the split of a zip holding one split folder only', async () => {
    const zip = await zipOf({
      'test/cat/1.png': await generateImage(1),
      'test/dog/2.png': await generateImage(2),
    });
    const archive = await readClassificationArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: 'test/cat/1.png', labelName: 'cat', split: 'test' },
      { path: 'test/dog/2.png', labelName: 'dog', split: 'test' },
    ]);
  });

  it('reads a multilabel CSV as Excel saves it: BOM, CRLF, quoted names with commas, blank lines at the end', async () => {
    const csv = '\uFEFFFilename, cat, dog\r\n"a, b.png",1,0\r\n2.png,1,1\r\n\r\n\r\n';
    const zip = await zipOf({
      '_classes.csv': csv,
      'a, b.png': await generateImage(1),
      '2.png': await generateImage(2),
    });
    const archive = await readMultilabelArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: '2.png', labelNames: ['cat', 'dog'] },
      { path: 'a, b.png', labelNames: ['cat'] },
    ]);
    expect(archive.labelNames).toEqual(['cat', 'dog']);
  });

  it('reads a multilabel CSV that Excel in a European locale saved with semicolons', async () => {
    const zip = await zipOf({
      '_classes.csv': 'filename;cat;dog\r\n1.png;1;0\r\n2.png;0;1\r\n',
      '1.png': await generateImage(1),
      '2.png': await generateImage(2),
    });
    const archive = await readMultilabelArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: '1.png', labelNames: ['cat'] },
      { path: '2.png', labelNames: ['dog'] },
    ]);
  });

  it('finds each image a COCO file names by its folders when images of several folders share a file name', async () => {
    // CVAT's layout: annotations/instances_default.json, the images under images/, frames of each video in a folder.
    const coco = {
      images: [
        { id: 1, file_name: 'video1/frame_000001.png', width: 24, height: 24 },
        { id: 2, file_name: 'video2/frame_000001.png', width: 24, height: 24 },
      ],
      annotations: [
        { id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 12, 12] },
        { id: 2, image_id: 2, category_id: 2, bbox: [0, 0, 12, 12] },
      ],
      categories: [
        { id: 1, name: 'car' },
        { id: 2, name: 'bus' },
      ],
    };
    const zip = await zipOf({
      'annotations/instances_default.json': JSON.stringify(coco),
      'images/video1/frame_000001.png': await generateImage(1),
      'images/video2/frame_000001.png': await generateImage(2),
    });
    const archive = await readCocoArchive(zip, limits, imagesDirectory);
    expect(
      archive.images.map(({ path, regions, annotationIssues }) => ({
        path,
        labels: regions?.map((region) => region.labelName),
        annotationIssues,
      })),
    ).toEqual([
      { path: 'images/video1/frame_000001.png', labels: ['car'], annotationIssues: undefined },
      { path: 'images/video2/frame_000001.png', labels: ['bus'], annotationIssues: undefined },
    ]);
  });

  it('reports an image a COCO file names only by a file name several folders of the archive hold, instead of guessing', async () => {
    const coco = {
      images: [{ id: 1, file_name: '1.png', width: 24, height: 24 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 12, 12] }],
      categories: [{ id: 1, name: 'car' }],
    };
    const zip = await zipOf({
      'annotations/coco.json': JSON.stringify(coco),
      'images/a/1.png': await generateImage(1),
      'images/b/1.png': await generateImage(2),
    });
    const archive = await readCocoArchive(zip, limits, imagesDirectory);
    expect(archive.images).toEqual([
      expect.objectContaining({
        path: 'annotations/1.png',
        missing: true,
        sameName: ['images/a/1.png', 'images/b/1.png'],
      }),
    ]);
  });

  it('takes JPEGs saved as .jfif or .jpe (as Windows browsers save them) instead of passing them over', async () => {
    const jpeg = await generateImage(1, { format: 'jpeg' });
    const zip = await zipOf({ 'cat/1.jfif': jpeg, 'cat/2.JPE': jpeg });
    const archive = await readClassificationArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: 'cat/1.jfif', labelName: 'cat' },
      { path: 'cat/2.JPE', labelName: 'cat' },
    ]);
    expect(archive.ignored).toBe(0);
  });

  it('reads a multilabel CSV that Excel on Windows saved in its ANSI code page (Windows-1252)', async () => {
    const csv = Buffer.from('filename,caf\u00e9,th\u00e9\r\nb\u00e9b\u00e9.png,1,0\r\n', 'latin1');
    const zip = await zipOf({ '_classes.csv': csv, [`b\u00e9b\u00e9.png`]: await generateImage(1) });
    const archive = await readMultilabelArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([{ path: 'b\u00e9b\u00e9.png', labelNames: ['caf\u00e9'] }]);
    expect(archive.labelNames).toEqual(['caf\u00e9', 'th\u00e9']);
  });

  it('reads the 1.0 and 0.0 cells pandas writes in a multilabel CSV, and refuses a cell that is neither yes nor no', async () => {
    const images = { '1.png': await generateImage(1), '2.png': await generateImage(2) };
    const pandas = await zipOf({ ...images, '_classes.csv': 'filename,cat,dog\n1.png,1.0,0.0\n2.png,0.0,1.0\n' });
    expect(outcome(await readMultilabelArchive(pandas, limits, imagesDirectory))).toEqual([
      { path: '1.png', labelNames: ['cat'] },
      { path: '2.png', labelNames: ['dog'] },
    ]);
    const unclear = await zipOf({ ...images, '_classes.csv': 'filename,cat,dog\n1.png,1,0\n2.png,maybe,1\n' });
    await expect(
      readMultilabelArchive(unclear, limits, await mkdtemp(join(imagesDirectory, 'again-'))),
    ).rejects.toMatchObject({
      code: 'INVALID_ARCHIVE',
      message: expect.stringContaining('"maybe"'),
    });
  });

  it('refuses a multilabel CSV without its "filename" column beside unlabelled pictures, saying how to write it, and ignores one beside labelled folders', async () => {
    const image = await generateImage(1);
    const unread = await zipOf({ '1.png': image, 'labels.csv': 'image,cat,dog\n1.png,1,0\n' });
    await expect(readMultilabelArchive(unread, limits, imagesDirectory)).rejects.toMatchObject({
      code: 'INVALID_ARCHIVE',
      message: expect.stringContaining('labels.csv does not start with a "filename" column'),
    });
    const extra = await zipOf({ 'cat/1.png': image, 'notes.csv': 'date,count\n2026-12-05,1\n' });
    const archive = await readMultilabelArchive(extra, limits, await mkdtemp(join(imagesDirectory, 'again-')));
    expect(outcome(archive)).toEqual([{ path: 'cat/1.png', labelName: 'cat' }]);
    expect(archive.ignored).toBe(1);
  });

  it("leaves unlabeled the images a split folder holds without a class folder (Kaggle's unlabeled test/), instead of a label 'test'", async () => {
    const zip = await zipOf({
      'train/cat/1.png': await generateImage(1),
      'train/dog/2.png': await generateImage(2),
      'test/3.png': await generateImage(3),
    });
    const archive = await readClassificationArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: 'test/3.png', split: 'test' },
      { path: 'train/cat/1.png', labelName: 'cat', split: 'train' },
      { path: 'train/dog/2.png', labelName: 'dog', split: 'train' },
    ]);
    expect(archive.labelNames).toEqual(['cat', 'dog']);
  });

  it('keeps a class named like a split (train, as in vehicles) in an archive without split folders', async () => {
    const zip = await zipOf({
      'vehicles/train/1.png': await generateImage(1),
      'vehicles/car/2.png': await generateImage(2),
    });
    const archive = await readClassificationArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: 'vehicles/car/2.png', labelName: 'car' },
      { path: 'vehicles/train/1.png', labelName: 'train' },
    ]);
  });

  it('gives a picture a multilabel archive holds in several label folders all their labels, on every copy', async () => {
    const picture = await generateImage(1);
    const zip = await zipOf({
      'cat/1.png': picture,
      'outdoor/cat-in-garden.png': picture,
      'cat/2.png': await generateImage(2),
    });
    const archive = await readMultilabelArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: 'cat/1.png', labelNames: ['cat', 'outdoor'] },
      { path: 'cat/2.png', labelName: 'cat' },
      { path: 'outdoor/cat-in-garden.png', labelNames: ['cat', 'outdoor'] },
    ]);
  });

  it("takes the splits of COCO's own layout, named in the annotation files and image folders (instances_val2017.json)", async () => {
    const cocoOf = (fileName: string) => ({
      images: [{ id: 1, file_name: fileName, width: 24, height: 24 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 12, 12] }],
      categories: [{ id: 1, name: 'car' }],
    });
    const zip = await zipOf({
      'annotations/instances_train2017.json': JSON.stringify(cocoOf('1.png')),
      'annotations/instances_val2017.json': JSON.stringify(cocoOf('2.png')),
      'train2017/1.png': await generateImage(1),
      'val2017/2.png': await generateImage(2),
    });
    const archive = await readCocoArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: 'train2017/1.png', split: 'train' },
      { path: 'val2017/2.png', split: 'validation' },
    ]);
  });

  it("reads Roboflow's COCO export: each split folder's annotations apply to its own images, other JSON files are ignored", async () => {
    // Roboflow numbers images from 0 in each file; the same file name in two folders is two photos.
    const cocoOf = (name: string) => ({
      info: { description: 'Exported from roboflow.com' },
      images: [{ id: 0, file_name: '0001.png', width: 24, height: 24 }],
      annotations: [{ id: 0, image_id: 0, category_id: 1, bbox: [0, 0, 12, 12] }],
      categories: [
        { id: 0, name: 'vehicles', supercategory: 'none' },
        { id: 1, name, supercategory: 'vehicles' },
      ],
    });
    const zip = await zipOf({
      'README.dataset.json': JSON.stringify({ name: 'vehicles', license: 'CC BY 4.0', url: 'https://example.org' }),
      'meta.json': JSON.stringify({ classes: ['car', 'bus'] }),
      'train/_annotations.coco.json': JSON.stringify(cocoOf('car')),
      'train/0001.png': await generateImage(1),
      // A LabelMe sidecar, and a Label Studio task (its `annotations` are not COCO's without images or categories).
      'train/0001.json': JSON.stringify({ version: '5.4.1', shapes: [], imagePath: '0001.png', imageHeight: 24 }),
      'valid/_annotations.coco.json': JSON.stringify(cocoOf('bus')),
      'valid/0001.png': await generateImage(2),
      'valid/task-1.json': JSON.stringify({ id: 1, data: { image: '0001.png' }, annotations: [{ result: [] }] }),
      'label-studio-export.json': JSON.stringify([{ id: 1, data: { image: '0001.png' } }]),
    });
    const archive = await readCocoArchive(zip, limits, imagesDirectory);
    expect(
      archive.images.map(({ path, split, regions }) => ({ path, split, labels: regions?.map((r) => r.labelName) })),
    ).toEqual([
      { path: 'train/0001.png', split: 'train', labels: ['car'] },
      { path: 'valid/0001.png', split: 'validation', labels: ['bus'] },
    ]);
    expect(archive.labelNames).toEqual(['car', 'bus']);
    expect(archive.ignored).toBe(5);
  });

  it('refuses a JSON file of a COCO archive that is meant as COCO but broken, or not JSON, naming it', async () => {
    const coco = JSON.stringify({
      images: [{ id: 1, file_name: '1.png', width: 24, height: 24 }],
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 12, 12] }],
      categories: [{ id: 1, name: 'car' }],
    });
    const image = await generateImage(1);
    const refusal = async (files: Record<string, string>) =>
      readCocoArchive(
        await zipOf({ 'train/_annotations.coco.json': coco, 'train/1.png': image, ...files }),
        limits,
        await mkdtemp(join(imagesDirectory, 'again-')),
      ).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(await refusal({ 'valid/_annotations.coco.json': JSON.stringify({ images: [] }) })).toMatchObject({
      code: 'INVALID_ARCHIVE',
      message: 'valid/_annotations.coco.json is not COCO: it needs "images" and "categories".',
    });
    expect(await refusal({ 'valid/_annotations.coco.json': '{"images": [], "categories": [' })).toMatchObject({
      code: 'INVALID_ARCHIVE',
      message: 'valid/_annotations.coco.json is not valid JSON.',
    });
    const noCoco = await zipOf({ '1.png': image, 'meta.json': '{"classes": ["car"]}' });
    await expect(readCocoArchive(noCoco, limits, imagesDirectory)).rejects.toMatchObject({
      code: 'INVALID_ARCHIVE',
      message: expect.stringContaining('meta.json is not COCO'),
    });
  });

  it("leaves unlabeled the images of split folders without class folders (Kaggle's train/ beside a labels CSV), not labeled 'train'", async () => {
    const zip = await zipOf({
      'train/1.png': await generateImage(1),
      'test/2.png': await generateImage(2),
      'train_labels.csv': 'id,label\n1,0\n',
    });
    const archive = await readClassificationArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([
      { path: 'test/2.png', split: 'test' },
      { path: 'train/1.png', split: 'train' },
    ]);
    expect(archive.labelNames).toEqual([]);
  });

  it('finds the image a multilabel CSV names in another case, as a table typed on Windows does', async () => {
    const zip = await zipOf({ '_classes.csv': 'filename,cat\nimg_1.png,1\n', 'IMG_1.PNG': await generateImage(1) });
    const archive = await readMultilabelArchive(zip, limits, imagesDirectory);
    expect(outcome(archive)).toEqual([{ path: 'IMG_1.PNG', labelNames: ['cat'] }]);
  });
});
