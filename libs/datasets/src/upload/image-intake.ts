import { Injectable, Logger, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { BlobStore } from '@diyml/blobs';
import {
  Clock,
  type CommandMetadata,
  commandMetadata,
  DomainError,
  IdGenerator,
  isDomainError,
  mapConcurrently,
  type RequestContext,
  toPlainText,
} from '@diyml/core';
import {
  AppendOrder,
  type AppendTurn,
  CommandPipeline,
  EventStore,
  readStreamOf,
  WRONG_EXPECTED_REVISION,
} from '@diyml/event-store';
import type { ProjectView } from '@diyml/projects';
import { type HeldLease, Lease } from '@diyml/read-store';
import { abandonedUploadDecider } from '../domain/abandoned-upload.decider.js';
import { contentHolder, imageContentClaimDecider } from '../domain/image-content-claim.decider.js';
import { imageDecider, type ProjectContext, validateRegions } from '../domain/image.decider.js';
import {
  type ImageContentEvent,
  imageContentStream,
  type ImageEvent,
  type ImageOrigin,
  imageStream,
  type ImageUploadAbandoned,
  type Region,
  type Split,
} from '../domain/image.events.js';
import { type InspectedImage, inspectImage } from '../images/image-inspection.js';
import { type ImageDestination, ImageQuota } from './image-quota.js';
import { UploadLimits } from './upload-limits.js';

/**
 * One file to add to a project. `bytes`: the file's bytes, or the temporary file holding them (read when checked and
 * again when stored, so an import of thousands of files holds a few at a time); null: the file was over the size
 * limit and was not kept.
 */
export interface IncomingImage {
  filename: string;
  bytes: Buffer | { file: string } | null;
  labelId: string | null;
  /** Several whole-image labels (multilabel projects; a classification project takes at most one). */
  labelIds?: string[];
  regions?: Region[];
  split: Split;
  /** A frame of a video. */
  source?: ImageOrigin;
}

export type IntakeStatus = 'created' | 'duplicate' | 'rejected';

export interface IntakeItem {
  filename: string;
  status: IntakeStatus;
  /** The new image, or for a duplicate the image already holding the same bytes. */
  id?: string;
  error?: { code: string; message: string };
}

type Prepared =
  { rejection: IntakeItem } | { image: InspectedImage; sha256: string; bytes: number; regions: Region[] | undefined };

/** What became of one file, and the log position of its upload (-1 when nothing was recorded). */
interface Recorded {
  item: IntakeItem;
  position: number;
}

/** What the bytes of one file are: an image (not stored yet), or why the file is refused. */
export type Inspection = { rejection: IntakeItem } | { image: InspectedImage };

/** The bytes of a file that was kept, read from its temporary file if it is in one. */
async function bytesOf(bytes: Buffer | { file: string }): Promise<Buffer> {
  return Buffer.isBuffer(bytes) ? bytes : readFile(bytes.file);
}

/** Files checked (decoded) and stored at the same time within one request. */
const CONCURRENCY = 8;
/**
 * A claim whose image stream is still empty is an upload in flight for this long at most; after, an abandoned one.
 * A claim naming a process (v2) is abandoned sooner, as soon as that process's lease lapsed (see `processAlive`).
 */
const CLAIM_IN_FLIGHT_MS = 60_000;
const CLAIM_ATTEMPTS = 5;
/** How often an upload whose bytes another upload claimed and has not recorded yet looks again at that one. */
const IN_FLIGHT_POLL_MS = 100;
/** Pause between tries to give back the claim of a failed upload while the log does not answer. */
const GIVE_BACK_RETRY_MS = 500;

/** Lease names of the processes taking uploads in: `upload-process:<id>`. */
const PROCESS_LEASE_PREFIX = 'upload-process:';

/**
 * What became of the upload that claimed some bytes. `abandoned`: neither recorded nor in flight any more, but not
 * fenced yet: its claim stands until it is (see `abandonUpload`).
 */
type HolderStatus = 'recorded' | 'in-flight' | 'abandoned' | 'gone';

/** What an intake needs to know of the project (a job, which has no read models, builds it from its events). */
export type ProjectReference = Pick<ProjectView, 'id' | 'type'> & {
  labels: readonly { id: string; negative?: boolean }[];
};

export function projectContextOf(project: ProjectReference): ProjectContext {
  const negativeLabelId = project.labels.find((label) => label.negative)?.id ?? null;
  return { id: project.id, type: project.type, labelIds: project.labels.map((label) => label.id), negativeLabelId };
}

/**
 * Adds images to a project, each file on its own: check the bytes (sharp decodes them), store the blob,
 * claim the content for the project (exact duplicate detection), then record ImageUploaded. A rejected file
 * leaves no event and no blob; a file reported created is in the log and its bytes in the blob store.
 */
@Injectable()
export class ImageIntake implements OnApplicationShutdown {
  private readonly logger = new Logger(ImageIntake.name);
  /** Ends the claims given back in the background when the app stops. */
  private readonly stopping = new AbortController();
  /** The lease naming this process in its claims (`upload-process:<uuid>`), held while it lives; null without leases. */
  private readonly processId: string | null;
  private processLease?: Promise<HeldLease | undefined>;
  private renewal?: NodeJS.Timeout;

  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly limits: UploadLimits,
    /** The reactors' leases (absent in a process without them, the worker: its claims then name no process). */
    @Optional() private readonly lease?: Lease,
    /** The image quotas (absent in the worker, which has no read models: its frames were counted at upload). */
    @Optional() private readonly quota?: ImageQuota,
  ) {
    this.processId = lease ? `${PROCESS_LEASE_PREFIX}${randomUUID()}` : null;
  }

  /**
   * The one check-and-reserve of every path that adds images (uploads, URL uploads before fetching, Custom Vision
   * batches, dataset imports, videos for their frames, promoted predictions): runs `work`, which takes in at most
   * `adding` images, when they fit in MAX_IMAGES_PER_PROJECT and MAX_IMAGES_PER_USER, reserving them until it is
   * over; 422 IMAGE_QUOTA_EXCEEDED before it otherwise (see ImageQuota.hold).
   */
  withRoom<T>(destination: ImageDestination, adding: number, work: () => Promise<T>): Promise<T> {
    if (!this.quota) throw new Error('Images are added only where the read models are (the api), not in a worker');
    return this.quota.hold(destination, adding, work);
  }

  /**
   * The process to name in a claim: this one once it holds its lease (taken before its first claim, renewed every
   * third of CLAIM_LEASE_TTL_MS, taken again if it was lost: nobody else takes a lease of this name); null while the
   * lease store does not answer, so the claim keeps the 60 s rule instead of failing the upload.
   */
  private async claimingProcess(): Promise<string | null> {
    if (!this.lease || !this.processId) return null;
    const { lease, processId } = this;
    const ttl = this.limits.CLAIM_LEASE_TTL_MS;
    this.processLease ??= lease.tryAcquire(processId, ttl);
    this.renewal ??= setInterval(
      () => {
        void (async () => {
          const current = await this.processLease?.catch(() => undefined);
          if (current && (await current.renew())) return;
          this.processLease = lease.tryAcquire(processId, ttl);
          await this.processLease;
        })().catch((error: unknown) => this.logger.warn(`Renewing the upload lease failed: ${String(error)}`));
      },
      Math.floor(ttl / 3),
    ).unref();
    try {
      return (await this.processLease) ? processId : null;
    } catch (error) {
      this.logger.warn(`The upload lease could not be taken (${String(error)}); claims name no process meanwhile`);
      this.processLease = undefined;
      return null;
    }
  }

  /** Whether the process named by a claim still lives (holds its lease); undefined when that cannot be told. */
  async processAlive(processId: string | null): Promise<boolean | undefined> {
    if (!this.lease || processId === null || !processId.startsWith(PROCESS_LEASE_PREFIX)) return undefined;
    if (processId === this.processId) return true;
    try {
      const taken = await this.lease.tryAcquire(processId, 1000);
      if (!taken) return true;
      await taken.release();
      return false;
    } catch (error) {
      // The lease store does not answer: the claim's age decides, as for a claim naming no process.
      this.logger.warn(`Asking whether ${processId} lives failed: ${String(error)}`);
      return undefined;
    }
  }

  /**
   * Takes in every file and waits until they can be read. Files are checked and stored in parallel, then
   * recorded together, with their uploads appended in the order sent (see `record`), so the images list in
   * that order and, of two equal files, the later one is the duplicate.
   */
  async intake(
    project: ProjectReference,
    files: readonly IncomingImage[],
    context: RequestContext,
    /** From `inspect`, when the files were checked already (one per file). */
    inspections?: readonly Inspection[],
  ): Promise<IntakeItem[]> {
    const metadata = commandMetadata(context, this.clock.now());
    const projectContext = projectContextOf(project);
    const prepared = files.map(() => {
      let resolve!: (value: Prepared) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<Prepared>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => undefined);
      return { promise, resolve, reject };
    });
    const workers = mapConcurrently(
      files.length,
      (index) =>
        this.prepare(projectContext, files[index], inspections?.[index]).then(
          prepared[index].resolve,
          prepared[index].reject,
        ),
      CONCURRENCY,
    );
    const records: Promise<Recorded>[] = [];
    /** The last record of each content in this request: an equal file later in the request waits for it. */
    const lastOfContent = new Map<string, Promise<Recorded>>();
    const uploads = new AppendOrder();
    for (const [index, file] of files.entries()) {
      const ready = await prepared[index].promise;
      if ('rejection' in ready) {
        records.push(Promise.resolve({ item: ready.rejection, position: -1 }));
        continue;
      }
      const sameContentBefore = lastOfContent.get(ready.sha256);
      const record = this.record(projectContext, file, ready, metadata, sameContentBefore, uploads.take());
      record.catch(() => undefined);
      lastOfContent.set(ready.sha256, record);
      records.push(record);
    }
    await workers;
    const settled = await Promise.allSettled(records);
    const failure = settled.find((outcome) => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    const recorded = settled.map((outcome) => (outcome as PromiseFulfilledResult<Recorded>).value);
    await this.pipeline.waitFor(Math.max(-1, ...recorded.map(({ position }) => position)));
    return recorded.map(({ item }) => item);
  }

  /** Checks the bytes of every file (decoding them) without storing or recording anything. */
  inspect(files: readonly IncomingImage[]): Promise<Inspection[]> {
    return mapConcurrently(files.length, (index) => this.inspectOne(files[index]), CONCURRENCY);
  }

  private async inspectOne(file: IncomingImage): Promise<Inspection> {
    const { filename } = file;
    if (file.bytes === null) {
      const message = `The file has more than ${this.limits.UPLOAD_MAX_FILE_BYTES} bytes.`;
      return { rejection: { filename, status: 'rejected', error: { code: 'FILE_TOO_LARGE', message } } };
    }
    const inspected = await inspectImage(await bytesOf(file.bytes), {
      maxFileBytes: this.limits.UPLOAD_MAX_FILE_BYTES,
      maxPixels: this.limits.UPLOAD_MAX_PIXELS,
    });
    if (!inspected.ok) return { rejection: { filename, status: 'rejected', error: inspected.rejection } };
    const { converted, ...image } = inspected.image;
    if (converted && !Buffer.isBuffer(file.bytes)) {
      // A file of an import: the JPEG takes its place there, so an archive of HEIC photos, all inspected before any is
      // stored, is not held in memory converted.
      await writeFile(file.bytes.file, converted);
      return { image };
    }
    return { image: inspected.image };
  }

  /** Checks the bytes (unless inspected already) and stores the blob; nothing is stored for a rejected file. */
  private async prepare(project: ProjectContext, file: IncomingImage, inspection?: Inspection): Promise<Prepared> {
    const { filename } = file;
    const rejected = (code: string, message: string): Prepared => ({
      rejection: { filename, status: 'rejected', error: { code, message } },
    });
    const inspected = inspection ?? (await this.inspectOne(file));
    if ('rejection' in inspected) return inspected;
    let regions: Region[] | undefined;
    try {
      regions = file.regions?.length ? validateRegions(project, file.regions) : undefined;
    } catch (error) {
      if (error instanceof DomainError) return rejected(error.code, error.message);
      throw error;
    }
    const { sha256, bytes } = await this.blobs.put(inspected.image.converted ?? (await bytesOf(file.bytes!)));
    return { image: inspected.image, sha256, bytes, regions };
  }

  /**
   * Claims the content for the project and records the upload. Claims of different files run at the same
   * time; a file waits for the earlier file of the same content (so the later one is the duplicate), and
   * issues its upload append only after the file before it issued its own: the embedded and PostgreSQL logs
   * number appends in the order they are called, so the positions, which order the images list, follow the
   * order sent, while appends in flight together share a commit.
   */
  private async record(
    project: ProjectContext,
    file: IncomingImage,
    ready: Exclude<Prepared, { rejection: IntakeItem }>,
    metadata: CommandMetadata,
    sameContentBefore: Promise<Recorded> | undefined,
    turn: AppendTurn,
  ): Promise<Recorded> {
    try {
      await sameContentBefore?.catch(() => undefined);
      return await this.claimAndRecord(project, file, ready, metadata, turn);
    } finally {
      turn.done();
    }
  }

  /** Claims the content under a new image id and records the upload; claims again when the claim was lost meanwhile. */
  private async claimAndRecord(
    project: ProjectContext,
    file: IncomingImage,
    ready: Exclude<Prepared, { rejection: IntakeItem }>,
    metadata: CommandMetadata,
    turn: AppendTurn,
  ): Promise<Recorded> {
    const { filename } = file;
    const { sha256, bytes, regions } = ready;
    for (let attempt = 1; ; attempt += 1) {
      const imageId = this.ids.newId();
      let holder: string;
      try {
        holder = await this.claim(project.id, sha256, imageId, metadata, turn);
      } catch (error) {
        // A claim whose answer was lost (the connection dropped) may have been recorded: it must not stay in flight.
        await this.giveBack(project.id, sha256, imageId, metadata);
        throw error;
      }
      if (holder !== imageId) return { item: { filename, status: 'duplicate', id: holder }, position: -1 };
      try {
        const { format, width, height, dhash } = ready.image;
        const { position } = await this.pipeline.on(imageStream(imageId), imageDecider).run({
          context: metadata,
          command: {
            type: 'UploadImage',
            project,
            imageId,
            filename: toPlainText(filename).slice(0, 500),
            sha256,
            width,
            height,
            format,
            bytes,
            dhash,
            labelId: file.labelId,
            ...(file.labelIds ? { labelIds: file.labelIds } : {}),
            regions,
            split: file.split,
            source: file.source,
          },
          newStream: true,
          turn,
          waitForReadModels: false,
        });
        return { item: { filename, status: 'created', id: imageId }, position };
      } catch (error) {
        // The image's stream exists: this process stalled past its lease and another one took the claim over and
        // abandoned this upload (see `abandonUpload`). Claimed again, the content is most likely a duplicate now.
        if (isDomainError(error, WRONG_EXPECTED_REVISION) && attempt < CLAIM_ATTEMPTS) {
          this.logger.warn(`The content claim of ${imageId} was taken over while its upload stalled; claiming again`);
          continue;
        }
        await this.giveBack(project.id, sha256, imageId, metadata);
        if (error instanceof DomainError) {
          return {
            item: { filename, status: 'rejected', error: { code: error.code, message: error.message } },
            position: -1,
          };
        }
        throw error;
      }
    }
  }

  /**
   * Claims the content for the image; returns the id of the image that holds it (the given one when the
   * claim succeeded). A concurrent claim is decided again on the newer stream, so two uploads of the same
   * bytes never both win. While the holder's upload is in flight (claimed, not recorded yet) the answer waits:
   * "duplicate" names an image that exists, and a holder whose upload failed gives its claim back (see
   * `giveBack`) or, if its process died, is fenced and taken over once its claim is too old to be in flight.
   */
  private async claim(
    projectId: string,
    sha256: string,
    imageId: string,
    metadata: CommandMetadata,
    turn: AppendTurn,
  ): Promise<string> {
    const stream = imageContentStream(projectId, sha256);
    const processId = await this.claimingProcess();
    for (;;) {
      let holderStatus = 'gone' as HolderStatus;
      const now = this.clock.now();
      const { before, events } = await this.pipeline.on(stream, imageContentClaimDecider).run({
        context: { ...metadata, now },
        command: async (state) => {
          holderStatus =
            state.holder !== null && state.holder !== imageId
              ? await this.holderStatus(state.holder, projectId, sha256, now)
              : 'gone';
          return {
            type: 'ClaimImageContent',
            projectId,
            sha256,
            imageId,
            holderActive: holderStatus !== 'gone',
            processId,
          };
        },
        retry: { attempts: CLAIM_ATTEMPTS },
        waitForReadModels: false,
      });
      const holder = contentHolder(before, events, imageId);
      if (holder === imageId) return holder;
      if (holderStatus === 'abandoned') {
        // Fenced here, after the claim's decision: the next look finds the holder gone and takes its claim over, or
        // recorded after all (it was first), then this upload is its duplicate.
        await this.abandonUpload(projectId, sha256, holder, { ...metadata, now });
        continue;
      }
      if (holderStatus !== 'in-flight') return holder;
      // Most likely a duplicate, which appends nothing: the files after this one need not wait for it.
      turn.done();
      await sleep(IN_FLIGHT_POLL_MS, undefined, { signal: this.stopping.signal });
    }
  }

  /**
   * Whether the image named by the claim was recorded, is still being uploaded, was abandoned (its claim too old or its
   * process dead) or is gone (removed, or abandoned and fenced). Only reads: the claim's command is built from it.
   */
  private async holderStatus(holderId: string, projectId: string, sha256: string, now: Date): Promise<HolderStatus> {
    const history = await readStreamOf<ImageEvent | ImageUploadAbandoned>(this.events, imageStream(holderId));
    if (history.some((event) => event.type === 'ImageRemoved' || event.type === 'ImageUploadAbandoned')) return 'gone';
    if (history.length > 0) return 'recorded';
    const claims = await readStreamOf<ImageContentEvent>(this.events, imageContentStream(projectId, sha256));
    const claimed = claims.findLast((event) => event.type === 'ImageContentClaimed' && event.data.imageId === holderId);
    const tooOld = claimed === undefined || now.getTime() - Date.parse(claimed.metadata.at) >= CLAIM_IN_FLIGHT_MS;
    // The upload of a process that died (its lease lapsed) will never be recorded.
    const processId = claimed?.type === 'ImageContentClaimed' ? claimed.data.processId : null;
    if (!tooOld && (await this.processAlive(processId)) !== false) return 'in-flight';
    return 'abandoned';
  }

  /**
   * Fences the upload of `imageId` before its claim is taken over or released: should its process only have stalled
   * (GC pause, SIGSTOP, swapped out) and resume, it can no longer record the image. False when the image was recorded
   * first: its claim stands.
   */
  async abandonUpload(projectId: string, sha256: string, imageId: string, metadata: CommandMetadata): Promise<boolean> {
    const { before, events } = await this.pipeline.on(imageStream(imageId), abandonedUploadDecider).run({
      context: metadata,
      command: { type: 'AbandonImageUpload', projectId, sha256, imageId },
      retry: { attempts: 2 },
      waitForReadModels: false,
    });
    return events.length > 0 || before.abandoned;
  }

  /**
   * After an upload failed: gives its claim back, unless its image was recorded after all (an append whose answer
   * the lost connection took: the client's retry is then a duplicate of it). While the log does not answer, this
   * goes on in the background for as long as the claim would count as in flight, so an upload of the same bytes
   * waiting on it (see `claim`) is not held up to the end of that time.
   */
  private async giveBack(projectId: string, sha256: string, imageId: string, metadata: CommandMetadata): Promise<void> {
    const giveBackOnce = async () => {
      if ((await this.events.readStream(imageStream(imageId))).length > 0) return;
      await this.release(projectId, sha256, imageId, { ...metadata, now: this.clock.now() });
    };
    try {
      await giveBackOnce();
    } catch (error) {
      this.logger.warn(`Giving back the content claim of ${imageId} failed (${String(error)}); trying again`);
      const until = this.clock.now().getTime() + CLAIM_IN_FLIGHT_MS;
      void (async () => {
        while (this.clock.now().getTime() < until && !this.stopping.signal.aborted) {
          try {
            await sleep(GIVE_BACK_RETRY_MS, undefined, { signal: this.stopping.signal });
            await giveBackOnce();
            return;
          } catch {
            // still unreachable, or stopping: the loop's condition decides
          }
        }
        if (!this.stopping.signal.aborted) {
          this.logger.error(`The content claim of ${imageId} was not given back; from now on it counts as abandoned`);
        }
      })();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.renewal);
    // Given up at once: uploads this process leaves unfinished are taken over without waiting for the lease to lapse.
    await (await this.processLease?.catch(() => undefined))?.release().catch(() => undefined);
  }

  /** Gives the content back after the image is removed (or its upload failed), if the image still holds it. */
  async release(projectId: string, sha256: string, imageId: string, metadata: CommandMetadata): Promise<void> {
    // Retried: someone who took the content over meanwhile makes the release a no-op, not a conflict.
    await this.pipeline.on(imageContentStream(projectId, sha256), imageContentClaimDecider).run({
      context: metadata,
      command: { type: 'ReleaseImageContent', projectId, sha256, imageId },
      retry: { attempts: 2 },
      waitForReadModels: false,
    });
  }
}
