import { siblingModule, startWorkerThread } from '@diyml/core/pure';
import type { EmbedRequest, EmbedResult, FromEmbeddingThread } from './embedding-protocol.js';

export class EmbeddingCancelled extends Error {
  constructor() {
    super('computing embeddings was cancelled');
  }
}

/**
 * Computes embeddings on a worker thread (decoding, the backbone's forward passes, pooling) and ends it. Aborting
 * `signal` stops the thread at once and rejects with EmbeddingCancelled.
 */
export function embedOnWorkerThread(request: Omit<EmbedRequest, 'type'>, signal?: AbortSignal): Promise<EmbedResult> {
  const worker = startWorkerThread(siblingModule(import.meta.url, 'embedding.worker'));
  return new Promise<EmbedResult>((resolve, reject) => {
    if (signal?.aborted) return reject(new EmbeddingCancelled());
    signal?.addEventListener('abort', () => reject(new EmbeddingCancelled()), { once: true });
    worker.once('message', (message: FromEmbeddingThread) =>
      message.type === 'done'
        ? resolve({ table: message.table, imageCount: message.imageCount, computed: message.computed })
        : reject(new Error(message.message)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the embedding thread stopped (exit code ${code})`)));
    worker.postMessage({ type: 'embed', ...request } satisfies EmbedRequest);
  }).finally(() => void worker.terminate());
}
