import type { BackboneDescriptor, EmbeddingSpace, Prediction, PredictOptions } from '@diyml/ml';

/**
 * Messages between a test-run job (main thread) and its prediction thread: predict from the images (the whole
 * model), from their cached backbone embeddings (a 'backbone-classifier' model's head alone), or from their backbone
 * feature maps (a 'backbone-detector' model's head): cached ones, and for the others maps the registered backbone
 * computes, handed back to be cached.
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
      /**
       * The registered backbone frozen in the model: it computes the maps of the images that have none, to be cached.
       * Null (or failing to load): the whole model predicts those images.
       */
      backbone: { descriptor: BackboneDescriptor; cacheDirectory: string } | null;
      options: PredictOptions;
      batchSize: number;
    };

/** Images a backbone model's head predicted from cached features (reused) and those run through the backbone. */
export interface FeatureUse {
  computed: number;
  reused: number;
}

/** Maps the thread computed for images that had none (identity view, of `space`): for the cache. */
export interface ComputedFeatureMaps {
  space: EmbeddingSpace;
  dimension: number;
  /** By position in the request's images. */
  maps: { index: number; maps: Float32Array }[];
}

export type FromTestRunThread =
  | {
      type: 'done';
      predictions: Prediction[][];
      backend: string;
      featureMaps?: FeatureUse;
      computedMaps?: ComputedFeatureMaps;
      /** The thread is back at the tensors it held before the run: fit to serve the next one. */
      tensorsReleased: boolean;
    }
  | { type: 'failed'; message: string; invalidModel: boolean };
