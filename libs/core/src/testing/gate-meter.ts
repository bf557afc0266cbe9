import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ProcessWideGate } from '../process-wide-gate.js';
import { siblingModule, startWorkerThread } from '../worker-thread.js';

export interface GateRunsWorkerData {
  gateName: string;
  capacity: number;
  /** A GateMeter's buffer, shared with the test. */
  meter: SharedArrayBuffer;
}

export type GateRunsCommand =
  { kind: 'hold'; id: string; weight: number } | { kind: 'release'; id: string } | { kind: 'churn'; weights: number[] };

const NOW = 0;
const MOST = 1;
const FINISHED = 2;

/** The weight of the runs of a gate running at once in all threads, the most ever, and the runs finished. */
export class GateMeter {
  readonly buffer: SharedArrayBuffer;
  private readonly counts: Int32Array;

  constructor(buffer = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT)) {
    this.buffer = buffer;
    this.counts = new Int32Array(buffer);
  }

  get most(): number {
    return Atomics.load(this.counts, MOST);
  }

  get now(): number {
    return Atomics.load(this.counts, NOW);
  }

  get finished(): number {
    return Atomics.load(this.counts, FINISHED);
  }

  /** Counts `weight` as running while `work` runs. */
  async during<T>(weight: number, work: () => Promise<T>): Promise<T> {
    const now = Atomics.add(this.counts, NOW, weight) + weight;
    for (let most = this.most; now > most; most = this.most) Atomics.compareExchange(this.counts, MOST, most, now);
    try {
      return await work();
    } finally {
      Atomics.sub(this.counts, NOW, weight);
      Atomics.add(this.counts, FINISHED, 1);
    }
  }

  /** Runs `weights` through `gate` four at a time, each holding its room for a few turns of the event loop. */
  async churn(gate: ProcessWideGate, weights: readonly number[]): Promise<void> {
    let next = 0;
    const runner = async () => {
      while (next < weights.length) {
        const weight = weights[next++];
        await gate.run(
          () =>
            this.during(weight, async () => {
              for (let turn = 0; turn < 3; turn++) await nextTurn();
            }),
          { weight },
        );
      }
    };
    await Promise.all(Array.from({ length: 4 }, runner));
  }
}

/**
 * A worker thread running runs of the process-wide gate `gateName` as a test asks them (testing/gate-runs.worker),
 * counted in `meter`; resolves once the thread has named the gate.
 */
export async function startGateRunsThread(gateName: string, capacity: number, meter: GateMeter) {
  const worker = startWorkerThread(siblingModule(import.meta.url, 'gate-runs.worker'), {
    workerData: { gateName, capacity, meter: meter.buffer } satisfies GateRunsWorkerData,
  });
  await once(worker, 'message');
  const send = (command: GateRunsCommand) => worker.postMessage(command);
  /** Has the thread ask for `weight` until released by `id`, resolving once it asked (its turn is then taken). */
  const hold = async (id: string, weight: number) => {
    send({ kind: 'hold', id, weight });
    for (;;) {
      const [message] = (await once(worker, 'message')) as [{ asked?: string }];
      if (message.asked === id) return;
    }
  };
  return { worker, send, hold };
}
