import { describe, expect, it } from 'vitest';
import type { ImageView } from '../read-models/images/image.view.js';
import { analyzeDataset } from './dataset-analysis.js';

const cat = { id: 'l-cat', name: 'cat' };
const dog = { id: 'l-dog', name: 'dog' };
const car = { id: 'l-car', name: 'car' };
let counter = 0;

function image(overrides: Partial<ImageView> = {}): ImageView {
  counter += 1;
  return {
    id: `i${counter}`,
    projectId: 'p1',
    filename: `i${counter}.png`,
    width: 32,
    height: 16,
    format: 'png',
    bytes: 100,
    sha256: String(counter).padStart(64, '0'),
    dhash: counter.toString(16).padStart(16, '1'),
    labelId: null,
    labelSet: [],
    regions: [],
    labeled: false,
    labelIds: [],
    split: 'train',
    metadata: {},
    metadataEntries: [],
    included: true,
    uploadedAt: '2026-01-01T00:00:00.000Z',
    seq: counter,
    revision: 0,
    ...overrides,
  };
}
const many = (n: number, overrides: Partial<ImageView>) => Array.from({ length: n }, () => image(overrides));
const classification = { type: 'classification' as const, labels: [cat, dog] };

describe('dataset analysis', () => {
  it('is ready for classification with two labels of five included train images each', () => {
    const analysis = analyzeDataset(classification, [...many(5, { labelId: cat.id }), ...many(5, { labelId: dog.id })]);
    expect(analysis).toMatchObject({ ready: true, problems: [], warnings: [], imageCount: 10, labeledCount: 10 });
    expect(analysis.perLabel).toEqual([
      { label: cat, count: 5, trainCount: 5 },
      { label: dog, count: 5, trainCount: 5 },
    ]);
  });

  it('does not count excluded, validation or test images toward the minimum', () => {
    const images = [
      ...many(4, { labelId: cat.id }),
      image({ labelId: cat.id, included: false }),
      image({ labelId: cat.id, split: 'validation' }),
      ...many(5, { labelId: dog.id }),
    ];
    const analysis = analyzeDataset(classification, images);
    expect(analysis.ready).toBe(false);
    expect(analysis.problems).toEqual([
      { code: 'TOO_FEW_IMAGES', message: expect.stringContaining('"cat" has 4'), label: cat, count: 4, required: 5 },
    ]);
    expect(analysis).toMatchObject({ excludedCount: 1, splits: { train: 10, validation: 1, test: 0 } });
  });

  it('needs two labels for classification and one for detection', () => {
    expect(
      analyzeDataset({ type: 'classification', labels: [cat] }, many(5, { labelId: cat.id })).problems.map(
        (p) => p.code,
      ),
    ).toEqual(['TOO_FEW_LABELS']);
    expect(analyzeDataset({ type: 'detection', labels: [] }, []).problems.map((p) => p.code)).toEqual([
      'TOO_FEW_LABELS',
    ]);
  });

  it('needs fifteen boxes per label in included train images for detection', () => {
    const box = { labelId: car.id, x: 0, y: 0, width: 0.5, height: 0.5 };
    const project = { type: 'detection' as const, labels: [car] };
    const fourteen = analyzeDataset(project, [
      ...many(7, { regions: [box, box] }),
      image({ regions: [box], included: false }),
    ]);
    expect(fourteen.problems).toEqual([expect.objectContaining({ code: 'TOO_FEW_BOXES', count: 14, required: 15 })]);
    expect(fourteen.perLabel).toEqual([{ label: car, count: 8, trainCount: 7, boxes: 15, trainBoxes: 14 }]);
    expect(analyzeDataset(project, many(5, { regions: [box, box, box] })).ready).toBe(true);
  });

  it('warns about class imbalance, near-duplicates and many unlabeled images', () => {
    const images = [
      ...many(16, { labelId: cat.id }),
      ...many(5, { labelId: dog.id }),
      image({ dhash: 'abcdef0123456789', filename: 'a.png' }),
      image({ dhash: 'abcdef0123456789', filename: 'a-copy.jpg' }),
      ...many(20, {}),
    ];
    const analysis = analyzeDataset(classification, images);
    expect(analysis.ready).toBe(true);
    expect(analysis.warnings.map((w) => w.code)).toEqual(['CLASS_IMBALANCE', 'DUPLICATES', 'MANY_UNLABELED']);
    expect(analysis.duplicates).toEqual({
      count: 1,
      groups: [
        {
          images: [expect.objectContaining({ filename: 'a.png' }), expect.objectContaining({ filename: 'a-copy.jpg' })],
        },
      ],
    });
  });

  it('never takes flat pictures, whose hash is all zeros, for duplicates', () => {
    const analysis = analyzeDataset(classification, many(3, { dhash: '0'.repeat(16) }));
    expect(analysis.duplicates.count).toBe(0);
  });

  it('describes sizes and formats', () => {
    const analysis = analyzeDataset(classification, [
      image({ width: 10, height: 100, format: 'jpeg' }),
      image({ width: 300, height: 20 }),
      image({ width: 40, height: 3000 }),
      image({ width: 50, height: 60 }),
    ]);
    expect(analysis.imageSizes.width).toEqual({ min: 10, median: 45, max: 300 });
    expect(analysis.imageSizes.height).toEqual({ min: 20, median: 80, max: 3000 });
    expect(analysis.imageSizes.histogram.filter((b) => b.count)).toEqual([
      { upTo: 64, count: 1 },
      { upTo: 128, count: 1 },
      { upTo: 512, count: 1 },
      { upTo: null, count: 1 },
    ]);
    expect(analysis.formats).toEqual({ jpeg: 1, png: 3 });
  });

  it('ignores labels no longer in the project', () => {
    const analysis = analyzeDataset(classification, many(3, { labelId: 'removed' }));
    expect(analysis).toMatchObject({ labeledCount: 0, unlabeledCount: 3 });
  });
  describe('with a negative label', () => {
    const none = { id: 'l-none', name: 'none', negative: true };
    const withNone = (type: 'classification' | 'multilabel') => ({ type, labels: [cat, none] });

    it('counts it as a class of a classification project once it has training images', () => {
      const analysis = analyzeDataset(withNone('classification'), [
        ...many(5, { labelId: cat.id }),
        ...many(5, { labelId: none.id }),
      ]);
      expect(analysis).toMatchObject({ ready: true, problems: [] });
    });

    it('asks a classification project with one label and an empty negative one for images of either', () => {
      const analysis = analyzeDataset(withNone('classification'), many(5, { labelId: cat.id }));
      expect(analysis.ready).toBe(false);
      expect(analysis.problems).toEqual([
        {
          code: 'TOO_FEW_LABELS',
          message:
            'A classification project needs at least 2 labels (its negative label counts once it has training images); it has 1.',
          count: 1,
          required: 2,
        },
      ]);
    });

    it('asks for as many images of the negative label as of any class in a classification project', () => {
      const analysis = analyzeDataset(withNone('classification'), [
        ...many(5, { labelId: cat.id }),
        ...many(2, { labelId: none.id }),
      ]);
      expect(analysis.problems).toEqual([
        {
          code: 'TOO_FEW_IMAGES',
          message: expect.stringContaining('"none" has 2'),
          label: { id: none.id, name: 'none' },
          count: 2,
          required: 5,
        },
      ]);
    });

    it('needs no images of it and does not count it in a multilabel project', () => {
      const labels = { type: 'multilabel' as const, labels: [cat, dog, none] };
      const ready = analyzeDataset(labels, [...many(5, { labelSet: [cat.id] }), ...many(5, { labelSet: [dog.id] })]);
      expect(ready).toMatchObject({ ready: true, problems: [] });
      const oneLabel = analyzeDataset(withNone('multilabel'), [
        ...many(5, { labelSet: [cat.id] }),
        ...many(5, { labelSet: [none.id] }),
      ]);
      expect(oneLabel.problems).toEqual([
        expect.objectContaining({
          code: 'TOO_FEW_LABELS',
          message: expect.stringContaining('besides its negative label; it has 1'),
        }),
      ]);
    });
  });
});
