import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { BatchProgress, Iteration, PreparationProgress } from './client';
import { toApiError } from './client';
import { getSession } from './session';

export interface IterationStreamHandlers {
  /** The whole iteration, each time it changes. */
  onIteration(iteration: Iteration): void;
  /** Transient progress before the first epoch: reading, decoding, computing features. */
  onPreparation(progress: PreparationProgress): void;
  /** Transient progress within the epoch being trained. */
  onBatch(progress: BatchProgress): void;
}

/**
 * Follows GET …/iterations/{id}/events. An EventSource cannot send headers, so this reads the stream with fetch and
 * the usual Authorization header: the token never appears in a URL, and so never in access logs.
 */
export async function followIteration(
  path: string,
  handlers: IterationStreamHandlers,
  signal: AbortSignal,
): Promise<void> {
  const session = getSession();
  const response = await fetch(path, {
    headers: { Accept: 'text/event-stream', ...(session ? { Authorization: `Bearer ${session.accessToken}` } : {}) },
    signal,
  });
  if (!response.ok || !response.body) throw toApiError(response, await response.json().catch(() => undefined));
  const events = response.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
  for await (const event of events) {
    if (event.event === 'iteration') handlers.onIteration(JSON.parse(event.data) as Iteration);
    else if (event.event === 'preparation') handlers.onPreparation(JSON.parse(event.data) as PreparationProgress);
    else if (event.event === 'batch') handlers.onBatch(JSON.parse(event.data) as BatchProgress);
  }
}
