import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  Optional,
} from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Clock, IdGenerator, READ_ONLY_PROCESS, Settings, toEventMetadata } from '@diyml/core';
import { EVENT_ID_REUSED, EventStore } from '@diyml/event-store';
import { DeploymentSettings } from '../../deployment-settings.js';
import { addLatency } from '../../domain/latency-histogram.js';
import { type DeploymentUsageRecorded, deploymentUsageStream } from '../../domain/usage.events.js';
import { JournalSegment, takeOverOrphans } from '../../journal/journal-segment.js';

export interface PredictionCall {
  projectId: string;
  deploymentId: string;
  /** A user id, or DEPLOYMENT_KEY_CALLER. */
  callerId: string;
  /** The error code of a failed call, null for a success. */
  errorCode: string | null;
  latencyMs: number;
  at: Date;
}

type Pending = DeploymentUsageRecorded['data'];
type Counts = Map<string, Pending>;

const JOURNAL_KIND = 'usage';

/** Counts sealed by a flush (or taken over from a process that is gone), written once each, then their journal deleted. */
interface SealedCounts {
  /** Id of the journal segment that holds these calls: with the key, it names the event, so a rewrite is a no-op. */
  segmentId: string;
  counts: Counts;
  remove(): Promise<void>;
}

function addCall(counts: Counts, call: PredictionCall): void {
  const hour = new Date(Math.floor(call.at.getTime() / 3_600_000) * 3_600_000).toISOString();
  const key = `${call.deploymentId}|${hour}`;
  let entry = counts.get(key);
  if (!entry) {
    entry = {
      projectId: call.projectId,
      deploymentId: call.deploymentId,
      hour,
      calls: 0,
      errors: {},
      latency: {},
      callers: {},
    };
    counts.set(key, entry);
  }
  entry.calls += 1;
  if (call.errorCode) entry.errors[call.errorCode] = (entry.errors[call.errorCode] ?? 0) + 1;
  addLatency(entry.latency, call.latencyMs);
  entry.callers[call.callerId] = (entry.callers[call.callerId] ?? 0) + 1;
}

/** The calls of a journal segment, one JSON line each; a last line cut short by a crash is skipped. */
function countsOf(content: Buffer): Counts {
  const counts: Counts = new Map();
  for (const line of content.toString('utf8').split('\n')) {
    if (!line) continue;
    let call: Omit<PredictionCall, 'at'> & { at: string };
    try {
      call = JSON.parse(line) as typeof call;
    } catch {
      continue;
    }
    addCall(counts, { ...call, at: new Date(call.at) });
  }
  return counts;
}

/** A UUID that is a function of the segment and the key: the event of these counts has always the same id. */
function eventIdOf(segmentId: string, key: string): string {
  const hex = createHash('sha256').update(`${segmentId}|${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * Counts prediction calls in memory per deployment and hour, and appends the sums as one
 * DeploymentUsageRecorded per deployment and hour every USAGE_FLUSH_SECONDS and at shutdown. An event per
 * prediction would flood the log (thousands a minute on a busy endpoint); sums per flush are a handful, and
 * latency histograms of fixed buckets add up across flushes and processes, so reports still have percentiles.
 * Each call is also appended to a local journal (DATA_DIR/journal, one JSON line, a write(2) without fsync):
 * counts of a process killed before its flush are written by the next start on this host, from its journal;
 * a power cut can still lose the calls the kernel had not written to the disk. A flush seals the journal
 * segment it sums; the events of a segment have ids derived from it, so writing it again after a crash
 * counts nothing twice. The usage streams are appended without an expected revision: their events only add,
 * in any order, and every api process writes them.
 */
@Injectable()
export class UsageRecorder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(UsageRecorder.name);
  /** Counts since the last flush, and the journal segment holding the same calls. */
  private pending: Counts = new Map();
  private segment?: JournalSegment;
  private sealed: SealedCounts[] = [];
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private readonly journalDirectory: string;
  private journalBroken = false;

  constructor(
    private readonly events: EventStore,
    private readonly settings: DeploymentSettings,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    platform: Settings,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {
    this.journalDirectory = join(platform.DATA_DIR, 'journal');
  }

  /** Writes the counts that processes now gone left in their journals, then flushes on a timer. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.readOnly) return;
    for (const orphan of await takeOverOrphans(this.journalDirectory, JOURNAL_KIND)) {
      this.sealed.push({ segmentId: orphan.id, counts: countsOf(orphan.content), remove: orphan.remove });
    }
    if (this.sealed.length > 0) void this.flush();
    this.timer = setInterval(() => void this.flush(), this.settings.USAGE_FLUSH_SECONDS * 1000);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
    // Counts that could not be written stay in their journal for the next start.
    this.segment?.close();
  }

  record(call: PredictionCall): void {
    if (this.readOnly) return;
    addCall(this.pending, call);
    try {
      this.segment ??= JournalSegment.create(this.journalDirectory, JOURNAL_KIND);
      this.segment.append(Buffer.from(`${JSON.stringify({ ...call, at: call.at.toISOString() })}\n`));
    } catch (error) {
      // Counting goes on in memory (written at the next flush), only without the crash safety.
      if (!this.journalBroken)
        this.logger.error(`Usage journal not writable, counts are kept in memory only: ${(error as Error).message}`);
      this.journalBroken = true;
    }
  }

  /** Appends what was counted since the last flush; counts that could not be written are tried again at the next one. */
  flush(): Promise<void> {
    // Never rejects: the timer does not await it, and a failed flush must not stop the ones after it.
    this.flushing = this.flushing
      .then(() => this.writePending())
      .catch((error: unknown) => this.logger.error(`Usage counts not flushed: ${String(error)}`));
    return this.flushing;
  }

  private async writePending(): Promise<void> {
    if (this.pending.size > 0) {
      const segment = this.segment;
      this.sealed.push({
        segmentId: segment?.id ?? randomUUID(),
        counts: this.pending,
        remove: async () => segment?.remove(),
      });
      this.pending = new Map();
      this.segment = undefined;
    }
    const metadata = toEventMetadata({ userId: null, correlationId: this.ids.newId(), now: this.clock.now() });
    for (const sealed of [...this.sealed]) {
      for (const [key, data] of sealed.counts) {
        try {
          await this.events.append(
            deploymentUsageStream(data.deploymentId),
            [{ type: 'DeploymentUsageRecorded', v: 1, data }],
            {
              expectedRevision: 'any',
              metadata,
              eventIds: [eventIdOf(sealed.segmentId, key)],
            },
          );
          sealed.counts.delete(key);
        } catch (error) {
          // The id names these very counts: taken means they were written by an attempt whose answer was lost.
          if ((error as { code?: string }).code === EVENT_ID_REUSED) {
            sealed.counts.delete(key);
            continue;
          }
          this.logger.warn(`Usage of deployment ${data.deploymentId} not written yet: ${(error as Error).message}`);
        }
      }
      if (sealed.counts.size === 0) {
        this.sealed = this.sealed.filter((other) => other !== sealed);
        // Its counts are written: a journal left behind is read again at a start, and its event ids are taken.
        await sealed
          .remove()
          .catch((error: unknown) =>
            this.logger.warn(`Usage journal ${sealed.segmentId} not deleted: ${(error as Error).message}`),
          );
      }
    }
  }
}
