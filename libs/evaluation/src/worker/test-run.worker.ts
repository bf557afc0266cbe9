import { parentPort } from 'node:worker_threads';
import { LoadedModel, selectBackend } from '../../../ml/src/index.js';
import { unpackModel } from '../../../training/src/model/model-archive.js';
import type { FromTestRunThread, ToTestRunThread } from './test-run-protocol.js';

/** The prediction thread of a test run: loads the model, predicts every image in batches, answers once. */
const port = parentPort!;
const send = (message: FromTestRunThread) => port.postMessage(message);

port.once('message', (message: ToTestRunThread) => {
  void (async () => {
    let model: LoadedModel;
    let backend: string;
    try {
      backend = await selectBackend();
      model = await LoadedModel.load(unpackModel(message.modelZip));
    } catch (error) {
      return send({ type: 'failed', message: (error as Error).message ?? String(error), invalidModel: true });
    }
    try {
      const predictions = [];
      for (let start = 0; start < message.images.length; start += message.batchSize) {
        predictions.push(...(await model.predictBatch(message.images.slice(start, start + message.batchSize), message.options)));
      }
      send({ type: 'done', predictions, backend });
    } catch (error) {
      send({ type: 'failed', message: (error as Error).message ?? String(error), invalidModel: false });
    } finally {
      model.dispose();
    }
  })();
});
