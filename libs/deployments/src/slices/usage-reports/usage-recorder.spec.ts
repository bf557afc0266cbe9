import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Settings, SystemClock, UuidGenerator } from '@diyml/core';
import { SqliteEventStore } from '@diyml/event-store';
import { DeploymentSettings } from '../../deployment-settings.js';
import { deploymentUsageStream } from '../../domain/usage.events.js';
import { UsageRecorder } from './usage-recorder.js';

/** A process id no process has (above Linux's largest, 2^22). */
const GONE_PID = 4_999_999;

describe('usage recorder journal', () => {
  let dataDir: string;
  let events: SqliteEventStore;
  const deploymentId = randomUUID();
  const recorder = () =>
    new UsageRecorder(
      events,
      new DeploymentSettings(),
      new SystemClock(),
      new UuidGenerator(),
      Object.assign(new Settings(), { DATA_DIR: dataDir }),
    );
  const calls = async () =>
    (await events.readStream(deploymentUsageStream(deploymentId))).reduce(
      (total, event) => total + (event.data as { calls: number }).calls,
      0,
    );

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'diyml-usage-journal-'));
    events = new SqliteEventStore({ filename: join(dataDir, 'events.sqlite') });
  });
  afterEach(async () => {
    await events.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes the calls a killed process left in its journal once, even when that journal is found twice', async () => {
    const journal = join(dataDir, 'journal');
    mkdirSync(journal);
    const at = new Date().toISOString();
    const call = (errorCode: string | null) =>
      JSON.stringify({
        projectId: randomUUID(),
        deploymentId,
        callerId: 'deployment-key',
        errorCode,
        latencyMs: 12,
        at,
      });
    const name = `usage.${hostname().replace(/[^A-Za-z0-9-]/g, '-')}.${GONE_PID}.${randomUUID()}.journal`;
    // Three calls, and a fourth line cut short by the kill.
    writeFileSync(join(journal, name), `${call(null)}\n${call(null)}\n${call('INVALID_IMAGE')}\n{"projectId":"`);
    copyFileSync(join(journal, name), join(dataDir, 'saved'));

    const first = recorder();
    await first.onApplicationBootstrap();
    await first.beforeApplicationShutdown();
    expect(await calls()).toBe(3);
    expect(readdirSync(journal)).toEqual([]);

    // As if the process had died after writing the counts but before deleting its journal.
    copyFileSync(join(dataDir, 'saved'), join(journal, name));
    const second = recorder();
    await second.onApplicationBootstrap();
    await second.beforeApplicationShutdown();
    expect(await calls()).toBe(3);
    expect(readdirSync(journal)).toEqual([]);
  });

  it('journals each call until its flush, then deletes the journal', async () => {
    const running = recorder();
    await running.onApplicationBootstrap();
    for (let n = 0; n < 4; n++)
      running.record({
        projectId: randomUUID(),
        deploymentId,
        callerId: 'deployment-key',
        errorCode: null,
        latencyMs: 5,
        at: new Date(),
      });
    expect(readdirSync(join(dataDir, 'journal'))).toHaveLength(1);
    await running.flush();
    expect(await calls()).toBe(4);
    expect(readdirSync(join(dataDir, 'journal'))).toEqual([]);
    await running.beforeApplicationShutdown();
  });

  it('still counts, in memory, when its journal cannot be written', async () => {
    writeFileSync(join(dataDir, 'journal'), 'a file where the journal folder should be');
    const running = recorder();
    await running.onApplicationBootstrap();
    for (let n = 0; n < 2; n++)
      running.record({
        projectId: randomUUID(),
        deploymentId,
        callerId: 'deployment-key',
        errorCode: null,
        latencyMs: 5,
        at: new Date(),
      });
    await running.beforeApplicationShutdown();
    expect(await calls()).toBe(2);
  });

  it('goes on counting and writing when a flushed journal cannot be deleted', async () => {
    const running = recorder();
    await running.onApplicationBootstrap();
    const call = () =>
      running.record({
        projectId: randomUUID(),
        deploymentId,
        callerId: 'deployment-key',
        errorCode: null,
        latencyMs: 5,
        at: new Date(),
      });
    call();
    const [file] = readdirSync(join(dataDir, 'journal'));
    // A folder where the journal file was: deleting it fails.
    rmSync(join(dataDir, 'journal', file));
    mkdirSync(join(dataDir, 'journal', file));
    await expect(running.flush()).resolves.toBeUndefined();
    expect(await calls()).toBe(1);

    call();
    call();
    await running.flush();
    expect(await calls()).toBe(3);
    await running.beforeApplicationShutdown();
  });
});
