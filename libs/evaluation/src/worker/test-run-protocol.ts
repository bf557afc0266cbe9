import type { EmbeddingSpace, Prediction, PredictOptions } from '@diyml/ml';

/**
 * Messages between a test-run job (main thread) and its prediction thread: predict from the images (the whole
 * model), from their cached backbone embeddings (a 'backbone-classifier' model's head alone), or from their cached
 * backbone feature maps where they have some (a 'backbone-detector' model's head; the whole model for the others).
 */
export type ToTestRunThread =
  | { type: 'predict'; modelZip: Uint8Array; images: Uint8Array[]; options: PredictOptions; batchSize: number }
  | { type: 'predict-embeddings'; modelZip: Uint8Array; embeddings: Float32Array[]; options: PredictOptions }
  | {
      type: 'predict-feature-maps';
      modelZip: Uint8Array;
      images: Uint8Array[];
      /** Per image, its cached maps (of `space`, `dimension` values each), or null to run the backbone on it. */
      maps: (Float32Array | null)[];
      space: EmbeddingSpace;
      dimension: number;
      options: PredictOptions;
      batchSize: number;
    };

/** Images a backbone model's head predicted from cached features (reused) and those run through the backbone. */
export interface FeatureUse {
  computed: number;
  reused: number;
}

export type FromTestRunThread =
  | { type: 'done'; predictions: Prediction[][]; backend: string; featureMaps?: FeatureUse }
  | { type: 'failed'; message: string; invalidModel: boolean };
