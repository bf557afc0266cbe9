import { parentPort } from 'node:worker_threads';
import {
  type Backbone,
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

/**
 * The embedding thread, so the api's event loop never runs a backbone. It serves one request at a time and keeps
 * the backbone it loaded (and the runner built for its layers) for the next request: the pool that owns the thread
 * sends it requests for that backbone only.
 */
const port = parentPort!;
const send = (message: FromEmbeddingThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
let loaded: Promise<Backbone> | undefined;

async function embed({
  backbone: descriptor,
  cacheDirectory,
  augmentation,
  table: encoded,
  images,
}: EmbedRequest): Promise<EmbedResult> {
  const warm = loaded !== undefined;
  if (!loaded) {
    loaded = selectBackend().then(() => loadBackbone(descriptor, { cacheDirectory }));
    // A backbone that failed to load is loaded again by the next request (its weights may have been fixed since).
    loaded.catch(() => (loaded = undefined));
  }
  const backbone = await loaded;
  const space = embeddingSpaceOf(descriptor);
  const current = encoded && decodeEmbeddingTable(encoded);
  const table =
    current && embeddingSpaceKey(current.space) === embeddingSpaceKey(space)
      ? current
      : emptyEmbeddingTable(space, embeddingDimensionOf(descriptor));
  const computed = await embedEncodedImages(backbone, table, images, embeddingViews(augmentation), EMBEDDING_BATCH);
  return { table: encodeEmbeddingTable(table), imageCount: table.vectors.size, computed, warm };
}

port.on('message', (request: EmbedRequest) => {
  embed(request)
    .then((result) => send({ type: 'done', ...result }, [result.table.buffer as ArrayBuffer]))
    .catch((error: unknown) => send({ type: 'failed', message: (error as Error).message ?? String(error) }));
});
