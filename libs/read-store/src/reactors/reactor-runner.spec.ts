import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordedEvent } from '@diyml/event-store';
import { SqliteEventStore } from '@diyml/event-store';
import { SqliteLease } from '../lease/sqlite-lease.js';
import type { Reactor } from './reactor.js';
import { ReactorRunner } from './reactor-runner.js';

const metadata = { userId: null, correlationId: 'c', causationId: null, at: '2026-01-01T00:00:00.000Z' };

/** Records what it reacted to, as a job queue would see enqueues. */
class RecordingReactor implements Reactor {
  readonly name = 'iteration-jobs';
  readonly eventTypes = ['IterationQueued'];
  readonly reacted: string[] = [];
  async react(event: RecordedEvent): Promise<void> {
    this.reacted.push((event.data as { iterationId: string }).iterationId);
  }
}

/** One api replica: its own connections to the shared log and lease file, its own runner. */
function replica(dir: string) {
  const events = new SqliteEventStore({ filename: join(dir, 'events.sqlite'), pollIntervalMs: 20 });
  const lease = new SqliteLease(join(dir, 'leases.sqlite'));
  const runner = new ReactorRunner(undefined as never, events, lease, undefined as never);
  const reactor = new RecordingReactor();
  return {
    events,
    reactor,
    runner,
    start: (resume = true) => runner.start([reactor], { leaseTtlMs: 1000, resume }),
    async close() {
      await runner.stop();
      await lease.close();
      await events.close();
    },
  };
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('ReactorRunner: several api replicas on one log', () => {
  let dir: string;
  let replicas: ReturnType<typeof replica>[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'diyml-reactors-'));
    replicas = [replica(dir), replica(dir)];
  });
  afterEach(async () => {
    for (const each of replicas) await each.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function queueIteration(iterationId: string) {
    await replicas[0].events.append(
      `iteration-${iterationId}`,
      [{ type: 'IterationQueued', v: 1, data: { iterationId } }],
      {
        expectedRevision: 'no_stream',
        metadata,
      },
    );
    await replicas[0].events.append(`other-${iterationId}`, [{ type: 'ImageUploaded', v: 1, data: {} }], {
      expectedRevision: 'no_stream',
      metadata,
    });
  }

  const reacted = () => replicas.flatMap((each) => each.reactor.reacted);

  it('reacts to each event in exactly one replica', async () => {
    for (const each of replicas) each.start();
    for (const id of ['a', 'b', 'c', 'd']) await queueIteration(id);
    await until(() => reacted().length >= 4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(reacted()).toEqual(['a', 'b', 'c', 'd']);
    expect(replicas.map((each) => each.runner.holding)).toEqual(expect.arrayContaining([['iteration-jobs'], []]));
  });

  it('goes on from where the replica that held the lease stopped, without reacting twice', async () => {
    replicas[0].start();
    await until(() => replicas[0].runner.holding.length === 1);
    replicas[1].start();
    await queueIteration('a');
    await until(() => reacted().length === 1);
    await replicas[0].runner.stop();
    await queueIteration('b');
    await until(() => replicas[1].reactor.reacted.length === 1);
    expect(replicas[0].reactor.reacted).toEqual(['a']);
    expect(replicas[1].reactor.reacted).toEqual(['b']);
  });

  it('takes over from a replica that died holding the lease, once the lease ran out', async () => {
    const dead = new SqliteLease(join(dir, 'leases.sqlite'));
    const orphaned = (await dead.tryAcquire('iteration-jobs', 1000))!;
    await orphaned.advance(2);
    await queueIteration('a');
    await queueIteration('b');
    replicas[1].start();
    await until(() => replicas[1].reactor.reacted.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(replicas[1].reactor.reacted).toEqual(['b']);
    await expect(orphaned.advance(4)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await dead.close();
  });

  it('starts from the beginning of the log when the reactions do not outlive a process (in-process jobs)', async () => {
    replicas[0].start(false);
    await queueIteration('a');
    await until(() => reacted().length === 1);
    await replicas[0].runner.stop();
    replicas[1].start(false);
    await until(() => replicas[1].reactor.reacted.length === 1);
    expect(replicas[1].reactor.reacted).toEqual(['a']);
  });
});
