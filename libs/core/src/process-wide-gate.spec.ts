import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { ProcessWideGate } from './process-wide-gate.js';
import { GateMeter, startGateRunsThread } from './testing/gate-meter.js';

const CAPACITY = 10;
const started: Worker[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((worker) => worker.terminate()));
});

/** A gate of its own for a test, with a meter of its runs, and a worker thread running runs of it. */
async function gateWithThread() {
  const gateName = `test-${randomUUID()}`;
  const gate = ProcessWideGate.named(gateName, CAPACITY);
  const meter = new GateMeter();
  const { worker, send, hold: holdInThread } = await startGateRunsThread(gateName, CAPACITY, meter);
  started.push(worker);
  /** Holds `weight` on this thread until the returned release is called; `running` says whether it started. */
  const holdHere = (weight: number) => {
    let release = () => {};
    const run = { running: false, done: Promise.resolve() };
    run.done = gate.run(
      () =>
        meter.during(weight, () => {
          run.running = true;
          return new Promise<void>((resolve) => (release = resolve));
        }),
      { weight },
    );
    return { run, release: () => release() };
  };
  return { gate, meter, worker, send, holdInThread, holdHere };
}

describe('ProcessWideGate', () => {
  it('keeps the weight running in two threads together within the capacity', async () => {
    const { gate, meter, worker, send } = await gateWithThread();
    // Four runs of 4 at once in each thread: two per thread fit a capacity of 10 alone, not together.
    const weights = Array.from({ length: 40 }, () => 4);
    const churned = once(worker, 'message');
    send({ kind: 'churn', weights });
    await meter.churn(gate, weights);
    await churned;

    expect(meter.finished).toBe(80);
    expect(meter.most).toBeLessThanOrEqual(CAPACITY);
    expect(gate.inUse).toBe(0);
  });

  it("lets another thread's heavy run, asked first, go before a light one that would fit", async () => {
    const { meter, send, holdInThread, holdHere } = await gateWithThread();
    const first = holdHere(6);
    await nextTurn();
    await holdInThread('heavy', CAPACITY);
    const light = holdHere(2);
    for (let turn = 0; turn < 5; turn++) await nextTurn();
    expect(light.run.running).toBe(false);

    first.release();
    // The heavy run in the thread takes the whole capacity; the light one starts once it is given back.
    while (meter.now < CAPACITY) await nextTurn();
    expect(light.run.running).toBe(false);
    send({ kind: 'release', id: 'heavy' });
    while (!light.run.running) await nextTurn();
    expect(meter.most).toBe(CAPACITY);
    light.release();
    await light.run.done;
  });

  it('gives back what a thread held when it is terminated mid-run', async () => {
    const { gate, worker, holdInThread, holdHere } = await gateWithThread();
    await holdInThread('all', CAPACITY);
    while (gate.inUse < CAPACITY) await nextTurn();
    const waiting = holdHere(1);
    for (let turn = 0; turn < 5; turn++) await nextTurn();
    expect(waiting.run.running).toBe(false);

    await worker.terminate();
    while (!waiting.run.running) await nextTurn();
    expect(gate.inUse).toBe(1);
    waiting.release();
    await waiting.run.done;
    expect(gate.inUse).toBe(0);
  });

  it('passes on the turn of a thread terminated while it waited', async () => {
    const { gate, worker, holdInThread, holdHere } = await gateWithThread();
    const first = holdHere(5);
    await nextTurn();
    await holdInThread('heavy', CAPACITY);
    const behind = holdHere(1);
    for (let turn = 0; turn < 5; turn++) await nextTurn();
    expect(behind.run.running).toBe(false);

    await worker.terminate();
    while (!behind.run.running) await nextTurn();
    expect(gate.inUse).toBe(6);
    first.release();
    behind.release();
    await Promise.all([first.run.done, behind.run.done]);
  });

  it('takes a waiting run out of the queue when its signal is aborted', async () => {
    const gate = ProcessWideGate.named(`test-${randomUUID()}`, CAPACITY);
    let release = () => {};
    const holding = gate.run(() => new Promise<void>((resolve) => (release = resolve)), { weight: CAPACITY });
    const controller = new AbortController();
    const heavy = gate.run(async () => 'ran', { weight: CAPACITY, signal: controller.signal });
    const light = gate.run(async () => 'light ran', { weight: 1 });
    controller.abort(new Error('client left'));
    await expect(heavy).rejects.toThrow('client left');
    release();
    await expect(light).resolves.toBe('light ran');
    await holding;
    expect(gate.inUse).toBe(0);
  });

  it('refuses a second gate of the same name with another capacity', () => {
    const name = `test-${randomUUID()}`;
    ProcessWideGate.named(name, CAPACITY);
    expect(() => ProcessWideGate.named(name, CAPACITY + 1)).toThrow(`was made with capacity ${CAPACITY}`);
  });
});
