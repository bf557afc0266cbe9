import type { AugmentationOptions, BackboneDescriptor, EncodedImage } from '@diyml/ml';

/** Brings an embedding table up to date: `images` are those the table lacks in some view. */
export interface EmbedRequest {
  type: 'embed';
  backbone: BackboneDescriptor;
  /** Where URL backbones are kept once downloaded. */
  cacheDirectory: string;
  /** The views follow the training configuration's augmentation, as training's embeddings do. */
  augmentation: boolean | AugmentationOptions;
  /** The current table (encoded), or null for the first one of this space. */
  table: Uint8Array | null;
  images: EncodedImage[];
}

/** The updated table (encoded), the images it holds and the (image × view) vectors computed for it. */
export interface EmbedResult {
  table: Uint8Array;
  imageCount: number;
  computed: number;
  /** Whether the thread had the backbone loaded already (a warm thread): no load, no runner to build. */
  warm: boolean;
}

export type FromEmbeddingThread = ({ type: 'done' } & EmbedResult) | { type: 'failed'; message: string };
