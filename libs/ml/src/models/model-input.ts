import * as tf from '@tensorflow/tfjs-core';
import {
  decodeLetterboxed,
  decodeResized,
  letterboxTransform,
  type Channels,
  type ImageSize,
  type ImageSource,
  type LetterboxTransform,
} from '../images/image-decoding.js';

/** How a model wants its input: size, colour, fitting and value range. Stored with the model. */
export interface InputSpec {
  imageSize: ImageSize;
  channels: Channels;
  /** 'resize' stretches (classification); 'letterbox' keeps the aspect ratio and pads (detection). */
  fit: 'resize' | 'letterbox';
  /** Pixel values are mapped linearly from [0, 255] to this range (MobileNet-style models expect [-1, 1]). */
  inputRange: [number, number];
}

export interface PreparedImage {
  pixels: Uint8Array;
  /** Present for letterboxed input: maps boxes between the model input and the source image. */
  transform: LetterboxTransform;
}

export async function prepareImage(source: ImageSource, spec: InputSpec): Promise<PreparedImage> {
  if (spec.fit === 'letterbox') return decodeLetterboxed(source, spec.imageSize, spec.channels);
  const image = await decodeResized(source, spec.imageSize, spec.channels);
  // A stretched image maps box fractions unchanged: the identity transform of a full-frame "letterbox".
  return { pixels: image.pixels, transform: letterboxTransform(spec.imageSize, spec.imageSize) };
}

/** A batch tensor [n, height, width, channels] in the model's input range. */
export function toInputTensor(images: readonly Uint8Array[], spec: InputSpec): tf.Tensor4D {
  const { width, height } = spec.imageSize;
  return tf.tensor4d(toInputArray(images, spec), [images.length, height, width, spec.channels]);
}

/** The values of a batch [n, height, width, channels] in the model's input range. */
export function toInputArray(images: readonly Uint8Array[], spec: InputSpec): Float32Array {
  const { width, height } = spec.imageSize;
  const imageLength = width * height * spec.channels;
  const [low, high] = spec.inputRange;
  const scale = (high - low) / 255;
  const data = new Float32Array(images.length * imageLength);
  images.forEach((pixels, index) => {
    if (pixels.length !== imageLength)
      throw new RangeError(`image ${index} has ${pixels.length} values, expected ${imageLength}`);
    const offset = index * imageLength;
    for (let i = 0; i < imageLength; i++) data[offset + i] = low + pixels[i] * scale;
  });
  return data;
}
