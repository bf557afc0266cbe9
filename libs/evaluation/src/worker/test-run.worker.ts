import { parentPort } from 'node:worker_threads';
import { EmbeddingHead, LoadedModel, type Prediction, selectBackend } from '@diyml/ml';
import { unpackModel } from '@diyml/training/pure';
import type { FromTestRunThread, ToTestRunThread } from './test-run-protocol.js';

/** The prediction thread of a test run: loads the model (or its head), predicts every image in batches, answers once. */
const port = parentPort!;
const send = (message: FromTestRunThread) => port.postMessage(message);

interface Predictor {
  predict(): Promise<Prediction[][]>;
  dispose(): void;
}

async function predictorFor(message: ToTestRunThread): Promise<Predictor> {
  if (message.type === 'predict-embeddings') {
    const head = await EmbeddingHead.load(unpackModel(message.modelZip));
    return { predict: async () => head.predict(message.embeddings, message.options), dispose: () => head.dispose() };
  }
  const model = await LoadedModel.load(unpackModel(message.modelZip));
  return {
    async predict() {
      const predictions = [];
      for (let start = 0; start < message.images.length; start += message.batchSize) {
        predictions.push(
          ...(await model.predictBatch(message.images.slice(start, start + message.batchSize), message.options)),
        );
      }
      return predictions;
    },
    dispose: () => model.dispose(),
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
      send({ type: 'done', predictions: await predictor.predict(), backend });
    } catch (error) {
      send({ type: 'failed', message: (error as Error).message ?? String(error), invalidModel: false });
    } finally {
      predictor.dispose();
    }
  })();
});
