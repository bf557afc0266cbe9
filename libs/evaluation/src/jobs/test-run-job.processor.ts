import { Injectable, Logger } from '@nestjs/common';
import { BlobStore } from '@diyml/blobs';
import { type CommandMetadata, isDomainError } from '@diyml/core/pure';
import { CommandPipeline, EventStore, loadStream, readStreamOf } from '@diyml/event-store';
import { type JobProcessor, JobProcessorProvider, onBehalfOf, UnrecoverableJobError } from '@diyml/jobs';
import { parseTestManifest } from '../domain/test-manifest.js';
import { type TestRunCommand, testRunDecider } from '../domain/test-run.decider.js';
import { type TestRunEvent, testRunStream } from '../domain/test-run.events.js';
import { PredictionCancelled, TestRunInputError } from '../worker/test-run-thread.js';
import { IterationPredictor } from './iteration-predictor.js';
import { encodeJson, resultsOf } from './test-run-results.js';

export const TEST_RUN_QUEUE = 'test-runs';
const CANCEL_POLL_MS = 250;

export interface TestRunJobPayload {
  v: 1;
  projectId: string;
  testRunId: string;
}

type Metadata = Omit<CommandMetadata, 'now'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * Runs one test run: reads its frozen manifest, has the model predict its images on a worker thread (from cached
 * embeddings where the model allows, see IterationPredictor) and records TestRunCompleted (metrics, predictions
 * blob) or TestRunFailed. A finished run is left alone, so a
 * repeated job changes nothing; a run cancelled while it predicts has its thread stopped.
 */
@JobProcessorProvider()
@Injectable()
export class TestRunJobProcessor implements JobProcessor<TestRunJobPayload> {
  readonly queue = TEST_RUN_QUEUE;
  private readonly logger = new Logger(TestRunJobProcessor.name);

  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
    private readonly predictor: IterationPredictor,
  ) {}

  async process({ testRunId }: TestRunJobPayload): Promise<void> {
    const stream = testRunStream(testRunId);
    const [requested] = await readStreamOf<TestRunEvent>(this.events, stream);
    const { state } = await loadStream(this.events, stream, testRunDecider);
    if (state.status !== 'requested' || requested?.type !== 'TestRunRequested') return;
    const spec = requested.data;
    const started = Date.now();
    const manifest = parseTestManifest(await this.blobs.get(spec.manifestSha256));
    const options =
      manifest.task !== 'detection'
        ? { threshold: 0, maxResults: manifest.labels.length }
        : { threshold: 0.05, maxResults: 100 };
    const cancellation = new AbortController();
    // Tried again at the next tick when the log does not answer: an unhandled rejection would end the process.
    const watch = setInterval(
      () =>
        void this.abortIfCancelled(stream, cancellation).catch((error: unknown) =>
          this.logger.warn(`Test run ${testRunId}: could not check for cancellation: ${String(error)}`),
        ),
      CANCEL_POLL_MS,
    );
    let outcome;
    try {
      outcome = await this.predictor.predict({
        projectId: spec.projectId,
        iterationId: spec.iterationId,
        modelSha256: spec.modelSha256,
        images: manifest.images.map((image) => image.sha256),
        options,
        requestedBy: onBehalfOf(requested),
        signal: cancellation.signal,
      });
    } catch (error) {
      if (error instanceof PredictionCancelled) {
        this.logger.log(`Test run ${testRunId} was cancelled while it ran`);
        return;
      }
      if (error instanceof TestRunInputError) throw new UnrecoverableJobError(error.message);
      throw error;
    } finally {
      clearInterval(watch);
    }
    const results = resultsOf(manifest, outcome.predictions);
    const [predictions, evaluation] = await Promise.all([
      this.blobs.put(encodeJson(results.predictions)),
      this.blobs.put(encodeJson(results.evaluation)),
    ]);
    try {
      await this.decide(
        stream,
        {
          type: 'CompleteTestRun',
          outcome: {
            metrics: results.metrics,
            predictionsSha256: predictions.sha256,
            evaluationSha256: evaluation.sha256,
            backend: outcome.backend,
            durationMs: Date.now() - started,
            ...(outcome.embeddings ? { embeddings: outcome.embeddings } : {}),
            ...(results.averagePrecision ? { averagePrecision: results.averagePrecision } : {}),
          },
        },
        onBehalfOf(requested),
      );
    } catch (error) {
      if (isDomainError(error, 'TEST_RUN_FINISHED')) {
        this.logger.log(`Test run ${testRunId} had already finished or was cancelled`);
        return;
      }
      throw error;
    }
  }

  async failed({ testRunId }: TestRunJobPayload, error: Error): Promise<void> {
    const code = error instanceof UnrecoverableJobError ? 'INVALID_MODEL' : 'TEST_RUN_FAILED';
    const stream = testRunStream(testRunId);
    const [requested] = await this.events.readStream(stream);
    await this.decide(stream, { type: 'FailTestRun', code, reason: error.message }, onBehalfOf(requested));
  }

  private async abortIfCancelled(stream: string, cancellation: AbortController): Promise<void> {
    const { state } = await loadStream(this.events, stream, testRunDecider);
    if (state.status === 'cancelled') cancellation.abort();
  }

  private decide(stream: string, command: DistributiveOmit<TestRunCommand, 'metadata'>, metadata: Metadata) {
    return this.pipeline.on(stream, testRunDecider).run({
      context: metadata,
      command: (_, full) => ({ ...command, metadata: full }) as TestRunCommand,
      waitForReadModels: false,
    });
  }
}
