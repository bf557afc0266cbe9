import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backend/backend-selection.js';
import { tinyBackboneClassifierConfig } from '../testing/tiny-backbone.js';
import { barsDataset } from '../testing/synthetic-images.js';
import { train } from './training-loop.js';
import type { PreparationReport, TrainingConfig, TrainingDataset } from './training-types.js';

/** The reports of each phase, in the order the phases ran. */
async function preparationOf(dataset: TrainingDataset, config: Partial<TrainingConfig>) {
  const reports: PreparationReport[] = [];
  let reportsBeforeFirstBatch: number | undefined;
  const result = await train(dataset, config, {
    onPreparation: (report) => void reports.push(report),
    onBatchEnd: () => void (reportsBeforeFirstBatch ??= reports.length),
  });
  return { reports, result, reportsBeforeFirstBatch };
}

describe('progress before the first epoch', () => {
  beforeAll(async () => {
    await selectBackend('cpu');
  });

  it('reports decoding image by image, then the embeddings computed batch by batch, each phase from 0 to its total', async () => {
    const { reports, result, reportsBeforeFirstBatch } = await preparationOf(
      barsDataset(40, 1),
      await tinyBackboneClassifierConfig(1),
    );

    expect(reportsBeforeFirstBatch).toBe(reports.length);
    expect([...new Set(reports.map((report) => report.phase))]).toEqual(['decoding', 'embedding']);
    const decoding = reports.filter((report) => report.phase === 'decoding');
    expect(decoding.map((report) => report.done)).toEqual(Array.from({ length: 41 }, (_, done) => done));
    expect(decoding.every((report) => report.total === 40 && report.cached === 0)).toBe(true);
    const embedding = reports.filter((report) => report.phase === 'embedding');
    // 32 training images in 4 views and 8 validation images plain, none cached.
    expect(embedding[0]).toMatchObject({ done: 0, total: 32 * 4 + 8, cached: 0 });
    expect(embedding[embedding.length - 1]).toMatchObject({ done: 32 * 4 + 8, total: 32 * 4 + 8 });
    expect(embedding.length).toBeGreaterThan(2);
    expect(embedding.at(-1)!.perSecond).toBeGreaterThan(0);
    expect(result.embeddings?.computed).toBe(32 * 4 + 8);
  });

  it('counts embeddings found in the cache apart from those computed', async () => {
    const dataset = barsDataset(40, 1);
    const config = await tinyBackboneClassifierConfig(1);
    const cached = (await preparationOf(dataset, config)).result.embeddings!;
    const { reports } = await preparationOf(dataset, { ...config, embeddings: [cached] });

    const embedding = reports.filter((report) => report.phase === 'embedding');
    expect(embedding).toEqual([expect.objectContaining({ done: 0, total: 0, cached: 32 * 4 + 8 })]);
  });
});
