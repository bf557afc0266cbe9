import { parentPort } from 'node:worker_threads';
import {
  decodeEmbeddingTable,
  embedEncodedImages,
  embeddingDimensionOf,
  embeddingSpaceKey,
  embeddingSpaceOf,
  embeddingViews,
  emptyEmbeddingTable,
  encodeEmbeddingTable,
  loadBackbone,
  selectBackend,
} from '@diyml/ml';
import type { EmbedRequest, EmbedResult, FromEmbeddingThread } from './embedding-protocol.js';

/** Images per forward-pass batch; decoded a batch at a time. */
const EMBEDDING_BATCH = 8;

/** The embedding thread: one table update per thread, so the api's event loop never runs a backbone. */
const port = parentPort!;
const send = (message: FromEmbeddingThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

async function embed({
  backbone: descriptor,
  cacheDirectory,
  augmentation,
  table: encoded,
  images,
}: EmbedRequest): Promise<EmbedResult> {
  await selectBackend();
  const space = embeddingSpaceOf(descriptor);
  const current = encoded && decodeEmbeddingTable(encoded);
  const table =
    current && embeddingSpaceKey(current.space) === embeddingSpaceKey(space)
      ? current
      : emptyEmbeddingTable(space, embeddingDimensionOf(descriptor));
  const backbone = await loadBackbone(descriptor, { cacheDirectory });
  try {
    const computed = await embedEncodedImages(backbone, table, images, embeddingViews(augmentation), EMBEDDING_BATCH);
    return { table: encodeEmbeddingTable(table), imageCount: table.vectors.size, computed };
  } finally {
    backbone.dispose();
  }
}

port.once('message', (request: EmbedRequest) => {
  embed(request)
    .then((result) => send({ type: 'done', ...result }, [result.table.buffer as ArrayBuffer]))
    .catch((error: unknown) => send({ type: 'failed', message: (error as Error).message ?? String(error) }));
});
