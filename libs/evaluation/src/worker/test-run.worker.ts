import { parentPort } from 'node:worker_threads';
import {
  EmbeddingHead,
  FeatureMapHead,
  liveTensorCount,
  LoadedModel,
  loadBackbone,
  type Prediction,
  type PredictOptions,
  selectBackend,
} from '@diyml/ml';
import { unpackModel } from '@diyml/training/pure';
import type { ComputedFeatureMaps, FeatureUse, FromTestRunThread, ToTestRunThread } from './test-run-protocol.js';

/**
 * The prediction thread of test runs: for each request, loads the model (or its head), predicts every image in
 * batches, releases the model and answers once. The pool that owns the thread may send it the next request.
 */
const port = parentPort!;
const send = (message: FromTestRunThread) => port.postMessage(message);

interface Predictor {
  predict(): Promise<{ predictions: Prediction[][]; featureMaps?: FeatureUse; computedMaps?: ComputedFeatureMaps }>;
  dispose(): void;
}

async function inBatches<T>(
  items: readonly T[],
  batchSize: number,
  predict: (batch: T[]) => Promise<Prediction[][]>,
): Promise<Prediction[][]> {
  const predictions: Prediction[][] = [];
  for (let start = 0; start < items.length; start += batchSize)
    predictions.push(...(await predict(items.slice(start, start + batchSize))));
  return predictions;
}

const wholeModelPredicts = (model: LoadedModel, options: PredictOptions) => (images: Uint8Array[]) =>
  model.predictBatch(images, options);

async function predictorFor(message: ToTestRunThread): Promise<Predictor> {
  if (message.type === 'predict-embeddings') {
    const head = await EmbeddingHead.load(unpackModel(message.modelZip));
    return {
      predict: async () => ({ predictions: head.predict(message.embeddings, message.options) }),
      dispose: () => head.dispose(),
    };
  }
  const model = unpackModel(message.modelZip);
  if (message.type === 'predict') {
    const loaded = await LoadedModel.load(model);
    return {
      predict: async () => ({
        predictions: await inBatches(message.images, message.batchSize, wholeModelPredicts(loaded, message.options)),
      }),
      dispose: () => loaded.dispose(),
    };
  }
  // A model whose head cannot be taken apart predicts every image whole (and fails there if it is no model at all).
  const head = await FeatureMapHead.load(model).catch(() => null);
  // Maps of another space (other layers, input size or fitting) do not fit the head: the backbone runs instead.
  const fits = head?.reads(message.space, message.dimension) ?? false;
  const maps = message.maps.map((cached) => (fits ? cached : null));
  const missing = maps.flatMap((cached, index) => (cached ? [] : [index]));
  // The images without maps go through the registered backbone, so their maps can be cached; the whole model (its
  // backbone converted for the fast runtime) predicts them only when that backbone cannot be loaded.
  const backbone =
    head && fits && missing.length > 0 && message.backbone
      ? await loadBackbone(message.backbone.descriptor, { cacheDirectory: message.backbone.cacheDirectory }).catch(
          () => null,
        )
      : null;
  const wholeModel = missing.length > 0 && !backbone ? await LoadedModel.load(model) : null;
  return {
    async predict() {
      const computed = backbone
        ? await head!.mapsFrom(
            backbone,
            missing.map((index) => message.images[index]),
            message.batchSize,
          )
        : [];
      computed.forEach((computedMaps, position) => (maps[missing[position]] = computedMaps));
      const fromMaps = maps.flatMap((cached, index) =>
        cached ? [{ index, image: message.images[index], maps: cached }] : [],
      );
      const fromImages = maps.flatMap((cached, index) => (cached ? [] : [{ index, image: message.images[index] }]));
      const predictions: Prediction[][] = new Array<Prediction[]>(message.images.length);
      const byHead = await inBatches(fromMaps, message.batchSize, (batch) => head!.predict(batch, message.options));
      fromMaps.forEach(({ index }, position) => (predictions[index] = byHead[position]));
      if (wholeModel) {
        const byWholeModel = await inBatches(
          fromImages.map(({ image }) => image),
          message.batchSize,
          wholeModelPredicts(wholeModel, message.options),
        );
        fromImages.forEach(({ index }, position) => (predictions[index] = byWholeModel[position]));
      }
      return {
        predictions,
        featureMaps: { computed: missing.length, reused: message.images.length - missing.length },
        ...(computed.length > 0
          ? {
              computedMaps: {
                space: head!.spaceOn(backbone!.descriptor),
                dimension: head!.mapLength,
                maps: missing.map((index, position) => ({ index, maps: computed[position] })),
              },
            }
          : {}),
      };
    },
    dispose: () => {
      head?.dispose();
      backbone?.dispose();
      wholeModel?.dispose();
    },
  };
}

port.on('message', (message: ToTestRunThread) => {
  void (async () => {
    let predictor: Predictor;
    let backend: string;
    let tensorsBefore: number;
    try {
      backend = await selectBackend();
      tensorsBefore = liveTensorCount();
      predictor = await predictorFor(message);
    } catch (error) {
      return send({ type: 'failed', message: (error as Error).message ?? String(error), invalidModel: true });
    }
    let outcome: Awaited<ReturnType<Predictor['predict']>>;
    try {
      outcome = await predictor.predict();
    } catch (error) {
      return send({ type: 'failed', message: (error as Error).message ?? String(error), invalidModel: false });
    } finally {
      predictor.dispose();
    }
    send({ type: 'done', ...outcome, backend, tensorsReleased: liveTensorCount() <= tensorsBefore });
  })();
});
