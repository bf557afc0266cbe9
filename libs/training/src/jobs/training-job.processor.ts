import { Injectable, Logger } from '@nestjs/common';
import sharp from 'sharp';
import { BLOB_NOT_FOUND, BlobStore } from '@diyml/blobs';
import { type CommandMetadata, isDomainError, mapConcurrently } from '@diyml/core/pure';
import { CommandPipeline, EventStore, loadStream } from '@diyml/event-store';
import {
  type JobContext,
  type JobProcessor,
  JobProcessorProvider,
  onBehalfOf,
  UnrecoverableJobError,
} from '@diyml/jobs';
import {
  decodeEmbeddingTable,
  describeImportedBackbone,
  embeddingSpaceKey,
  emptyEmbeddingTable,
  encodeEmbeddingTable,
  encodeFeatureMapIndex,
  featureMapsFromBytes,
  featureMapsToBytes,
  getArchitecture,
  readFeatureMapIndex,
  type EmbeddingSpace,
  type EmbeddingTable,
  type ImageFeatureMaps,
  type TrainingConfig,
  type TrainingResult,
} from '@diyml/ml';
import { BackboneCatalog } from '@diyml/projects';
import { type IterationCommand, iterationDecider, lostAttempts } from '../domain/iteration.decider.js';
import { type IterationOutcome, type IterationQueued, iterationStream } from '../domain/iteration.events.js';
import { parseManifest } from '../manifest/dataset-manifest.js';
import { packModel, unpackModel } from '../model/model-archive.js';
import { TrainingInputError, TrainingThread, TrainingThreadCancelled } from '../worker/training-thread.js';
import { toMlConfig, toTrainingDataset } from './training-dataset.js';
import { readImagesPacked } from './training-images.js';
import { toBatchProgress } from './batch-progress.js';
import { type PreparationProgress, throttlePreparation, toPreparationProgress } from './preparation-progress.js';
import { evaluationOf } from './evaluation.js';

export const TRAINING_QUEUE = 'training';
/**
 * A run that lost its worker this many times is failed rather than started again; attempts a stopping worker handed
 * back (IterationHandedBack) do not count.
 */
export const MAX_TRAINING_ATTEMPTS = 3;
const CANCEL_POLL_MS = 500;
/** Cached feature-map blobs read at once while a run starts. */
const BLOB_READS_AT_ONCE = 4;

export interface TrainingJobPayload {
  v: 1;
  projectId: string;
  iterationId: string;
}

type Metadata = Omit<CommandMetadata, 'now'>;

/**
 * Trains one iteration: reads its frozen manifest and images, trains on a worker thread, and records
 * IterationStarted, EpochCompleted… and IterationCompleted (or IterationFailed) on the iteration's stream.
 * Running it again for a finished iteration does nothing; for one whose worker died, it starts a new attempt.
 */
@JobProcessorProvider()
@Injectable()
export class TrainingJobProcessor implements JobProcessor<TrainingJobPayload> {
  readonly queue = TRAINING_QUEUE;
  private readonly logger = new Logger(TrainingJobProcessor.name);

  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
    private readonly backbones: BackboneCatalog,
  ) {}

  async process({ iterationId }: TrainingJobPayload, context: JobContext): Promise<void> {
    const stream = iterationStream(iterationId);
    const recorded = await this.events.readStream(stream);
    const { state } = await loadStream(this.events, stream, iterationDecider);
    if (state.status !== 'queued' && state.status !== 'running') return;
    const metadata = onBehalfOf(recorded[0]);
    const lost = lostAttempts(state);
    if (lost >= MAX_TRAINING_ATTEMPTS) {
      await this.decide(
        stream,
        { type: 'FailIteration', code: 'WORKER_LOST', reason: `training stopped unexpectedly ${lost} times` },
        metadata,
      );
      return;
    }
    const attempt = state.status === 'running' ? state.attempt + 1 : context.attempt;

    // Transient: a lost report only leaves watchers on the previous one, so it never stops training.
    const report = (progress: Record<string, unknown>) =>
      void context
        .reportProgress(progress)
        .catch((error: unknown) => this.logger.warn(`Iteration ${iterationId}: progress not reported: ${error}`));
    const reportPreparation = (preparation: Parameters<typeof toPreparationProgress>[0]) =>
      report({ ...toPreparationProgress(preparation, attempt, new Date()) } satisfies PreparationProgress);

    const queued = recorded[0].data as IterationQueued['data'];
    const manifest = parseManifest(await this.blobs.get(queued.manifestSha256));
    const readStarted = performance.now();
    const reportRead = throttlePreparation(reportPreparation);
    const images = await readImagesPacked(
      this.blobs,
      manifest.images.map((image) => image.sha256),
      (done, total) => {
        const elapsedMs = performance.now() - readStarted;
        reportRead({
          phase: 'reading',
          done,
          total,
          cached: 0,
          elapsedMs,
          perSecond: elapsedMs > 0 ? (done * 1000) / elapsedMs : 0,
        });
      },
      context.handedBack,
    ).catch((error: unknown) => {
      // Handed back while reading: nothing to record, the next worker numbers its attempt the same.
      if (context.handedBack.aborted) return null;
      throw error;
    });
    if (!images) return;
    const { dataset, imageIds } = toTrainingDataset(manifest, images);
    const config = {
      ...toMlConfig(queued.trainingConfig, await channelsOf(images.values())),
      detectionSplitByLabel: queued.detectionSplitByLabel === true,
      multilabelSplitByLabel: queued.multilabelSplitByLabel === true,
    };
    // Which blobs hold the cached feature maps the run may reuse, so storing them again is skipped.
    const storedMaps: StoredMaps = new Map();
    if (getArchitecture(queued.architecture).usesBackbone)
      Object.assign(config, await this.backboneConfig(queued, new Set(images.keys()), storedMaps));
    else if (queued.baseModelSha256) config.baseModel = unpackModel(await this.blobs.get(queued.baseModelSha256));
    // The images move to the training thread with the dataset: this thread keeps no copy.
    images.clear();
    // Handed back before training started: nothing to record, the next worker numbers its attempt the same.
    if (context.handedBack.aborted) return;

    const thread = new TrainingThread();
    const stopOnHandBack = () => thread.cancel();
    context.handedBack.addEventListener('abort', stopOnHandBack, { once: true });
    // A failed look (the log unreachable for a moment) is tried again at the next tick, never left unhandled:
    // an unhandled rejection ends the worker process.
    const watch = setInterval(
      () =>
        void this.cancelIfRequested(stream, thread).catch((error: unknown) =>
          this.logger.warn(`Iteration ${iterationId}: could not check for cancellation: ${String(error)}`),
        ),
      CANCEL_POLL_MS,
    );
    try {
      const result = await thread.run(dataset, config, {
        onStarted: async (backend) => {
          await this.decide(stream, { type: 'StartIteration', attempt, backend }, metadata);
        },
        onEpoch: async (stats) => {
          await this.decide(stream, { type: 'CompleteEpoch', attempt, stats }, metadata);
        },
        onPreparation: reportPreparation,
        onBatch: (batch) => report({ ...toBatchProgress(batch, attempt, new Date()) }),
      });
      await this.decide(
        stream,
        {
          type: 'CompleteIteration',
          outcome: await this.store(
            result,
            manifest.labels.map((l) => l.name),
            imageIds,
            storedMaps,
          ),
        },
        metadata,
      );
    } catch (error) {
      if (context.handedBack.aborted) {
        await this.decide(stream, { type: 'HandBackIteration', attempt }, metadata);
        this.logger.log(`Iteration ${iterationId}: attempt ${attempt} stopped, handed back to the queue`);
        return;
      }
      if (
        error instanceof TrainingThreadCancelled ||
        isDomainError(error, 'ITERATION_NOT_RUNNING') ||
        isDomainError(error, 'ITERATION_FINISHED')
      ) {
        this.logger.log(`Iteration ${iterationId} stopped: it was cancelled or finished elsewhere`);
        return;
      }
      if (error instanceof TrainingInputError) throw new UnrecoverableJobError(error.message);
      throw error;
    } finally {
      clearInterval(watch);
      context.handedBack.removeEventListener('abort', stopOnHandBack);
    }
  }

  async failed({ iterationId }: TrainingJobPayload, error: Error): Promise<void> {
    const code = error instanceof UnrecoverableJobError ? 'INVALID_TRAINING_INPUT' : 'TRAINING_FAILED';
    const stream = iterationStream(iterationId);
    const [queued] = await this.events.readStream(stream);
    await this.decide(stream, { type: 'FailIteration', code, reason: error.message }, onBehalfOf(queued));
  }

  /**
   * The backbone (registered, or the model of `baseIterationId`) as plain data for the training thread, where to
   * keep URL weights, and the embedding tables the run reuses: classification tables whole; of detection feature
   * map indexes, the maps of this run's images (each image's blob read once, noted in `storedMaps`; a blob that is
   * gone, e.g. after a project import, or does not fit its index, is computed again).
   */
  private async backboneConfig(
    queued: IterationQueued['data'],
    images: ReadonlySet<string>,
    storedMaps: StoredMaps,
  ): Promise<Partial<TrainingConfig>> {
    const backbone = queued.baseModelSha256
      ? await describeImportedBackbone(
          `model-${queued.baseModelSha256.slice(0, 12)}`,
          unpackModel(await this.blobs.get(queued.baseModelSha256)),
        )
      : this.backbones.describe(queued.trainingConfig.backbone ?? null);
    const embeddings: EmbeddingTable[] = [];
    for (const sha256 of queued.embeddingsSha256 ?? []) {
      const bytes = new Uint8Array(await this.blobs.get(sha256));
      const index = readFeatureMapIndex(bytes);
      if (!index) {
        embeddings.push(decodeEmbeddingTable(bytes));
        continue;
      }
      const table = emptyEmbeddingTable(index.space, index.dimension);
      const wanted = index.images.filter(([image, , views]) => {
        const known = new Set(storedMaps.get(imageKey(index.space, image))?.flatMap((entry) => entry.views));
        return images.has(image) && !views.every((view) => known.has(view));
      });
      // The blob's own Buffer: its maps are read in place (a copy was 1.8 GB for 2,000 photos).
      const read = await this.storedBlobs(wanted.map(([, blob]) => blob));
      wanted.forEach(([image, blob, views], position) => {
        const bytes = read[position];
        const maps = bytes && featureMapsFromBytes(bytes, index.dimension, views.length);
        if (!maps) return;
        const into = table.vectors.get(image) ?? new Map<string, Float32Array>();
        views.forEach((view, viewPosition) => into.set(view, maps[viewPosition]));
        table.vectors.set(image, into);
        const key = imageKey(index.space, image);
        storedMaps.set(key, [...(storedMaps.get(key) ?? []), { sha256: blob, views }]);
      });
      embeddings.push(table);
    }
    return { backbone, backboneLoading: { cacheDirectory: this.backbones.cacheDirectory }, embeddings };
  }

  /**
   * The blobs' bytes in order, null for one that is gone: one read each, where asking first cost a file lookup per
   * image, and a few at once, as one at a time waited on the file system (2,000 photos: 2,000 blobs, 1.8 GB).
   */
  private storedBlobs(sha256s: readonly string[]): Promise<(Buffer | null)[]> {
    return mapConcurrently(
      sha256s.length,
      async (position) => {
        try {
          return await this.blobs.get(sha256s[position]);
        } catch (error) {
          if (!isDomainError(error, BLOB_NOT_FOUND)) throw error;
          return null;
        }
      },
      BLOB_READS_AT_ONCE,
    );
  }

  /**
   * Each image's feature maps the run used as one blob (unless a stored blob holds exactly those views), and their
   * index as a blob: its sha256.
   */
  private async storeFeatureMaps(
    { space, dimension, vectors }: EmbeddingTable,
    storedMaps: StoredMaps,
  ): Promise<string> {
    const entries: ImageFeatureMaps[] = [];
    for (const [image, maps] of vectors) {
      const used = [...maps.keys()];
      const stored = storedMaps
        .get(imageKey(space, image))
        ?.find((entry) => entry.views.length === used.length && used.every((view) => entry.views.includes(view)));
      if (stored) {
        entries.push([image, stored.sha256, stored.views]);
        continue;
      }
      const views = used.sort();
      const blob = await this.blobs.put(featureMapsToBytes(views.map((view) => maps.get(view)!)));
      entries.push([image, blob.sha256, views]);
    }
    return (await this.blobs.put(encodeFeatureMapIndex(space, dimension, entries))).sha256;
  }

  private async store(
    result: TrainingResult,
    labels: string[],
    imageIds: string[],
    storedMaps: StoredMaps,
  ): Promise<IterationOutcome> {
    const model = await this.blobs.put(packModel(result.model));
    const cached = result.embeddings ?? result.featureMaps;
    const embeddings = result.embeddings
      ? await this.blobs.put(encodeEmbeddingTable(result.embeddings))
      : result.featureMaps
        ? { sha256: await this.storeFeatureMaps(result.featureMaps, storedMaps) }
        : null;
    const evaluation = result.validation
      ? await this.blobs.put(evaluationOf(result.validation, labels, imageIds))
      : null;
    return {
      modelSha256: model.sha256,
      modelBytes: model.bytes,
      evaluationSha256: evaluation?.sha256 ?? null,
      metrics: result.validation?.metrics ?? null,
      backend: result.backend,
      bestEpoch: result.bestEpoch,
      stoppedEarly: result.stoppedEarly,
      trainCount: result.trainCount,
      validationCount: result.validationCount,
      trainingDurationMs: Math.round(result.durationMs),
      ...(embeddings && cached
        ? { embeddingsSha256: embeddings.sha256, embeddingsComputed: cached.computed, embeddingsReused: cached.reused }
        : {}),
    };
  }

  private async cancelIfRequested(stream: string, thread: TrainingThread): Promise<void> {
    const { state } = await loadStream(this.events, stream, iterationDecider);
    if (state.status === 'cancelled' || state.status === 'failed') thread.cancel();
  }

  private async decide(stream: string, command: DistributiveOmit<IterationCommand, 'metadata'>, metadata: Metadata) {
    return this.pipeline.on(stream, iterationDecider).run({
      context: metadata,
      command: (_, full) => ({ ...command, metadata: full }) as IterationCommand,
      waitForReadModels: false,
    });
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Per embedding space and image (imageKey): the stored blobs holding its feature maps, and of which views. */
type StoredMaps = Map<string, { sha256: string; views: string[] }[]>;

const imageKey = (space: EmbeddingSpace, image: string) => `${embeddingSpaceKey(space)}\n${image}`;

/** Grayscale datasets train 1-channel models (smaller, faster); anything with colour trains RGB. */
async function channelsOf(images: Iterable<Uint8Array>): Promise<1 | 3> {
  for (const bytes of images) {
    const { channels, space } = await sharp(bytes).metadata();
    if (space !== 'b-w' && (channels ?? 3) > 2) return 3;
  }
  return 1;
}
