import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError, type RequestContext } from '@diyml/core';
import { analyzeDataset, DatasetQueries } from '@diyml/datasets';
import { chooseArchitecture, getArchitecture } from '@diyml/ml';
import {
  AUTO_ARCHITECTURE,
  BackboneCatalog,
  mergeTrainingConfig,
  ProjectAccess,
  type ProjectView,
  type TrainingConfig,
} from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import type { DatasetManifest } from '../../manifest/dataset-manifest.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';
import { IterationQueuer } from './iteration-queuer.js';
import { ITERATIONS, type IterationView } from '../../read-models/iterations/iteration.view.js';
import { EMBEDDING_TABLES, type EmbeddingTableView } from '../../read-models/embedding-tables/embedding-table.view.js';

export class QueueIteration extends Command<IterationView> {
  constructor(
    readonly projectId: string,
    readonly trainingConfigOverrides: unknown,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/** Each completed backbone iteration's table holds every embedding it used, so a few recent ones cover the dataset. */
const REUSED_EMBEDDING_TABLES = 3;

/** Re-runs an iteration: the same manifest, configuration and seed. */
export class ReproduceIteration extends Command<IterationView> {
  constructor(
    readonly projectId: string,
    readonly iterationId: string,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Freezes the project's dataset as a manifest blob and appends IterationQueued; a reactor turns that into
 * a training job. 422 DATASET_NOT_READY, with the problems, when training cannot start.
 */
@CommandHandler(QueueIteration)
export class QueueIterationHandler implements ICommandHandler<QueueIteration> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly datasets: DatasetQueries,
    private readonly queuer: IterationQueuer,
    private readonly iterations: IterationQueries,
    private readonly backbones: BackboneCatalog,
    private readonly readStore: ReadStore,
  ) {}

  async execute({ projectId, trainingConfigOverrides, context }: QueueIteration): Promise<IterationView> {
    const project = await this.projects.getOwned(projectId, context.userId);
    await this.queuer.assertTrainingSlotFree(context);
    let config = mergeTrainingConfig(project.type, project.trainingConfig, trainingConfigOverrides, 'trainingConfig');
    const images = await this.datasets.listAll(projectId);
    const analysis = analyzeDataset(project, images);
    if (!analysis.ready) {
      throw DomainError.unprocessable(
        'DATASET_NOT_READY',
        // Each problem is a sentence of its own (they may contain ';'); clients read them one by one in details.
        ['The dataset is not ready for training.', ...analysis.problems.map((problem) => problem.message)].join(' '),
        { problems: analysis.problems },
      );
    }
    const manifest = manifestOf(project, images);
    // 'auto' is resolved now, from the included images as GET …/architecture-choice tells, so the iteration records
    // (and a reproduction repeats) its choice.
    if (config.architecture === AUTO_ARCHITECTURE) {
      const included = images.filter((image) => image.included);
      config = { ...config, architecture: chooseArchitecture(project.type, included).id };
    }
    const usesBackbone = getArchitecture(config.architecture).usesBackbone === true;
    if (usesBackbone && config.baseIterationId === null)
      await this.backbones.assertAvailable(config.backbone, 'trainingConfig.backbone');
    if (config.fineTune > 0) this.assertFineTunable(config);
    const baseModelSha256 = config.baseIterationId ? await this.baseModelOf(projectId, config.baseIterationId) : null;
    const stored = await this.queuer.storeManifest(manifest);
    return this.queuer.queue(project.id, context, {
      task: project.type,
      labels: manifest.labels,
      manifestSha256: stored,
      imageCount: manifest.images.length,
      trainingConfig: config,
      seed: config.seed,
      architecture: config.architecture,
      reproducedFrom: null,
      baseModelSha256,
      // Recorded so that reproductions of iterations queued before per-label splitting still draw at random.
      ...(project.type === 'detection' ? { detectionSplitByLabel: true } : {}),
      ...(project.type === 'multilabel' ? { multilabelSplitByLabel: true } : {}),
      ...(usesBackbone
        ? {
            embeddingsSha256: await this.embeddingTables(
              projectId,
              config.baseIterationId === null ? this.backbones.describe(config.backbone).id : null,
            ),
          }
        : {}),
    });
  }

  /**
   * The project's background embedding tables on `backbone` and those of its latest completed backbone iterations:
   * reused where image and backbone match. Frozen by hash now, so a reproduction can name the same numbers.
   */
  private async embeddingTables(projectId: string, backbone: string | null): Promise<string[]> {
    const background = (
      await this.readStore.collection<EmbeddingTableView>(EMBEDDING_TABLES).findAll({ projectId })
    ).filter((table) => table.space.backbone === backbone);
    const completed = await this.readStore
      .collection<IterationView>(ITERATIONS)
      .find({ where: { projectId, status: 'completed' }, orderBy: 'number', direction: 'desc', limit: 20 });
    const tables = completed.items
      .map((iteration) => iteration.embeddings?.sha256)
      .filter((sha256): sha256 is string => typeof sha256 === 'string');
    return [...background.map((table) => table.tableSha256), ...[...new Set(tables)].slice(0, REUSED_EMBEDDING_TABLES)];
  }

  /** Fine-tuning needs backbone-classifier on a registered backbone that lists enough blocks to fine-tune. */
  private assertFineTunable(config: TrainingConfig): void {
    const blocks =
      config.baseIterationId === null ? (this.backbones.describe(config.backbone).fineTuneStarts?.length ?? 0) : 0;
    const problem =
      config.architecture !== 'backbone-classifier'
        ? `it applies to the backbone-classifier architecture, and this iteration trains ${config.architecture}`
        : config.fineTune > blocks
          ? `this backbone has ${blocks} block(s) to fine-tune${config.baseIterationId === null ? '' : ' (a model from another iteration has none)'}`
          : null;
    if (problem) {
      throw DomainError.unprocessable(
        'FINE_TUNE_UNSUPPORTED',
        `trainingConfig.fineTune ${config.fineTune} cannot be used: ${problem}. Set fineTune to 0 to keep the backbone frozen.`,
        [{ field: 'trainingConfig.fineTune', errors: [problem] }],
      );
    }
  }

  /** The model a transfer iteration builds on: frozen by hash now, so a reproduction uses the same one. */
  private async baseModelOf(projectId: string, baseIterationId: string): Promise<string> {
    const base = await this.iterations.find(projectId, baseIterationId);
    if (!base?.model) {
      throw DomainError.unprocessable(
        'BASE_MODEL_UNAVAILABLE',
        `trainingConfig.baseIterationId must name an iteration of this project that has a model; ${baseIterationId} ${base ? `is ${base.status}` : 'does not exist'}.`,
      );
    }
    return base.model.sha256;
  }
}

@CommandHandler(ReproduceIteration)
export class ReproduceIterationHandler implements ICommandHandler<ReproduceIteration> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly readStore: ReadStore,
    private readonly queuer: IterationQueuer,
  ) {}

  async execute({ projectId, iterationId, context }: ReproduceIteration): Promise<IterationView> {
    await this.projects.getOwned(projectId, context.userId);
    await this.queuer.assertTrainingSlotFree(context);
    const original = await this.readStore.collection<IterationView>(ITERATIONS).get(iterationId);
    if (!original || original.projectId !== projectId) {
      throw DomainError.notFound('ITERATION_NOT_FOUND', `Iteration ${iterationId} does not exist in this project.`);
    }
    // An imported iteration has no seed, image count nor configuration.
    if (original.imported || original.seed === null || original.imageCount === null || !original.trainingConfig) {
      throw DomainError.unprocessable(
        'NOTHING_TO_REPRODUCE',
        'This iteration was imported: it was trained elsewhere, so there is no dataset or configuration here to train it again.',
      );
    }
    return this.queuer.queue(projectId, context, {
      task: original.task,
      labels: original.labels,
      manifestSha256: original.manifestSha256,
      imageCount: original.imageCount,
      trainingConfig: original.trainingConfig,
      seed: original.seed,
      architecture: original.architecture,
      reproducedFrom: original.id,
      baseModelSha256: original.baseModelSha256,
      ...(original.detectionSplitByLabel ? { detectionSplitByLabel: true } : {}),
      ...(original.multilabelSplitByLabel ? { multilabelSplitByLabel: true } : {}),
      ...(original.embeddings ? { embeddingsSha256: [original.embeddings.sha256] } : {}),
    });
  }
}

/**
 * The images a model trains and validates on, and the labels it learns, in the project's label order. An image that
 * teaches nothing is left out (unlabeled, a detection photo without boxes, a label the model does not learn): it would
 * take a validation photo's place, or teach a detector that its objects are background.
 */
function manifestOf(project: ProjectView, images: Awaited<ReturnType<DatasetQueries['listAll']>>): DatasetManifest {
  const included = images.filter((image) => image.included);
  // The labels of training photos, as readiness counts them: it asks each for enough.
  const trained = new Set(included.filter((image) => image.split === 'train').flatMap((image) => image.labelIds));
  const negativeId = project.labels.find((label) => label.negative)?.id ?? null;
  const isNegative = (image: (typeof images)[number]) =>
    negativeId !== null && (image.labelId === negativeId || image.labelSet.includes(negativeId));
  // A classification model learns the negative label as a class, as Custom Vision's Multiclass projects do: its softmax
  // can then answer "none of these" (a photo of none of the labels gets the negative label). A multilabel model does
  // not: its images are images of no label, learned with every label absent (see ManifestImage.negative).
  const negativeIsClass = project.type === 'classification';
  const labels = project.labels
    .filter((label) => trained.has(label.id) && (label.id !== negativeId || negativeIsClass))
    .map(({ id, name }) => ({ id, name }));
  const learned = new Set(labels.map((label) => label.id));
  const teaches = (image: (typeof images)[number]) =>
    project.type === 'classification'
      ? image.labelId !== null && learned.has(image.labelId)
      : project.type === 'multilabel'
        ? isNegative(image) || image.labelSet.some((labelId) => learned.has(labelId))
        : image.regions.some((region) => learned.has(region.labelId));
  return {
    v: 1,
    projectId: project.id,
    task: project.type,
    labels,
    images: included.filter(teaches).map((image) => ({
      id: image.id,
      sha256: image.sha256,
      filename: image.filename,
      width: image.width,
      height: image.height,
      split: image.split,
      labelId: image.labelId,
      regions: image.regions.map(({ labelId, x, y, width, height }) => ({ labelId, x, y, width, height })),
      ...(project.type === 'multilabel'
        ? { labelIds: image.labelSet.filter((labelId) => labelId !== negativeId) }
        : {}),
      ...(isNegative(image) ? { negative: true as const } : {}),
    })),
  };
}
