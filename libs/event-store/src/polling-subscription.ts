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
  // Set by every append, also those that happen while a batch is being handled, so none is slept through.
  let appended = false;
  let wakeSleep: () => void = () => {};
  let cancelPause: () => void = () => {};
  const onAppend = () => {
    appended = true;
    wakeSleep();
  };
  appends.on('append', onAppend);
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (appended || closed) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeSleep = () => {};
        resolve();
      }
      wakeSleep = done;
    });

  const run = async () => {
    let position = after;
    while (!closed) {
      appended = false;
      let batch: RecordedEvent[];
      try {
        batch = await readAfter(position, BATCH_SIZE);
      } catch (error) {
        logger.error(`Reading the log failed, retrying: ${String(error)}`);
        await pause(RETRY_DELAY_MS);
        continue;
      }
      for (const event of batch) {
        if (closed) return;
        try {
          await handler(event);
        } catch (error) {
          logger.error(
            `Handling ${event.type} at position ${event.position} failed, retrying: ${(error as Error).stack ?? String(error)}`,
          );
          await pause(RETRY_DELAY_MS);
          break;
        }
        position = event.position;
      }
      if (batch.length < BATCH_SIZE && !closed) await sleep(pollIntervalMs);
    }
  };
  /** A fixed wait before a retry, cut short only by closing. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      cancelPause = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const running = run();
  return {
    async close() {
      closed = true;
      appends.off('append', onAppend);
      wakeSleep();
      cancelPause();
      await running;
    },
  };
}

/** The open subscriptions of one store, so closing the store closes them all. */
export class OpenSubscriptions {
  private readonly open = new Set<Subscription>();

  /** Tracks `subscription` until it (or the store) is closed. */
  track(subscription: Subscription): Subscription {
    this.open.add(subscription);
    return {
      close: async () => {
        this.open.delete(subscription);
        await subscription.close();
      },
    };
  }

  async closeAll(): Promise<void> {
    const closing = [...this.open];
    this.open.clear();
    await Promise.all(closing.map((subscription) => subscription.close()));
  }
}
