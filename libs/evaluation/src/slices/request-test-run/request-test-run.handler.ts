import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { BlobStore } from '@diyml/blobs';
import { DomainError, IdGenerator, type RequestContext } from '@diyml/core';
import { DatasetQueries, inspectImage, UploadLimits } from '@diyml/datasets';
import type { ReceivedFile } from '@diyml/datasets';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess, type ProjectView } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { ITERATIONS, type IterationView } from '@diyml/training';
import { serializeTestManifest, type TestImage, type TestManifest } from '../../domain/test-manifest.js';
import { testRunDecider } from '../../domain/test-run.decider.js';
import { type TestRunSource, testRunStream } from '../../domain/test-run.events.js';
import { TestRunQueries } from '../../read-models/test-runs/test-run-queries.js';
import type { TestRunView } from '../../read-models/test-runs/test-run.view.js';
import {
  expectedOf,
  ModelLabels,
  parseCocoField,
  parseLabelsField,
  type TestAnnotationIssue,
  uploadName,
} from './test-set.js';

export type TestSetInput =
  { kind: 'upload'; files: ReceivedFile[]; labels: string | undefined; coco?: string } | { kind: 'split' };

/** The run, and the annotations of a `coco` field that were dropped or changed on the way in. */
export type RequestedTestRun = { run: TestRunView; annotationIssues: TestAnnotationIssue[] };

/** The expected answers by file name, where they came from, and what of a COCO field was dropped or changed. */
type TestAnswers = ReturnType<typeof parseCocoField> & { from: 'labels' | 'coco' };

export class RequestTestRun extends Command<RequestedTestRun> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly input: TestSetInput,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Freezes a labeled test set (uploaded files checked like uploads, or the project's test split) as a manifest
 * blob and appends TestRunRequested; a reactor queues the job that runs the model on it.
 */
@CommandHandler(RequestTestRun)
export class RequestTestRunHandler implements ICommandHandler<RequestTestRun> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly readStore: ReadStore,
    private readonly datasets: DatasetQueries,
    private readonly limits: UploadLimits,
    private readonly blobs: BlobStore,
    private readonly pipeline: CommandPipeline,
    private readonly queries: TestRunQueries,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ projectId, iterationId, input, context }: RequestTestRun): Promise<RequestedTestRun> {
    const project = await this.projects.getOwned(projectId, context.userId);
    const iteration = await this.readStore.collection<IterationView>(ITERATIONS).get(iterationId);
    if (!iteration || iteration.projectId !== projectId) {
      throw DomainError.notFound('ITERATION_NOT_FOUND', `Iteration ${iterationId} does not exist in this project.`);
    }
    if (iteration.status !== 'completed' || !iteration.model) {
      throw DomainError.conflict(
        'ITERATION_NOT_COMPLETED',
        `The iteration is ${iteration.status}: only a completed iteration can be tested.`,
      );
    }
    const { images, annotationIssues } =
      input.kind === 'upload'
        ? await this.uploadedSet(iteration, input)
        : { images: await this.splitSet(iteration, project), annotationIssues: [] };
    const manifest: TestManifest = {
      v: 1,
      projectId,
      iterationId,
      task: iteration.task,
      labels: iteration.labels.map((label) => label.name),
      images,
    };
    const stored = await this.blobs.put(serializeTestManifest(manifest));
    const testRunId = this.ids.newId();
    const source: TestRunSource = input.kind;
    const modelSha256 = iteration.model.sha256;
    await this.pipeline.on(testRunStream(testRunId), testRunDecider).run({
      context,
      command: (_, metadata) => ({
        type: 'RequestTestRun',
        projectId,
        testRunId,
        iterationId,
        spec: {
          source,
          task: iteration.task,
          labels: manifest.labels,
          manifestSha256: stored.sha256,
          modelSha256,
          imageCount: images.length,
        },
        metadata,
      }),
    });
    return { run: await this.queries.get(projectId, iterationId, testRunId), annotationIssues };
  }

  /** The expected answers of uploaded files: the `labels` field, or a detection iteration's `coco` field. */
  private answersOf(
    iteration: IterationView,
    { labels, coco }: { labels: string | undefined; coco?: string },
  ): TestAnswers {
    if (coco === undefined) return { answers: parseLabelsField(labels), issues: [], shared: new Map(), from: 'labels' };
    if (labels !== undefined)
      throw DomainError.validation('AMBIGUOUS_LABELS', 'Send the expected answers in "labels" or in "coco", not both.');
    if (iteration.task !== 'detection') {
      throw DomainError.validation(
        'COCO_NEEDS_DETECTION',
        `A COCO file gives boxes: it tests a detection iteration, and this one is ${iteration.task}. Send "labels" instead.`,
      );
    }
    return { ...parseCocoField(coco), from: 'coco' };
  }

  /** Uploaded files: each checked (sharp decodes it) and stored; each needs its expected answer in `labels` or `coco`. */
  private async uploadedSet(
    iteration: IterationView,
    input: Extract<TestSetInput, { kind: 'upload' }>,
  ): Promise<{ images: TestImage[]; annotationIssues: TestAnnotationIssue[] }> {
    const { files } = input;
    if (files.length === 0) {
      throw DomainError.validation(
        'NO_FILES',
        'Send the test images in the multipart field "images", or {"split": "test"} as JSON.',
      );
    }
    const { answers, issues, shared, from } = this.answersOf(iteration, input);
    const labels = new ModelLabels(iteration.labels);
    const problems: { filename: string; code: string; message: string }[] = [];
    const seen = new Set<string>();
    const images: TestImage[] = [];
    for (const file of files) {
      if (seen.has(file.filename)) {
        problems.push({ filename: file.filename, code: 'DUPLICATE_FILENAME', message: 'Two files have this name.' });
        continue;
      }
      seen.add(file.filename);
      const name = uploadName(file.filename);
      const sharing = shared.get(name);
      const expected = sharing
        ? { problem: `is the name of several images of the COCO file (${sharing.join(', ')}): rename them apart` }
        : from === 'coco' && !(name in answers)
          ? { problem: 'is not among the images of the COCO file' }
          : expectedOf(iteration.task, answers[name], labels);
      if ('problem' in expected) {
        problems.push({ filename: file.filename, code: 'INVALID_EXPECTED_LABEL', message: expected.problem });
        continue;
      }
      if (!file.buffer) {
        problems.push({
          filename: file.filename,
          code: 'FILE_TOO_LARGE',
          message: `More than ${this.limits.UPLOAD_MAX_FILE_BYTES} bytes.`,
        });
        continue;
      }
      const inspected = await inspectImage(file.buffer, {
        maxFileBytes: this.limits.UPLOAD_MAX_FILE_BYTES,
        maxPixels: this.limits.UPLOAD_MAX_PIXELS,
      });
      if (!inspected.ok) {
        problems.push({ filename: file.filename, ...inspected.rejection });
        continue;
      }
      const stored = await this.blobs.put(inspected.image.converted ?? file.buffer);
      images.push({ filename: file.filename, imageId: null, sha256: stored.sha256, ...expected });
    }
    // A COCO file describes a whole dataset: the photos sent are the test set, its other images are not needed.
    const unused = from === 'coco' ? [] : Object.keys(answers).filter((name) => !seen.has(name));
    if (problems.length || unused.length) {
      throw DomainError.validation(
        'INVALID_TEST_SET',
        `The test set cannot be used: ${problems.length} file(s) with problems${unused.length ? `, ${unused.length} label(s) for files not sent` : ''}.`,
        { files: problems, labelsWithoutFile: unused },
      );
    }
    const sent = new Set(images.map((image) => image.filename));
    const annotationIssues = issues.filter((issue) => issue.filename === undefined || sent.has(issue.filename));
    return { images, annotationIssues };
  }

  /**
   * The project's included images in the test split whose label (or boxes) the model knows, as training picks its
   * images: an excluded image is left out (the user excluded it as blurry or wrong), and a multilabel image of the
   * negative label is tested with every label absent, as the model learned such images.
   */
  private async splitSet(iteration: IterationView, project: ProjectView): Promise<TestImage[]> {
    const labels = new ModelLabels(iteration.labels);
    const negativeId = project.labels.find((label) => label.negative)?.id ?? null;
    const images: TestImage[] = [];
    for (const image of await this.datasets.listAll(iteration.projectId)) {
      if (image.split !== 'test' || !image.included) continue;
      if (iteration.task === 'classification') {
        const expected = image.labelId === null ? undefined : labels.indexOf(image.labelId);
        if (expected === undefined) continue;
        images.push({ filename: image.filename, imageId: image.id, sha256: image.sha256, expected, regions: [] });
      } else if (iteration.task === 'multilabel') {
        // An untagged image says nothing about the labels it lacks for sure: only tagged images are tested. A negative
        // image is sure to show none: every label the model finds on it is a false positive.
        const negative = negativeId !== null && (image.labelId === negativeId || image.labelSet.includes(negativeId));
        const expectedLabels = image.labelSet.flatMap((labelId) => labels.indexOf(labelId) ?? []);
        if (expectedLabels.length === 0 && !negative) continue;
        images.push({
          filename: image.filename,
          imageId: image.id,
          sha256: image.sha256,
          expected: null,
          expectedLabels,
          regions: [],
        });
      } else {
        if (image.regions.length === 0) continue;
        const regions = image.regions.flatMap((region) => {
          const label = labels.indexOf(region.labelId);
          return label === undefined
            ? []
            : [{ label, x: region.x, y: region.y, width: region.width, height: region.height }];
        });
        images.push({ filename: image.filename, imageId: image.id, sha256: image.sha256, expected: null, regions });
      }
    }
    if (images.length === 0) {
      throw DomainError.unprocessable(
        'NO_TEST_IMAGES',
        'The project has no included, labeled images in the test split with labels this iteration knows: upload some with split=test, or send images with labels.',
      );
    }
    return images;
  }
}
