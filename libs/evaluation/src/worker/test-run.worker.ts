import { parentPort } from 'node:worker_threads';
import {
  EmbeddingHead,
  FeatureMapHead,
  LoadedModel,
  type Prediction,
  type PredictOptions,
  selectBackend,
} from '@diyml/ml';
import { unpackModel } from '@diyml/training/pure';
import type { FeatureUse, FromTestRunThread, ToTestRunThread } from './test-run-protocol.js';

/** The prediction thread of a test run: loads the model (or its head), predicts every image in batches, answers once. */
const port = parentPort!;
const send = (message: FromTestRunThread) => port.postMessage(message);

interface Predictor {
  predict(): Promise<{ predictions: Prediction[][]; featureMaps?: FeatureUse }>;
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
  // The whole model (its backbone converted for the fast runtime) is loaded only when some image needs it; the
  // head then shares its weights.
  const whole = message.maps.some((maps) => !maps) ? await LoadedModel.load(model) : null;
  // A model whose head cannot be taken apart predicts every image whole (and fails there if it is no model at all).
  const head = await (whole ? whole.featureMapHead() : FeatureMapHead.load(model)).catch(() => null);
  // Maps of another space (other layers, input size or fitting) do not fit the head: the backbone runs instead.
  const fits = head?.reads(message.space, message.dimension) ?? false;
  const cached = message.images.flatMap((image, index) => {
    const maps = fits ? message.maps[index] : null;
    return maps ? [{ index, image, maps }] : [];
  });
  const uncached = message.images.flatMap((image, index) => (fits && message.maps[index] ? [] : [{ index, image }]));
  const wholeModel = whole ?? (uncached.length > 0 ? await LoadedModel.load(model) : null);
  return {
    async predict() {
      const predictions: Prediction[][] = new Array<Prediction[]>(message.images.length);
      const fromMaps = await inBatches(cached, message.batchSize, (batch) => head!.predict(batch, message.options));
      cached.forEach(({ index }, position) => (predictions[index] = fromMaps[position]));
      if (wholeModel) {
        const fromImages = await inBatches(
          uncached.map(({ image }) => image),
          message.batchSize,
          wholeModelPredicts(wholeModel, message.options),
        );
        uncached.forEach(({ index }, position) => (predictions[index] = fromImages[position]));
      }
      return { predictions, featureMaps: { computed: uncached.length, reused: cached.length } };
    },
    dispose: () => {
      head?.dispose();
      wholeModel?.dispose();
    },
  };
}

port.once('message', (message: ToTestRunThread) => {
  void (async () => {
    let predictor: Predictor;
    let backend: string;
    try {
      backend = await selectBackend();
      predictor = await predictorFor(message);
    } catch (error) {
      return send({ type: 'failed', message: (error as Error).message ?? String(error), invalidModel: true });
    }
    try {
      send({ type: 'done', ...(await predictor.predict()), backend });
    } catch (error) {
      send({ type: 'failed', message: (error as Error).message ?? String(error), invalidModel: false });
    } finally {
      predictor.dispose();
    }
  })();
});
