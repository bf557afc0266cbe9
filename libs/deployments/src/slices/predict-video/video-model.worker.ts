import { parentPort } from 'node:worker_threads';
import { LoadedModel, selectBackend } from '@diyml/ml';
import { unpackModel } from '@diyml/training/pure';
import type { FromVideoModelThread, ToVideoModelThread } from './video-model.protocol.js';

/**
 * The model of one video prediction: loaded once by the first message, then predicts the frames of every chunk
 * it is sent in batches, answering each message in turn. Its job terminates it when the video is done.
 */
const port = parentPort!;
const send = (message: FromVideoModelThread) => port.postMessage(message);
const BATCH_SIZE = 32;
let model: LoadedModel | undefined;

async function handle(message: ToVideoModelThread): Promise<FromVideoModelThread> {
  if (message.type === 'load') {
    await selectBackend();
    model = await LoadedModel.load(unpackModel(message.modelZip));
    return { type: 'loaded' };
  }
  if (!model) return { type: 'failed', message: 'the model was not loaded before the first frames' };
  const predictions = [];
  for (let start = 0; start < message.images.length; start += BATCH_SIZE) {
    predictions.push(...(await model.predictBatch(message.images.slice(start, start + BATCH_SIZE), message.options)));
  }
  return { type: 'predicted', predictions };
}

// Messages are handled one at a time, in order: the job waits for each answer before sending the next.
port.on('message', (message: ToVideoModelThread) => {
  handle(message).then(send, (error: unknown) =>
    send({ type: 'failed', message: (error as Error).message ?? String(error) }),
  );
});
