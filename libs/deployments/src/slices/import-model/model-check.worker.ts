import { parentPort } from 'node:worker_threads';
import {
  findNonFiniteWeight,
  liveTensorCount,
  LoadedModel,
  manifestWeights,
  selectBackend,
  type SerializedModel,
  type WeightsManifestJson,
} from '@diyml/ml';
import type { FromModelCheckThread, ModelCheck, ToModelCheckThread } from './model-check.protocol.js';

/**
 * Proves on its own thread that a model archive can serve: every weight is a finite number, the model loads,
 * its declared input is of a bounded size, and one prediction on a blank image of that size gives one finite
 * score per label (or well-formed boxes). Answers each model once; the pool that owns the thread sends it the next
 * model only after a valid one that left no tensor behind.
 */
const port = parentPort!;
const send = (message: FromModelCheckThread) => port.postMessage(message);

function joinedWeights(model: SerializedModel, paths: string[]): Uint8Array {
  if (model.weights instanceof Uint8Array) return model.weights;
  const files = model.weights;
  const parts = paths.map((path) => files[path] ?? files[path.split('/').pop() ?? path]);
  const joined = new Uint8Array(parts.reduce((total, part) => total + (part?.byteLength ?? 0), 0));
  let offset = 0;
  for (const part of parts) {
    if (!part) continue;
    joined.set(part, offset);
    offset += part.byteLength;
  }
  return joined;
}

async function check({ model, maxInputPixels }: ToModelCheckThread): Promise<ModelCheck> {
  const invalid = (reason: string): ModelCheck => ({ type: 'invalid', reason });
  const json = JSON.parse(model.modelJson) as WeightsManifestJson;
  const entries = manifestWeights(json);
  const nonFinite = findNonFiniteWeight(
    entries,
    joinedWeights(
      model,
      (json.weightsManifest ?? []).flatMap((group) => group.paths ?? []),
    ),
  );
  if (nonFinite) return invalid(`weight ${nonFinite} holds NaN or an infinity`);
  let loaded: LoadedModel;
  try {
    loaded = await LoadedModel.load(model);
  } catch (error) {
    return invalid(`it does not load: ${(error as Error).message}`);
  }
  try {
    const { imageSize, channels } = loaded.inputSpec;
    const { width, height } = imageSize;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
      return invalid(`it declares an input of ${width}×${height} pixels, not a positive whole size`);
    }
    if (width * height > maxInputPixels) {
      return invalid(
        `it declares an input of ${width}×${height} pixels, more than the ${maxInputPixels} allowed [MODEL_MAX_INPUT_PIXELS]`,
      );
    }
    const blank = { pixels: new Uint8Array(width * height * channels), width, height, channels };
    let predictions;
    try {
      predictions = await loaded.predict(blank, { threshold: 0 });
    } catch (error) {
      return invalid(`a prediction on a blank ${width}×${height} image fails: ${(error as Error).message}`);
    }
    const unnamed = predictions.find((prediction) => prediction.label === undefined);
    if (unnamed)
      return invalid(`it predicts output ${unnamed.labelIndex}, but names only ${loaded.labels.length} labels`);
    if (loaded.task !== 'detection' && predictions.length !== loaded.labels.length) {
      return invalid(`it scores ${predictions.length} classes, but names ${loaded.labels.length} labels`);
    }
    const numbers = predictions.flatMap((prediction) => [
      prediction.probability,
      ...Object.values(prediction.box ?? {}),
    ]);
    if (!numbers.every(Number.isFinite)) return invalid('a prediction on a blank image gives NaN or an infinity');
    return { type: 'valid', task: loaded.task, architecture: loaded.architectureId, labels: [...loaded.labels] };
  } finally {
    loaded.dispose();
  }
}

port.on('message', (message: ToModelCheckThread) => {
  let tensorsBefore = Infinity;
  const answer = (checked: ModelCheck) =>
    send({ ...checked, tensorsReleased: Number.isFinite(tensorsBefore) && liveTensorCount() <= tensorsBefore });
  // The backend LoadedModel.load selects, ready before counting its tensors.
  selectBackend()
    .then(() => {
      tensorsBefore = liveTensorCount();
      return check(message);
    })
    .then(answer, (error: unknown) => answer({ type: 'invalid', reason: (error as Error).message ?? String(error) }));
});
