import { type LoadedModel, type Prediction, type PredictOptions, prepareImage, type RawImage } from '@diyml/ml';

/** A decoded image whose pixels already have the model's input size and channels. */
interface Pending {
  image: RawImage;
  options: PredictOptions;
  resolve(predictions: Prediction[]): void;
  reject(error: unknown): void;
}

/** Images predicted together in one forward pass at most. */
const MAX_BATCH = 32;

/**
 * Runs a model's predictions in small batches: images are decoded on libuv's thread pool (sharp) while the
 * model runs; every image decoded by the time the model is free goes through it in one forward pass. Under
 * load this costs a fraction of a pass per image; alone, an image waits for nobody.
 */
export class PredictionBatcher {
  private queue: Pending[] = [];
  private running = false;

  constructor(private readonly model: LoadedModel) {}

  async predict(bytes: Uint8Array, options: PredictOptions): Promise<Prediction[]> {
    if (this.model.inputSpec.fit !== 'resize') {
      // Letterboxed (detection) input maps boxes back through the letterbox: one image at a time.
      return this.model.predict(bytes, options);
    }
    const { pixels } = await prepareImage(bytes, this.model.inputSpec);
    const { width, height } = this.model.inputSpec.imageSize;
    const image: RawImage = { pixels, width, height, channels: this.model.inputSpec.channels };
    return new Promise<Prediction[]>((resolve, reject) => {
      this.queue.push({ image, options, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          // Every label, most probable first; each request's threshold and count are applied below.
          const results = await this.model.predictBatch(
            batch.map((pending) => pending.image),
            { threshold: 0, maxResults: this.model.labels.length },
          );
          batch.forEach((pending, index) => pending.resolve(applyOptions(results[index], pending.options)));
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
        // Let decodes that finished meanwhile join the next batch.
        if (this.queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
  }
}

function applyOptions(predictions: Prediction[], options: PredictOptions): Prediction[] {
  const threshold = options.threshold ?? 0;
  const kept = predictions.filter((prediction) => prediction.probability >= threshold);
  return options.maxResults === undefined ? kept : kept.slice(0, options.maxResults);
}
