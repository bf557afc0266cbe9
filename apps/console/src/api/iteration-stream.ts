import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { Iteration } from './client';
import { toApiError } from './client';
import { getSession } from './session';

/**
 * Follows GET …/iterations/{id}/events. An EventSource cannot send headers, so this reads the stream with fetch and
 * the usual Authorization header: the token never appears in a URL, and so never in access logs.
 */
export async function followIteration(
  path: string,
  onIteration: (iteration: Iteration) => void,
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
    if (event.event === 'iteration') onIteration(JSON.parse(event.data) as Iteration);
  }
}
