/**
 * Batch labeling throughput over HTTP: uploads unlabeled images to the built api (embedded mode), then labels
 * every one through `POST /v1/projects/{id}/images/labels`, 500 images per request, one request at a time
 * (each answers once its labels are readable), then relabels every image once more with another label.
 * Labels are given by name, as a labeling tool would send them.
 *
 * Run: npx tsx bench/labeling-throughput.ts [--quick | --smoke] [--images 5000] [--batch 500]
 */
import { loadavg } from 'node:os';
import { generateImage } from '@diyml/datasets/testing/test-images.js';
import { BenchClient, startProduct } from './support/product.js';
import { emitResult, loadAverages, numberOption, sized } from './support/result.js';

const total = numberOption('images', sized({ full: 5000, quick: 1000, smoke: 100 }));
const batchSize = numberOption('batch', 500);
const UPLOAD_BATCH = 100;
const LABELS = ['cat', 'dog', 'bird'];

console.error(`Generating ${total} PNGs…`);
const images = await Promise.all(Array.from({ length: total }, (_, i) => generateImage(200_000 + i)));

const loadBefore = loadavg();
const product = await startProduct({ env: { BLOB_FSYNC: 'false' } });
try {
  const client = await BenchClient.register(product.base);
  const projectId = await client.createProject('labeling throughput', LABELS);
  const imageIds: string[] = [];
  for (let start = 0; start < total; start += UPLOAD_BATCH) {
    const files = images
      .slice(start, start + UPLOAD_BATCH)
      .map((bytes, i) => ({ name: `unlabeled-${start + i}.png`, bytes }));
    const items = await client.upload(projectId, files);
    for (const item of items) {
      if (item.status !== 'created' || !item.id) throw new Error(`upload: ${JSON.stringify(item)}`);
      imageIds.push(item.id);
    }
  }

  /** Labels every image (label chosen by `pick`) in batches; returns labels per second. */
  const labelAll = async (pick: (index: number) => string): Promise<number> => {
    const started = performance.now();
    for (let start = 0; start < imageIds.length; start += batchSize) {
      const items = imageIds.slice(start, start + batchSize).map((imageId, i) => ({ imageId, label: pick(start + i) }));
      const result = await client.json<{ updated: number; failed: number }>(
        'POST',
        `/v1/projects/${projectId}/images/labels`,
        { items },
      );
      if (result.updated !== items.length)
        throw new Error(`labeled ${result.updated} of ${items.length} (${result.failed} failed)`);
    }
    return imageIds.length / ((performance.now() - started) / 1000);
  };
  const labelRate = await labelAll((index) => LABELS[index % LABELS.length]);
  const relabelRate = await labelAll((index) => LABELS[(index + 1) % LABELS.length]);

  const analysis = await client.json<{ imageCount: number; labeledCount: number }>(
    'GET',
    `/v1/projects/${projectId}/analysis`,
  );
  if (analysis.labeledCount !== total)
    throw new Error(
      `expected ${total} labeled images, the analysis counts ${analysis.labeledCount} of ${analysis.imageCount}`,
    );

  emitResult(
    'labeling-throughput',
    {
      'labeling rate (unlabeled → labeled)': { value: labelRate, unit: 'labels/s', better: 'higher' },
      'relabeling rate (label → another label)': { value: relabelRate, unit: 'labels/s', better: 'higher' },
    },
    [
      `${total} images, ${batchSize} per request, one request at a time`,
      `load average (1/5/15 min) before ${loadAverages(loadBefore)}, after ${loadAverages(loadavg())}`,
    ],
  );
} finally {
  await product.stop();
}
