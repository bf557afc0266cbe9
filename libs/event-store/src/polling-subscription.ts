import { Logger } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import type { RecordedEvent, Subscription, SubscriptionHandler } from './event-store.port.js';

const BATCH_SIZE = 1000;
const RETRY_DELAY_MS = 1000;

/**
 * Catch-up subscription over a log that can only be polled: reads batches after the last handled position,
 * then sleeps until a local append is announced or `pollIntervalMs` passes (appends by other processes).
 * A handler that throws is retried on the same event after a pause, so nothing is skipped.
 */
export function pollingSubscription(
  readAfter: (position: number, limit: number) => RecordedEvent[] | Promise<RecordedEvent[]>,
  appends: EventEmitter,
  after: number,
  handler: SubscriptionHandler,
  pollIntervalMs: number,
): Subscription {
  const logger = new Logger('EventSubscription');
  let closed = false;
  let wake: () => void = () => {};
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        appends.off('append', done);
        resolve();
      }
      wake = done;
      appends.on('append', done);
    });

  const run = async () => {
    let position = after;
    while (!closed) {
      let batch: RecordedEvent[];
      try {
        batch = await readAfter(position, BATCH_SIZE);
      } catch (error) {
        logger.error(`Reading the log failed, retrying: ${String(error)}`);
        await sleep(RETRY_DELAY_MS);
        continue;
      }
      for (const event of batch) {
        if (closed) return;
        try {
          await handler(event);
        } catch (error) {
          logger.error(`Handling ${event.type} at position ${event.position} failed, retrying: ${(error as Error).stack ?? String(error)}`);
          await sleep(RETRY_DELAY_MS);
          break;
        }
        position = event.position;
      }
      if (batch.length < BATCH_SIZE && !closed) await sleep(pollIntervalMs);
    }
  };
  const running = run();
  return {
    async close() {
      closed = true;
      wake();
      await running;
    },
  };
}
