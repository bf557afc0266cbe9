import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Clock, type Decider, DomainError, type DomainEvent, validateSettings } from '@diyml/core';
import { AppendOrder } from './command-handling.js';
import { CommandPipeline, ReadModelsProgress } from './command-pipeline.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';

type Counted = DomainEvent<'Counted', { value: number }>;
type Count = { type: 'Count'; upTo: number };

/** Counts up to a bound: a command that is right on any state, so safe to retry. */
const counter: Decider<number, Count, Counted> = {
  initialState: 0,
  decide: (command, state) => (state >= command.upTo ? [] : [{ type: 'Counted', v: 1, data: { value: state + 1 } }]),
  evolve: (_, event) => event.data.value,
};

const at = new Date('2026-03-01T12:00:00.000Z');
const fixedClock: Clock = { now: () => at };
const context = { userId: 'u1', correlationId: 'req-1' };

class RecordingProgress extends ReadModelsProgress {
  readonly waited: number[] = [];
  async waitFor(position: number): Promise<void> {
    this.waited.push(position);
  }
}

describe('CommandPipeline', () => {
  let store: SqliteEventStore;
  let progress: RecordingProgress;
  let pipeline: CommandPipeline;
  const stream = 'counter-1';
  const counting = () => pipeline.on(stream, counter);
  const bump = (upTo: number) => ({ context, command: { type: 'Count' as const, upTo } });
  /** Another writer appends to the stream while the command is being built, after the pipeline read it. */
  const concurrently = async () => {
    const recorded = await store.readStream(stream);
    const value = recorded.length + 1;
    await store.append(stream, [{ type: 'Counted', v: 1, data: { value } }], {
      expectedRevision: recorded.length === 0 ? 'no_stream' : recorded.length - 1,
      metadata: { userId: 'u2', correlationId: 'other', causationId: null, at: at.toISOString() },
    });
  };

  beforeEach(() => {
    store = new SqliteEventStore({ filename: ':memory:', pollIntervalMs: 20 });
    progress = new RecordingProgress();
    pipeline = new CommandPipeline(store, fixedClock, validateSettings({}), progress);
  });
  afterEach(() => store.close());

  it('appends what the decider decides, with metadata from the clock and the request, and waits for the read models', async () => {
    const outcome = await counting().run(bump(1));
    expect(outcome).toMatchObject({ events: [{ type: 'Counted', data: { value: 1 } }], revision: 0, before: 0 });
    const [stored] = await store.readStream(stream);
    expect(stored.metadata).toEqual({ userId: 'u1', correlationId: 'req-1', causationId: null, at: at.toISOString() });
    expect(progress.waited).toEqual([outcome.position]);
  });

  it('answers a concurrent append with 409 WRONG_EXPECTED_REVISION when the command is not declared safe to retry', async () => {
    await counting().run(bump(1));
    const run = counting().run({
      ...bump(5),
      command: async () => (await concurrently(), { type: 'Count' as const, upTo: 5 }),
    });
    await expect(run).rejects.toMatchObject({ kind: 'conflict', code: 'WRONG_EXPECTED_REVISION' });
    expect((await store.readStream(stream)).map((event) => event.data)).toEqual([{ value: 1 }, { value: 2 }]);
  });

  it('reads and decides again after a concurrent append when the command may be retried', async () => {
    let builds = 0;
    const outcome = await counting().run({
      ...bump(5),
      retry: { attempts: 3 },
      command: async (state: number) => {
        builds += 1;
        if (builds === 1) await concurrently();
        return { type: 'Count' as const, upTo: state + 1 };
      },
    });
    expect(builds).toBe(2);
    expect(outcome).toMatchObject({ before: 1, revision: 1, events: [{ data: { value: 2 } }] });
    expect((await store.readStream(stream)).map((event) => event.data)).toEqual([{ value: 1 }, { value: 2 }]);
  });

  it('gives up with 409 once the retries are spent', async () => {
    const run = counting().run({
      ...bump(10),
      retry: { attempts: 2 },
      command: async () => (await concurrently(), { type: 'Count' as const, upTo: 10 }),
    });
    await expect(run).rejects.toMatchObject({ code: 'WRONG_EXPECTED_REVISION' });
    expect(await store.readStream(stream)).toHaveLength(2);
  });

  it('never retries a command sent with If-Match: the client decided on what it read', async () => {
    await counting().run(bump(1));
    let builds = 0;
    const run = counting().run({
      ...bump(5),
      expectedRevision: 0,
      retry: { attempts: 5 },
      command: async () => ((builds += 1), await concurrently(), { type: 'Count' as const, upTo: 5 }),
    });
    await expect(run).rejects.toMatchObject({ code: 'WRONG_EXPECTED_REVISION' });
    expect(builds).toBe(1);
  });

  it('refuses a stale If-Match with 412 REVISION_MISMATCH before deciding', async () => {
    await counting().run(bump(1));
    await counting().run(bump(2));
    const run = counting().run({ ...bump(5), expectedRevision: 0 });
    await expect(run).rejects.toMatchObject({ kind: 'precondition-failed', code: 'REVISION_MISMATCH' });
    expect(await store.readStream(stream)).toHaveLength(2);
  });

  it('appends nothing and waits for nothing when the decision is a no-op', async () => {
    await counting().run(bump(1));
    const head = await store.headPosition();
    const outcome = await counting().run(bump(1));
    expect(outcome).toMatchObject({ events: [], revision: 0, position: -1, before: 1 });
    expect(await store.headPosition()).toBe(head);
    expect(progress.waited).toHaveLength(1);
  });

  it('lets a refusal of the decider through unchanged', async () => {
    const refusing: Decider<number, Count, Counted> = {
      ...counter,
      decide: () => {
        throw DomainError.conflict('COUNTER_FULL', 'The counter is full.');
      },
    };
    await expect(pipeline.on(stream, refusing).run(bump(1))).rejects.toMatchObject({ code: 'COUNTER_FULL' });
    expect(await store.headPosition()).toBe(-1);
  });

  it('runs without read models (the worker process) and skips the wait when asked', async () => {
    const worker = new CommandPipeline(store, fixedClock, validateSettings({}));
    await expect(worker.on(stream, counter).run(bump(1))).resolves.toMatchObject({ revision: 0 });
    await counting().run({ ...bump(2), waitForReadModels: false });
    expect(progress.waited).toEqual([]);
  });

  it('issues appends to new streams in the order their turns were taken, whichever is decided first, past turns given up', async () => {
    const order = new AppendOrder();
    const decidedAfter = (ms: number, upTo: number) => async () => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { type: 'Count' as const, upTo };
    };
    const run = (streamId: string, ms: number, upTo: number) =>
      pipeline.on(streamId, counter).run({
        context,
        command: decidedAfter(ms, upTo),
        newStream: true,
        turn: order.take(),
        waitForReadModels: false,
      });
    const [first, nothing, second, third] = await Promise.all([
      run('a', 60, 1),
      run('b', 0, 0),
      run('c', 30, 1),
      run('d', 0, 1),
    ]);
    expect(nothing.position).toBe(-1);
    expect([first.position, second.position, third.position]).toEqual(
      [first.position, second.position, third.position].sort((x, y) => x - y),
    );
    expect(new Set([first.position, second.position, third.position]).size).toBe(3);
  });
});
