import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalSegment, ORPHAN_AFTER_MS } from './journal-segment.js';
import { PredictionJournal } from './prediction-journal.js';

const record = (n: number) => ({
  header: { command: { predictionId: `p${n}` }, maxCount: null },
  image: Buffer.from(`image bytes ${n}`),
});

describe('prediction journal', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'diyml-journal-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  it('hands the records a process left unwritten to the next one, which deletes the file once they are written', async () => {
    const crashed = new PredictionJournal(directory);
    const entries = await Promise.all([1, 2, 3].map((n) => crashed.append(record(n))));
    entries[0].release();
    // Closed with two records unwritten: what a kill leaves (the file stays).
    await crashed.close();
    const [file] = readdirSync(directory);
    // A write cut short by the kill: never acknowledged, so skipped.
    appendFileSync(join(directory, file), Buffer.from([0, 0, 0, 40, 123]));

    const next = new PredictionJournal(directory);
    const taken = await next.takeOver();
    // p1 was written already: the keeper writing it again is a no-op (PREDICTION_ALREADY_STORED).
    expect(taken.map(({ record }) => record.header.command)).toEqual([
      { predictionId: 'p1' },
      { predictionId: 'p2' },
      { predictionId: 'p3' },
    ]);
    expect(taken.map(({ record }) => record.image.toString())).toEqual([
      'image bytes 1',
      'image bytes 2',
      'image bytes 3',
    ]);
    expect(await new PredictionJournal(directory).takeOver()).toEqual([]);

    for (const { entry } of taken.slice(0, 2)) entry.release();
    expect(readdirSync(directory)).toHaveLength(1);
    taken[2].entry.release();
    // The file is deleted in the background once its last record is released.
    for (let waited = 0; readdirSync(directory).length > 0 && waited < 5000; waited += 20)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(readdirSync(directory)).toEqual([]);
  });

  it('deletes its own file at a shutdown once every record is written', async () => {
    const journal = new PredictionJournal(directory);
    const entries = await Promise.all([1, 2].map((n) => journal.append(record(n))));
    for (const entry of entries) entry.release();
    await journal.close();
    expect(readdirSync(directory)).toEqual([]);
  });

  /** Leaves a journal holding two unwritten records, as a process on `host` killed at `lastTouched` would. */
  async function leftByAnotherHost(host: string, lastTouched: Date): Promise<void> {
    const crashed = new PredictionJournal(directory);
    await Promise.all([1, 2].map((n) => crashed.append(record(n))));
    await crashed.close();
    const [file] = readdirSync(directory);
    const [kind, , pid, id, extension] = file.split('.');
    const moved = join(directory, [kind, host, pid, id, extension].join('.'));
    renameSync(join(directory, file), moved);
    utimesSync(moved, lastTouched, lastTouched);
  }

  it('takes over the journal of another host (a replaced pod whose name never comes back) once it is left untouched', async () => {
    await leftByAnotherHost('pod-gone-7f9c', new Date(Date.now() - ORPHAN_AFTER_MS - 60_000));
    const taken = await new PredictionJournal(directory).takeOver();
    expect(taken.map(({ record }) => record.header.command)).toEqual([{ predictionId: 'p1' }, { predictionId: 'p2' }]);
  });

  it('leaves alone the journal of another host that touched it recently: that process may still be writing it', async () => {
    await leftByAnotherHost('pod-alive-3c1d', new Date(Date.now() - ORPHAN_AFTER_MS / 2));
    expect(await new PredictionJournal(directory).takeOver()).toEqual([]);
    expect(readdirSync(directory)).toEqual([expect.stringContaining('.pod-alive-3c1d.')]);
  });

  it('touches the files a live process holds, so other hosts see them owned however long no prediction comes', () => {
    const segment = JournalSegment.create(directory, 'stored-predictions');
    const old = new Date(Date.now() - 2 * ORPHAN_AFTER_MS);
    utimesSync(segment.path, old, old);
    segment.touch();
    expect(Date.now() - statSync(segment.path).mtimeMs).toBeLessThan(ORPHAN_AFTER_MS);
    segment.close();
  });
});
