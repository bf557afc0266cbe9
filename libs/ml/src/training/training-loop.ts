import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Architecture, BuiltModel, ExampleTarget, RawPrediction } from '../architectures/architecture.js';
import { getArchitecture } from '../architectures/architecture-registry.js';
import { selectBackend } from '../backend/backend-selection.js';
import { DEFAULT_BACKBONE_ID } from '../backbones/backbone-registry.js';
import {
  computeEmbeddings,
  embeddingSpaceOf,
  embeddingViews,
  emptyEmbeddingTable,
  forEachFeatureMap,
  IDENTITY_VIEW,
  imageContentHash,
  mergeEmbeddingTables,
  type EmbeddingJob,
  type EmbeddingTable,
  type EmbeddingView,
} from '../backbones/embeddings.js';
import { augmentedViews, concatenateMaps, featureMapLength, featureMapSpaceOf } from '../backbones/feature-maps.js';
import type { Backbone } from '../backbones/backbone.js';
import { backboneTail, FINE_TUNE_LEARNING_RATE_FACTOR, fineTuneStart } from '../backbones/fine-tuning.js';
import { loadBackbone } from '../backbones/load-backbone.js';
import type { LabeledBox, ScoredBox } from '../boxes/box.js';
import {
  augmentBatch,
  augmentBoxes,
  IDENTITY_PLAN,
  planAugmentation,
  type AugmentationOptions,
  type AugmentationPlan,
} from '../images/augmentation.js';
import {
  boxFromLetterbox,
  boxToLetterbox,
  decodeAll,
  letterboxTransform,
  letterboxTransformOf,
} from '../images/image-decoding.js';
import { accuracy, classificationMetrics } from '../metrics/classification-metrics.js';
import { detectionMetrics, type DetectionSample } from '../metrics/detection-metrics.js';
import { MULTILABEL_THRESHOLD, multilabelMetrics } from '../metrics/multilabel-metrics.js';
import { prepareImage, toInputTensor, type InputSpec, type PreparedImage } from '../models/model-input.js';
import { serializeModel } from '../models/model-serialization.js';
import { SeededRandom } from '../random/seeded-random.js';
import { AdamOptimizer } from './adam-optimizer.js';
import { splitExamples } from './dataset-split.js';
import {
  DEFAULT_TRAINING_CONFIG,
  TrainingCancelledError,
  type DetectionValidation,
  type EpochReport,
  type MultilabelValidation,
  type PreparationPhase,
  type TrainingCallbacks,
  type TrainingConfig,
  type TrainingDataset,
  type TrainingResult,
  type Validation,
} from './training-types.js';

/** Detections this unlikely still count for AP (they fill in the tail of the precision/recall curve). */
const EVALUATION_THRESHOLD = 0.01;
const EVALUATION_OVERLAP = 0.45;
const EVALUATION_MAX_DETECTIONS = 100;
/**
 * Images handed to the backbone's runner at a time. onnxruntime takes them one per core whatever the batch; tfjs wasm
 * is fastest at small batches (MobileNetV2 at 224 px: 2.4, 2.8 and 1.7 images/s at 1, 4 and 16 on the loaded machine).
 */
const EMBEDDING_BATCH = 8;
/** An epoch on a part of a large training set validates on one photo for every this many it trains on. */
const TRAINED_PER_EPOCH_VALIDATED = 4;

function validateInput(dataset: TrainingDataset, config: TrainingConfig): void {
  const problems: string[] = [];
  if (dataset.labels.length === 0) problems.push('the dataset has no labels');
  if (dataset.examples.length === 0) problems.push('the dataset has no examples');
  if (!(config.learningRate > 0)) problems.push('learningRate must be positive');
  if (!Number.isInteger(config.epochs) || config.epochs < 1) problems.push('epochs must be a positive integer');
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1)
    problems.push('batchSize must be a positive integer');
  if (!(config.validationSplit >= 0 && config.validationSplit < 1)) problems.push('validationSplit must be in [0, 1)');
  const fineTune = config.fineTune ?? 0;
  if (!Number.isInteger(fineTune) || fineTune < 0) problems.push('fineTune must be a whole number of blocks');
  if (fineTune > 0 && config.architecture !== 'backbone-classifier')
    problems.push("fineTune applies to the 'backbone-classifier' architecture only");
  const labelCount = dataset.labels.length;
  const validLabel = (label: number | undefined) =>
    label !== undefined && Number.isInteger(label) && label >= 0 && label < labelCount;
  const badExamples = dataset.examples
    .map((example, index) => ({ example, index }))
    .filter(({ example }) => {
      switch (dataset.task) {
        case 'classification':
          return !validLabel(example.label);
        case 'multilabel':
          return (example.labels ?? []).some((label) => !validLabel(label));
        case 'detection':
          return (example.boxes ?? []).some((box) => !validLabel(box.label));
      }
    })
    .map(({ index }) => index);
  if (badExamples.length > 0)
    problems.push(
      `examples ${badExamples.slice(0, 10).join(', ')}${badExamples.length > 10 ? ', …' : ''} have a label outside [0, ${labelCount})`,
    );
  if (problems.length > 0) throw new RangeError(`cannot train: ${problems.join('; ')}`);
}

function augmentationOptions(
  setting: TrainingConfig['augmentation'],
  architecture: Architecture,
): AugmentationOptions | null {
  if (!setting || !architecture.supportsAugmentation) return null;
  return setting === true ? {} : setting;
}

/** Decoded, letterboxed or resized examples with targets in model-input coordinates. */
interface PreparedExample {
  image: PreparedImage;
  target: ExampleTarget;
  /** Ground truth in source-image fractions (detection). */
  boxes: LabeledBox[];
  /** The source image's content hash, which keys cached embeddings and feature maps (backbone architectures). */
  hash?: string;
}

/**
 * Decodes the examples at `indexes` to the model's input. With `hashed`, each example carries its content hash, and
 * those for which `decodes` answers false are not decoded (their pixels are empty): a frozen backbone's head needs
 * only the cached embeddings of an image, and decoding 2,000 photos cost more than the head's epochs. A detection
 * image not decoded has its header read for where its boxes lie in the letterboxed input.
 */
async function prepareExamples(
  dataset: TrainingDataset,
  indexes: number[],
  spec: InputSpec,
  hashed: boolean,
  onDecoded: (count: number) => void,
  decodes: (index: number, hash: string | undefined) => boolean = () => true,
): Promise<Map<number, PreparedExample>> {
  const hashes = indexes.map((index) => (hashed ? imageContentHash(dataset.examples[index].image) : undefined));
  const decoded = indexes.filter((index, position) => decodes(index, hashes[position]));
  // Every input has the same size: one buffer holds them all, so the decoder's many small buffers are let go at once.
  const imageLength = spec.imageSize.width * spec.imageSize.height * spec.channels;
  const pixels = new Uint8Array(decoded.length * imageLength);
  const slotOf = new Map(decoded.map((index, slot) => [index, slot]));
  const notDecoded: PreparedImage = {
    pixels: new Uint8Array(0),
    transform: letterboxTransform(spec.imageSize, spec.imageSize),
  };
  const prepared = await decodeAll(indexes.length, async (position) => {
    const example = dataset.examples[indexes[position]];
    const slot = slotOf.get(indexes[position]);
    let image = notDecoded;
    if (slot === undefined && dataset.task === 'detection' && spec.fit === 'letterbox')
      image = { pixels: notDecoded.pixels, transform: await letterboxTransformOf(example.image, spec.imageSize) };
    if (slot !== undefined) {
      try {
        const decodedImage = await prepareImage(example.image, spec);
        if (decodedImage.pixels.length !== imageLength)
          throw new RangeError(`decoded to ${decodedImage.pixels.length} values, expected ${imageLength}`);
        const packed = pixels.subarray(slot * imageLength, (slot + 1) * imageLength);
        packed.set(decodedImage.pixels);
        image = { pixels: packed, transform: decodedImage.transform };
      } catch (error) {
        throw new Error(`example ${indexes[position]} could not be decoded: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    const boxes = example.boxes ?? [];
    const target: ExampleTarget = {
      label: example.label,
      labels: example.labels ?? [],
      boxes: boxes.map((box) => ({ label: box.label, ...boxToLetterbox(box, image.transform) })),
    };
    onDecoded(1);
    const hash = hashes[position];
    return { image, target, boxes, ...(hash ? { hash } : {}) };
  });
  return new Map(indexes.map((index, position) => [index, prepared[position]]));
}

/** Runs `model` over `inputs` in batches and returns one Float32Array per input (the output without batch axis). */
function predictInBatches(
  model: tfl.LayersModel,
  count: number,
  batchSize: number,
  makeInput: (start: number, end: number) => tf.Tensor,
): Float32Array[] {
  const outputs: Float32Array[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const end = Math.min(count, start + batchSize);
    const values = tf.tidy(() => (model.predict(makeInput(start, end)) as tf.Tensor).dataSync() as Float32Array);
    const size = values.length / (end - start);
    for (let i = 0; i < end - start; i++) outputs.push(values.slice(i * size, (i + 1) * size));
  }
  return outputs;
}

/**
 * Trains a model on `dataset` and returns it serialized with its history and validation results. Deterministic for
 * the same dataset, config (including seed) and backend. Runs synchronously between awaits: call it from a worker.
 */
export async function train(
  dataset: TrainingDataset,
  overrides: Partial<TrainingConfig>,
  callbacks: TrainingCallbacks = {},
): Promise<TrainingResult> {
  const started = performance.now();
  const config: TrainingConfig = { ...DEFAULT_TRAINING_CONFIG, ...overrides };
  validateInput(dataset, config);
  const architecture = getArchitecture(config.architecture, dataset.task);
  const backend = await selectBackend(config.backend);
  const random = new SeededRandom(config.seed);
  const split = splitExamples(dataset.examples, config.validationSplit, random, {
    detectionByLabel: config.detectionSplitByLabel === true,
    multilabelByLabel: config.multilabelSplitByLabel === true,
  });
  if (split.train.length === 0) throw new RangeError('cannot train: no training examples after the validation split');

  const side = config.imageSize ?? architecture.defaultImageSize;
  const backbone = architecture.usesBackbone
    ? await loadBackbone(config.backbone ?? DEFAULT_BACKBONE_ID, config.backboneLoading)
    : undefined;
  if (backbone && config.fineTune) {
    try {
      fineTuneStart(backbone, config.fineTune);
    } catch (error) {
      backbone.dispose();
      throw error;
    }
  }
  const built = await architecture.build({
    imageSize: { width: side, height: side },
    channels: config.channels ?? architecture.defaultChannels,
    labelCount: dataset.labels.length,
    seed: random.nextSeed(),
    baseModel: config.baseModel,
    baseModelInputRange: config.baseModelInputRange,
    backbone,
  });
  const optimizer = new AdamOptimizer(config.learningRate);
  let session: TrainingSession | undefined;
  try {
    session = new TrainingSession(
      dataset,
      config,
      architecture,
      built,
      await prepareExamples(
        dataset,
        [...split.train, ...split.validation],
        inputSpec(architecture, built),
        architecture.usesBackbone === true,
        preparationProgress(callbacks, 'decoding', split.train.length + split.validation.length, 0),
        decodesUncachedOnly(architecture, built, config, backbone, split.train),
      ),
      split.train,
      random,
    );
    callbacks.onImagesDecoded?.();
    const embeddings = built.embedding
      ? await session.prepareEmbeddings(split.train, split.validation, callbacks)
      : undefined;
    const featureMaps =
      built.featureMaps && backbone
        ? await session.prepareFeatureMaps(backbone, split.train, split.validation, callbacks)
        : undefined;
    const outcome = await session.run(split.train, split.validation, optimizer, random, callbacks);
    const validation = split.validation.length > 0 ? session.validate(split.validation) : null;
    if (built.embedding) session.foldStandardisation();
    const model = await serializeModel(built.model, {
      format: 'diyml',
      version: 1,
      architecture: architecture.id,
      task: architecture.task,
      labels: [...dataset.labels],
      ...inputSpec(architecture, built),
    });
    return {
      model,
      backend,
      architecture: architecture.id,
      ...outcome,
      trainCount: split.train.length,
      validationCount: split.validation.length,
      validation,
      durationMs: performance.now() - started,
      ...(embeddings ? { embeddings } : {}),
      ...(featureMaps ? { featureMaps } : {}),
    };
  } finally {
    optimizer.dispose();
    releaseWeights([built.model, built.trainable, built.frozenFeatures, session?.fineTuned]);
    backbone?.dispose();
  }
}

/**
 * Reports the start of a preparation phase at once, then returns what counts its progress: watchers see the phase
 * and its size before the first image is done.
 */
function preparationProgress(
  callbacks: TrainingCallbacks,
  phase: PreparationPhase,
  total: number,
  cached: number,
): (count: number) => void {
  const started = performance.now();
  let done = 0;
  const report = (count: number) => {
    done += count;
    const elapsedMs = performance.now() - started;
    callbacks.onPreparation?.({
      phase,
      done,
      total,
      cached,
      elapsedMs,
      perSecond: elapsedMs > 0 ? (done * 1000) / elapsedMs : 0,
    });
  };
  report(0);
  return report;
}

/**
 * Which images a run decodes: a frozen backbone's head (no fine-tuning) trains on embeddings or feature maps alone, so
 * an image whose every view is in `config.embeddings` is not decoded; every image otherwise.
 */
function decodesUncachedOnly(
  architecture: Architecture,
  built: BuiltModel,
  config: TrainingConfig,
  backbone: Backbone | undefined,
  trainIndexes: readonly number[],
): (index: number, hash: string | undefined) => boolean {
  if (config.fineTune) return () => true;
  if (built.embedding) {
    const { backbone: embedded, layer, dimension } = built.embedding;
    const cached = emptyEmbeddingTable(embeddingSpaceOf(embedded.descriptor, layer), dimension);
    mergeEmbeddingTables(cached, config.embeddings ?? []);
    const views = embeddingViews(config.augmentation);
    return (_, hash) => hash === undefined || !views.every((view) => cached.vectors.get(hash)?.has(view.name));
  }
  if (built.featureMaps && backbone) {
    const { layers } = built.featureMaps;
    const space = featureMapSpaceOf(backbone.descriptor, layers, inputSpec(architecture, built).fit);
    const cached = emptyEmbeddingTable(space, featureMapLength(backbone.descriptor, layers));
    mergeEmbeddingTables(cached, config.embeddings ?? []);
    const augmentation = augmentationOptions(config.augmentation, architecture);
    const variants = cachedVariants(architecture, augmentation, trainIndexes.length);
    const training = new Set(trainIndexes);
    return (index, hash) =>
      hash === undefined ||
      !featureMapViews(hash, training.has(index), augmentation, variants).every((view) =>
        cached.vectors.get(hash)?.has(view.name),
      );
  }
  return () => true;
}

/**
 * Augmented variants cached per training image besides the image as it is: the architecture's
 * `cachedAugmentations`, fewer (at least one) when `trainCount` images would pass its `maxCachedViews`.
 */
function cachedVariants(
  architecture: Architecture,
  augmentation: AugmentationOptions | null,
  trainCount: number,
): number {
  const wanted = augmentation ? (architecture.cachedAugmentations ?? 0) : 0;
  const limit = architecture.maxCachedViews;
  if (wanted === 0 || limit === undefined) return wanted;
  return Math.max(1, Math.min(wanted, Math.floor(limit / trainCount) - 1));
}

/**
 * The views of an image a backbone detector trains on: the image as it is and, for a training image, its `variants`
 * augmented views planned from its hash.
 */
function featureMapViews(
  hash: string,
  training: boolean,
  augmentation: AugmentationOptions | null,
  variants: number,
): EmbeddingView[] {
  return [IDENTITY_VIEW, ...(variants > 0 && training ? augmentedViews(hash, augmentation!, variants) : [])];
}

function inputSpec(architecture: Architecture, built: BuiltModel): InputSpec {
  return { imageSize: built.imageSize, channels: built.channels, fit: architecture.fit, inputRange: built.inputRange };
}

/**
 * Releases every weight of a run's models, each once. Not LayersModel.dispose: tfjs-layers frees a layer with the
 * first model disposed that holds it (its count is of calls, not of models), so of models sharing layers with each
 * other and with the backbone, the later ones would stop at a freed layer and leave the rest of theirs behind. The
 * backbone releases the weights it alone holds itself.
 */
function releaseWeights(models: readonly (tfl.LayersModel | undefined)[]): void {
  const weights = new Set(models.flatMap((model) => model?.weights ?? []));
  tf.dispose([...weights].map((weight) => weight.read()));
}

class TrainingSession {
  private readonly spec: InputSpec;
  private readonly augmentation: AugmentationOptions | null;
  /**
   * Frozen features per example, each with the augmentation plan that produced it (boxes move with it). Transfer and
   * backbone detectors: the unchanged image, plus `cachedAugmentations` variants per training example. Backbone
   * heads: standardised embeddings in several augmented views (the first is the plain image). Training draws a
   * variant at random, evaluation takes the first.
   */
  private readonly features = new Map<number, { plan: AugmentationPlan; values: Float32Array }[]>();
  private featureShape: number[] = [];
  /** Per-dimension mean and spread of the training embeddings (backbone heads). */
  private standardisation: { mean: Float32Array; scale: Float32Array } | null = null;
  private readonly outputShape: readonly number[];
  /** What is trained: the architecture's trainable part, or with fine-tuning the backbone's last blocks and the head. */
  private trainable: tfl.LayersModel;
  /** Fine-tuning: the backbone's weights being trained, which learn more slowly than the head. */
  private readonly backboneVariables = new Set<tf.Variable>();
  /** See featureBatchBuffer. */
  private batchBuffer: Float32Array | null = null;

  constructor(
    private readonly dataset: TrainingDataset,
    private readonly config: TrainingConfig,
    private readonly architecture: Architecture,
    private readonly built: BuiltModel,
    private readonly examples: Map<number, PreparedExample>,
    trainIndexes: readonly number[],
    random: SeededRandom,
  ) {
    this.spec = inputSpec(architecture, built);
    this.augmentation = augmentationOptions(config.augmentation, architecture);
    this.outputShape = built.trainable.outputs[0].shape.map((size) => size ?? 1);
    this.trainable = built.trainable;
    if (built.frozenFeatures) {
      this.featureShape = built.frozenFeatures.outputs[0].shape.slice(1).map((size) => size ?? 1);
      // Cached feature maps are computed later, on the backbone's runner (prepareFeatureMaps).
      if (!built.featureMaps) this.computeFeatures(built.frozenFeatures, trainIndexes, random);
    }
  }

  /**
   * Runs the frozen extractor once per example on the unchanged image, then (with augmentation) once per training
   * example for each of `cachedAugmentations` planned variants, the same for every epoch.
   */
  private computeFeatures(extractor: tfl.LayersModel, trainIndexes: readonly number[], random: SeededRandom): void {
    const variants = cachedVariants(this.architecture, this.augmentation, trainIndexes.length);
    for (const index of this.examples.keys()) this.features.set(index, []);
    for (let variant = 0; variant <= variants; variant++) {
      const indexes = variant === 0 ? [...this.examples.keys()] : [...trainIndexes];
      const variantPlans = indexes.map(() =>
        variant === 0 ? IDENTITY_PLAN : planAugmentation(this.augmentation!, random),
      );
      const outputs = predictInBatches(extractor, indexes.length, this.config.batchSize, (start, end) =>
        variant === 0
          ? this.pixelBatch(indexes.slice(start, end))
          : this.augmentedPixelBatch(indexes.slice(start, end), variantPlans.slice(start, end)),
      );
      indexes.forEach((index, position) =>
        this.features.get(index)!.push({ plan: variantPlans[position], values: outputs[position] }),
      );
    }
  }

  /**
   * Embeddings of every training image in each augmented view and of every validation image as it is, reusing
   * those in `config.embeddings`; then standardises them with the training embeddings' mean and spread.
   */
  async prepareEmbeddings(
    trainIndexes: number[],
    validationIndexes: number[],
    callbacks: TrainingCallbacks,
  ): Promise<EmbeddingTable & { computed: number; reused: number; computeMs: number }> {
    const { backbone, layer, dimension } = this.built.embedding!;
    const table = emptyEmbeddingTable(embeddingSpaceOf(backbone.descriptor, layer), dimension);
    mergeEmbeddingTables(table, this.config.embeddings ?? []);
    const views = embeddingViews(this.config.augmentation);
    const hashes = new Map(
      [...trainIndexes, ...validationIndexes].map((index) => [index, this.examples.get(index)!.hash!]),
    );
    const jobs = (indexes: number[]) =>
      indexes.map((index) => ({ hash: hashes.get(index)!, pixels: this.examples.get(index)!.image.pixels }));
    const { signal } = callbacks;
    const used = new Set([
      ...trainIndexes.flatMap((index) => views.map((view) => `${hashes.get(index)}\n${view.name}`)),
      ...validationIndexes.map((index) => `${hashes.get(index)}\n${IDENTITY_VIEW.name}`),
    ]);
    const cached = [...used].filter((key) => {
      const [hash, view] = key.split('\n');
      return table.vectors.get(hash)?.has(view);
    }).length;
    const progress = preparationProgress(callbacks, 'embedding', used.size - cached, cached);
    const started = performance.now();
    let computed = 0;
    try {
      computed += await computeEmbeddings(
        backbone,
        table,
        jobs(trainIndexes),
        views,
        EMBEDDING_BATCH,
        signal,
        progress,
      );
      computed += await computeEmbeddings(
        backbone,
        table,
        jobs(validationIndexes),
        [IDENTITY_VIEW],
        EMBEDDING_BATCH,
        signal,
        progress,
      );
    } catch (error) {
      if (signal?.aborted) throw new TrainingCancelledError(0);
      throw error;
    }
    const computeMs = performance.now() - started;

    const trainVectors = trainIndexes.flatMap((index) =>
      views.map((view) => table.vectors.get(hashes.get(index)!)!.get(view.name)!),
    );
    this.standardisation = spreadOf(trainVectors, dimension);
    this.featureShape = [dimension];
    const standardise = (vector: Float32Array) => {
      const { mean, scale } = this.standardisation!;
      return vector.map((value, i) => (value - mean[i]) / scale[i]);
    };
    for (const index of trainIndexes)
      this.features.set(
        index,
        views.map((view) => ({
          plan: IDENTITY_PLAN,
          values: standardise(table.vectors.get(hashes.get(index)!)!.get(view.name)!),
        })),
      );
    for (const index of validationIndexes)
      this.features.set(index, [
        { plan: IDENTITY_PLAN, values: standardise(table.vectors.get(hashes.get(index)!)!.get(IDENTITY_VIEW.name)!) },
      ]);
    if (this.config.fineTune) {
      try {
        await this.prepareFineTuning(trainIndexes, validationIndexes, views, (index) => jobs([index])[0], signal);
      } catch (error) {
        if (signal?.aborted) throw new TrainingCancelledError(0);
        throw error;
      }
    }
    return { ...table, computed, reused: used.size - computed, computeMs };
  }

  /**
   * Backbone detectors: the backbone's maps at the head's layers for every example as it is and, with augmentation,
   * for each training example in `cachedAugmentations` views planned from the image's hash (the same in every run),
   * reusing the maps in `config.embeddings` of this space and computing the rest on the backbone's runner. Returns
   * the maps this run used, to cache.
   */
  async prepareFeatureMaps(
    backbone: Backbone,
    trainIndexes: number[],
    validationIndexes: number[],
    callbacks: TrainingCallbacks,
  ): Promise<EmbeddingTable & { computed: number; reused: number; computeMs: number }> {
    const { layers } = this.built.featureMaps!;
    const space = featureMapSpaceOf(backbone.descriptor, layers, this.spec.fit);
    const dimension = featureMapLength(backbone.descriptor, layers);
    const cache = emptyEmbeddingTable(space, dimension);
    mergeEmbeddingTables(cache, this.config.embeddings ?? []);
    const variants = cachedVariants(this.architecture, this.augmentation, trainIndexes.length);
    const viewsOf = new Map<number, EmbeddingView[]>();
    const hashes = new Map<number, string>();
    const training = new Set(trainIndexes);
    for (const index of [...trainIndexes, ...validationIndexes]) {
      const hash = this.examples.get(index)!.hash!;
      hashes.set(index, hash);
      viewsOf.set(index, featureMapViews(hash, training.has(index), this.augmentation, variants));
    }
    const used = emptyEmbeddingTable(space, dimension);
    const missing: { job: EmbeddingJob; view: EmbeddingView }[] = [];
    let reused = 0;
    for (const [index, views] of viewsOf) {
      const hash = hashes.get(index)!;
      const into = used.vectors.get(hash) ?? new Map<string, Float32Array>();
      used.vectors.set(hash, into);
      for (const view of views) {
        if (into.has(view.name)) continue;
        const cached = cache.vectors.get(hash)?.get(view.name);
        if (cached) {
          into.set(view.name, cached);
          reused++;
        } else {
          // Held until computed, so the same image twice in the dataset is computed once.
          into.set(view.name, new Float32Array(0));
          missing.push({ job: { hash, pixels: this.examples.get(index)!.image.pixels }, view });
        }
      }
    }
    const { signal } = callbacks;
    const progress = preparationProgress(callbacks, 'feature-maps', missing.length, reused);
    const started = performance.now();
    try {
      await forEachFeatureMap(
        backbone,
        layers,
        missing,
        EMBEDDING_BATCH,
        ({ job, view }, maps) => used.vectors.get(job.hash)!.set(view.name, concatenateMaps(maps)),
        signal,
        progress,
      );
    } catch (error) {
      if (signal?.aborted) throw new TrainingCancelledError(0);
      throw error;
    }
    const computeMs = performance.now() - started;
    for (const [index, views] of viewsOf)
      this.features.set(
        index,
        views.map((view) => ({ plan: view.plan, values: used.vectors.get(hashes.get(index)!)!.get(view.name)! })),
      );
    return { ...used, computed: missing.length, reused, computeMs };
  }

  /**
   * Fine-tuning the backbone's last `fineTune` blocks: their input activations are computed once per training image
   * and view (and validation image), and the model trained becomes those blocks, pooling, the fixed standardisation
   * of the frozen embeddings and the head.
   */
  private async prepareFineTuning(
    trainIndexes: number[],
    validationIndexes: number[],
    views: readonly EmbeddingView[],
    jobOf: (index: number) => EmbeddingJob,
    signal?: AbortSignal,
  ): Promise<void> {
    const { backbone, layer, head } = this.built.embedding!;
    const start = fineTuneStart(backbone, this.config.fineTune!);
    const items = [
      ...trainIndexes.flatMap((index) => views.map((view, position) => ({ index, position, job: jobOf(index), view }))),
      ...validationIndexes.map((index) => ({ index, position: 0, job: jobOf(index), view: IDENTITY_VIEW })),
    ];
    const maps = new Map<number, Float32Array[]>();
    await forEachFeatureMap(
      backbone,
      [start],
      items,
      EMBEDDING_BATCH,
      ({ index, position }, [map]) => {
        const list = maps.get(index) ?? [];
        list[position] = map;
        maps.set(index, list);
      },
      signal,
    );
    for (const [index, list] of maps)
      this.features.set(
        index,
        list.map((values) => ({ plan: IDENTITY_PLAN, values })),
      );

    // Built only now: applying the backbone's layers again gives them a second node, after which their outputs are ambiguous.
    const tail = backboneTail(backbone, start, layer);
    const { mean, scale } = this.standardisation!;
    // The standardisation as a frozen batch normalisation in inference mode: (x − m) / √(s² + ε) · √(s² + ε) / s = (x − m) / s.
    const epsilon = 1e-3;
    const standardisation = [
      tf.tensor1d(scale.map((spread) => Math.sqrt(spread * spread + epsilon) / spread)),
      tf.zeros([scale.length]),
      tf.tensor1d(mean),
      tf.tensor1d(scale.map((spread) => spread * spread)),
    ];
    const standardise = tfl.layers.batchNormalization({
      name: 'fine_tune_standardisation',
      epsilon,
      trainable: false,
      weights: standardisation,
    });
    const pooled = tfl.layers
      .globalAveragePooling2d({ name: 'fine_tune_pool' })
      .apply(tail.model.outputs[0]) as tfl.SymbolicTensor;
    const standardised = standardise.apply(pooled) as tfl.SymbolicTensor;
    // The layer copied them into its own weights when it was built.
    tf.dispose(standardisation);
    this.trainable = tfl.model({
      name: 'fine_tuned_classifier',
      inputs: tail.model.inputs,
      outputs: head.apply(standardised) as tfl.SymbolicTensor,
    });
    this.featureShape = tail.model.inputs[0].shape.slice(1) as number[];
    for (const trained of tail.trainedLayers)
      for (const weight of trained.trainableWeights) this.backboneVariables.add(weight.read() as tf.Variable);
  }

  /** The model fine-tuning built (the backbone's last blocks, a standardisation layer and the head), if any. */
  get fineTuned(): tfl.LayersModel | undefined {
    return this.trainable === this.built.trainable ? undefined : this.trainable;
  }

  /**
   * Folds the standardisation into the head's first dense layer (x·W/s + b − (m/s)·W), so the saved model takes
   * raw pooled features and predicts from an image alone. Call after the last evaluation on standardised features.
   */
  foldStandardisation(): void {
    const { head } = this.built.embedding!;
    const { mean, scale } = this.standardisation!;
    const [kernel, bias] = head.getWeights();
    const folded = tf.tidy(() => {
      const scaledKernel = tf.div(kernel, tf.tensor2d(scale, [scale.length, 1]));
      const shift = tf.reshape(tf.matMul(tf.tensor2d(mean, [1, mean.length]), scaledKernel), [-1]);
      return [scaledKernel, tf.sub(bias, shift)];
    });
    head.setWeights(folded);
    tf.dispose(folded);
  }

  /** Pixels in the model's input range. */
  private pixelBatch(indexes: readonly number[]): tf.Tensor4D {
    return toInputTensor(
      indexes.map((index) => this.examples.get(index)!.image.pixels),
      this.spec,
    );
  }

  /**
   * The buffer a batch of features is written into, reused from step to step: a detection batch is 17 MB, and a new
   * one per step cost more than writing it (every fresh page is faulted in on first touch, and collected again).
   */
  private featureBatchBuffer(length: number): Float32Array {
    if (!this.batchBuffer || this.batchBuffer.length < length) this.batchBuffer = new Float32Array(length);
    return this.batchBuffer.subarray(0, length);
  }

  /** The trainable model's input for a batch, and the targets, with augmentation planned from `random`. */
  private batch(indexes: readonly number[], random: SeededRandom | null): { inputs: tf.Tensor; targets: tf.Tensor } {
    const targets = indexes.map((index) => this.examples.get(index)!.target);
    if (this.features.size > 0) {
      const chosen = indexes.map((index) => {
        const variants = this.features.get(index)!;
        return variants[random && variants.length > 1 ? random.integer(variants.length) : 0];
      });
      const combine = this.built.featureMaps?.combine;
      const size = this.featureShape.reduce((product, side) => product * side, 1);
      const data = this.featureBatchBuffer(indexes.length * size);
      chosen.forEach((variant, position) => {
        if (combine) combine(variant.values, data.subarray(position * size, (position + 1) * size));
        else data.set(variant.values, position * size);
      });
      const variantTargets = targets.map((target, position) => ({
        ...target,
        boxes: target.boxes && augmentBoxes(target.boxes, chosen[position].plan),
      }));
      return {
        // wasm copies a new tensor's values into its own heap at once; other backends keep the array they are given.
        inputs: tf.tensor(tf.getBackend() === 'wasm' ? data : data.slice(), [indexes.length, ...this.featureShape]),
        targets: this.architecture.encodeTargets(variantTargets, this.outputShape),
      };
    }
    if (!random || !this.augmentation)
      return { inputs: this.pixelBatch(indexes), targets: this.architecture.encodeTargets(targets, this.outputShape) };
    const plans = indexes.map(() => planAugmentation(this.augmentation!, random));
    const augmentedTargets = targets.map((target, position) => ({
      ...target,
      boxes: target.boxes && augmentBoxes(target.boxes, plans[position]),
    }));
    return {
      inputs: this.augmentedPixelBatch(indexes, plans),
      targets: this.architecture.encodeTargets(augmentedTargets, this.outputShape),
    };
  }

  /** Pixels changed by one plan per image, in the model's input range. */
  private augmentedPixelBatch(indexes: readonly number[], plans: readonly AugmentationPlan[]): tf.Tensor4D {
    const unitSpec: InputSpec = { ...this.spec, inputRange: [0, 1] };
    const [low, high] = this.spec.inputRange;
    return tf.tidy(() => {
      const augmented = augmentBatch(
        toInputTensor(
          indexes.map((index) => this.examples.get(index)!.image.pixels),
          unitSpec,
        ),
        plans,
      );
      return low === 0 && high === 1 ? augmented : tf.add(tf.mul(augmented, high - low), low);
    });
  }

  async run(
    trainIndexes: number[],
    validationIndexes: number[],
    optimizer: tf.Optimizer,
    random: SeededRandom,
    callbacks: TrainingCallbacks,
  ): Promise<{ history: EpochReport[]; bestEpoch: number; stoppedEarly: boolean }> {
    const { epochs, batchSize, earlyStopping } = this.config;
    const stepsPerPass = Math.ceil(trainIndexes.length / batchSize);
    const passes = Math.max(1, Math.ceil((this.architecture.minStepsPerEpoch ?? 0) / stepsPerPass));
    const steps = Math.min(passes * stepsPerPass, this.architecture.maxStepsPerEpoch ?? Infinity);
    // An epoch that trains on a part of a large training set also validates on a fixed part of the validation set,
    // spread over it: evaluating 400 photos cost a fifth of each epoch of 20 steps. The run's final validation, and
    // so its metrics, still covers every validation photo.
    const epochValidation =
      trainIndexes.length > steps * batchSize
        ? evenlySpaced(validationIndexes, Math.ceil((steps * batchSize) / TRAINED_PER_EPOCH_VALIDATED))
        : validationIndexes;
    const regularization = this.built.regularization;
    const variables = this.trainable.trainableWeights.map((weight) => weight.read() as tf.Variable);
    const backboneOptimizer =
      this.backboneVariables.size > 0
        ? new AdamOptimizer(this.config.learningRate * FINE_TUNE_LEARNING_RATE_FACTOR)
        : null;
    const history: EpochReport[] = [];
    let best = { loss: Infinity, epoch: 0, weights: null as tf.Tensor[] | null };
    let stoppedEarly = false;
    try {
      for (let epoch = 1; epoch <= epochs; epoch++) {
        const epochStarted = performance.now();
        // Summed on the backend and read once per epoch: a read per batch would stall on every step.
        let lossSum: tf.Scalar = tf.scalar(0);
        let correct: tf.Scalar = tf.scalar(0);
        const order = Array.from({ length: passes }, () => chunks(random.shuffled(trainIndexes), batchSize))
          .flat()
          .slice(0, steps);
        let imagesSeen = 0;
        for (const [position, batchIndexes] of order.entries()) {
          if (callbacks.signal?.aborted) {
            tf.dispose([lossSum, correct]);
            throw new TrainingCancelledError(epoch - 1);
          }
          const { inputs, targets } = this.batch(batchIndexes, random);
          let correctInBatch: tf.Scalar | null = null;
          const batchLoss = (): tf.Scalar => {
            // Fine-tuned blocks keep their batch normalisations' pretrained statistics: a few-shot batch's would wreck them.
            const outputs = this.trainable.apply(inputs, { training: !backboneOptimizer }) as tf.Tensor;
            if (this.architecture.task === 'classification')
              correctInBatch = tf.keep(
                tf.sum(tf.cast(tf.equal(tf.argMax(outputs, -1), tf.argMax(targets, -1)), 'float32')),
              );
            const taskLoss = this.architecture.loss(targets, outputs);
            return regularization ? tf.add(taskLoss, regularization()) : taskLoss;
          };
          const loss = backboneOptimizer
            ? this.stepWithBackbone(batchLoss, variables, optimizer, backboneOptimizer)
            : optimizer.minimize(batchLoss, true, variables)!;
          const sums = tf.tidy(
            () =>
              [
                tf.add(lossSum, tf.mul(loss, batchIndexes.length)),
                correctInBatch ? tf.add(correct, correctInBatch) : correct.clone(),
              ] as tf.Scalar[],
          );
          tf.dispose([inputs, targets, loss, correctInBatch ?? [], lossSum, correct]);
          [lossSum, correct] = sums;
          imagesSeen += batchIndexes.length;
          const elapsedMs = performance.now() - epochStarted;
          callbacks.onBatchEnd?.({
            epoch,
            epochs,
            batch: position + 1,
            batches: order.length,
            elapsedMs,
            imagesPerSecond: imagesSeen / (elapsedMs / 1000),
            batchSize: Math.min(batchSize, trainIndexes.length),
            trainingImages: trainIndexes.length,
            validationImages: validationIndexes.length,
          });
          // Let cancellation and other work on this thread's event loop through between batches.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        const [epochLoss, epochCorrect] = [lossSum.dataSync()[0], correct.dataSync()[0]];
        tf.dispose([lossSum, correct]);
        const trainingMs = performance.now() - epochStarted;
        const evaluation = epochValidation.length > 0 ? this.evaluate(epochValidation) : null;
        const report: EpochReport = {
          epoch,
          epochs,
          loss: epochLoss / imagesSeen,
          accuracy: this.architecture.task === 'classification' ? epochCorrect / imagesSeen : null,
          valLoss: evaluation?.loss ?? null,
          valAccuracy: evaluation?.score ?? null,
          durationMs: performance.now() - epochStarted,
          imagesPerSecond: imagesSeen / (trainingMs / 1000),
        };
        history.push(report);
        await callbacks.onEpochEnd?.(report);

        const monitored = report.valLoss ?? report.loss;
        if (monitored < best.loss - (earlyStopping?.minDelta ?? 0)) {
          tf.dispose(best.weights ?? []);
          best = {
            loss: monitored,
            epoch,
            weights: earlyStopping ? variables.map((variable) => tf.keep(variable.clone())) : null,
          };
        } else if (earlyStopping && epoch - best.epoch >= earlyStopping.patience) {
          stoppedEarly = true;
          break;
        }
      }
      if (earlyStopping && best.weights) variables.forEach((variable, i) => variable.assign(best.weights![i]));
      return { history, bestEpoch: earlyStopping && best.weights ? best.epoch : history.length, stoppedEarly };
    } finally {
      tf.dispose(best.weights ?? []);
      backboneOptimizer?.dispose();
    }
  }

  /** One optimiser step where the head and the fine-tuned backbone weights learn at their own rates. */
  private stepWithBackbone(
    batchLoss: () => tf.Scalar,
    variables: tf.Variable[],
    headOptimizer: tf.Optimizer,
    backboneOptimizer: tf.Optimizer,
  ): tf.Scalar {
    const { value, grads } = tf.variableGrads(batchLoss, variables);
    const [head, backbone]: tf.NamedTensorMap[] = [{}, {}];
    for (const variable of variables)
      (this.backboneVariables.has(variable) ? backbone : head)[variable.name] = grads[variable.name];
    headOptimizer.applyGradients(head);
    backboneOptimizer.applyGradients(backbone);
    tf.dispose(grads);
    return value;
  }

  /** Mean loss and the task's score (accuracy, or mAP@0.5) on `indexes`, plus the raw outputs. */
  private evaluate(indexes: number[]): { loss: number; score: number; outputs: Float32Array[] } {
    const { batchSize } = this.config;
    let lossSum = 0;
    const outputs: Float32Array[] = [];
    for (const batchIndexes of chunks(indexes, batchSize)) {
      const { inputs, targets } = this.batch(batchIndexes, null);
      const [loss, values] = tf.tidy(() => {
        // apply, not predict: predict slices its input into batches, which the wasm backend does by copying the whole
        // input out of its heap (a detection batch: 22 MB) and back.
        const predicted = this.trainable.apply(inputs, { training: false }) as tf.Tensor;
        return [this.architecture.loss(targets, predicted).dataSync()[0], predicted.dataSync() as Float32Array];
      });
      tf.dispose([inputs, targets]);
      lossSum += loss * batchIndexes.length;
      const size = values.length / batchIndexes.length;
      for (let i = 0; i < batchIndexes.length; i++) outputs.push(values.slice(i * size, (i + 1) * size));
    }
    const score =
      this.architecture.task === 'classification'
        ? accuracy(
            indexes.map((index) => this.examples.get(index)!.target.label!),
            outputs.map((output) => argMax(output)),
          )
        : this.architecture.task === 'multilabel'
          ? multilabelMetrics(
              indexes.map((index) => this.examples.get(index)!.target.labels ?? []),
              outputs.map((output) => Array.from(output)),
              this.dataset.labels,
              MULTILABEL_THRESHOLD,
            ).map
          : detectionMetrics(
              indexes.map((index, position) => ({
                groundTruth: [...(this.examples.get(index)!.target.boxes ?? [])],
                detections: this.detections(outputs[position]),
              })),
              this.dataset.labels,
            ).map50;
    return { loss: lossSum / indexes.length, score, outputs };
  }

  private detections(output: Float32Array): ScoredBox[] {
    const predictions = this.architecture.decode(output, this.outputShape, {
      threshold: EVALUATION_THRESHOLD,
      overlapThreshold: EVALUATION_OVERLAP,
      maxResults: EVALUATION_MAX_DETECTIONS,
    });
    return predictions
      .filter((p): p is RawPrediction & { box: LabeledBox } => p.box !== undefined)
      .map((p) => ({ ...p.box, score: p.probability }));
  }

  /** Final validation results, per example, in source-image coordinates. */
  validate(indexes: number[]): Validation {
    const { outputs } = this.evaluate(indexes);
    if (this.architecture.task === 'multilabel') {
      const expected = indexes.map((index) => [...(this.examples.get(index)!.target.labels ?? [])]);
      const probabilities = outputs.map((output) => Array.from(output));
      const validation: MultilabelValidation = {
        task: 'multilabel',
        exampleIndexes: indexes,
        expected,
        probabilities,
        metrics: multilabelMetrics(expected, probabilities, this.dataset.labels, MULTILABEL_THRESHOLD),
      };
      return validation;
    }
    if (this.architecture.task === 'classification') {
      const expected = indexes.map((index) => this.examples.get(index)!.target.label!);
      const predicted = outputs.map((output) => argMax(output));
      return {
        task: 'classification',
        exampleIndexes: indexes,
        expected,
        probabilities: outputs.map((output) => Array.from(output)),
        metrics: classificationMetrics(expected, predicted, this.dataset.labels),
      };
    }
    const samples: DetectionSample[] & DetectionValidation['samples'] = indexes.map((index, position) => {
      const example = this.examples.get(index)!;
      const detections = this.detections(outputs[position]).map((box) => ({
        ...box,
        ...boxFromLetterbox(box, example.image.transform),
      }));
      return { groundTruth: example.boxes, detections };
    });
    return {
      task: 'detection',
      exampleIndexes: indexes,
      samples,
      metrics: detectionMetrics(samples, this.dataset.labels),
    };
  }
}

/** Mean and spread per dimension; a spread near zero (a dead feature) is floored so it cannot blow up. */
function spreadOf(vectors: readonly Float32Array[], dimension: number): { mean: Float32Array; scale: Float32Array } {
  const mean = new Float64Array(dimension);
  const squares = new Float64Array(dimension);
  for (const vector of vectors)
    for (let i = 0; i < dimension; i++) {
      mean[i] += vector[i];
      squares[i] += vector[i] * vector[i];
    }
  const deviations = Array.from(mean, (sum, i) => {
    const average = sum / vectors.length;
    return Math.sqrt(Math.max(0, squares[i] / vectors.length - average * average));
  });
  const floor = Math.max(1e-6, 0.01 * ([...deviations].sort((a, b) => a - b)[Math.floor(dimension / 2)] ?? 0));
  return {
    mean: Float32Array.from(mean, (sum) => sum / vectors.length),
    scale: Float32Array.from(deviations, (deviation) => Math.max(deviation, floor)),
  };
}

function argMax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** `count` of `items` spread evenly over them (all of them when there are no more), in their order. */
function evenlySpaced<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, position) => items[Math.floor((position * items.length) / count)]);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}
