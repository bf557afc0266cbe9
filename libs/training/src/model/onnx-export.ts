import { DomainError } from '@diyml/core/pure';
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  convertToOnnx,
  describeForeignModel,
  deserializeModel,
  type ModelMetadata,
  selectBackend,
  type SerializedModel,
  UnsupportedLayerError,
} from '@diyml/ml';
import { unpackModel } from './model-archive.js';

function inputDescription(metadata: ModelMetadata): string {
  const { width, height } = metadata.imageSize;
  const [low, high] = metadata.inputRange;
  const fit =
    metadata.fit === 'letterbox'
      ? `letterboxed (a w×h photo scaled by s = min(${width}/w, ${height}/h) to cw×ch = round(w·s)×round(h·s), its top-left ` +
        `corner at (left, top) = (floor((${width} − cw)/2), floor((${height} − ch)/2)), the rest grey 114)`
      : 'resized (stretched)';
  // libvips' grey: luminance in linear light, sRGB-coded again. Red is 127, not the 76 of 0.299R + 0.587G + 0.114B.
  const colour =
    metadata.channels === 1
      ? 'grey: each pixel Y = 0.2126 R + 0.7152 G + 0.0722 B on linear-light values (the sRGB curve undone), then coded with the sRGB curve again'
      : 'RGB';
  return (
    `Input \`image\`: float32 [batch, ${height}, ${width}, ${metadata.channels}] (channels last, ${colour}, transparency flattened on white), ` +
    `the photo turned upright by its EXIF orientation (as phones save them), its colours converted to sRGB by its embedded ICC profile ` +
    `(iPhone photos are Display P3), ${fit} to ${width}×${height} (diyml resamples with Lanczos-3), ` +
    `each pixel value v in 0–255 mapped to ${low} + v × ${(high - low) / 255}.`
  );
}

function outputDescription(metadata: ModelMetadata, outputName: string): string {
  if (metadata.architecture === 'imported') {
    return `Output \`${outputName}\`: float32 [batch, ${metadata.labels.length}], the model's own output, one score per label in the order of the labels (diyml reports them as the probabilities).`;
  }
  if (metadata.task === 'classification') {
    return `Output \`${outputName}\`: float32 [batch, ${metadata.labels.length}], softmax probabilities in the order of the labels.`;
  }
  if (metadata.task === 'multilabel') {
    return (
      `Output \`${outputName}\`: float32 [batch, ${metadata.labels.length}], one independent sigmoid probability per ` +
      'label in the order of the labels (they do not sum to 1); a label applies from 0.5.'
    );
  }
  if (metadata.architecture === 'tiny-detector') {
    return (
      `Output \`${outputName}\`: float32 [batch, rows, columns, 5 + ${metadata.labels.length}], the raw grid head (no activation). ` +
      'For each cell (row r, column c) of the rows×columns grid: [objectness, x, y, w, h, one score per label]. ' +
      'Decode: p = sigmoid(objectness); label = argmax of the scores, probability = p × softmax(scores)[label]; ' +
      'centre = ((c + sigmoid(x)) / columns, (r + sigmoid(y)) / rows); size = (sigmoid(w), sigmoid(h)), in fractions of the model input; ' +
      'keep cells above a threshold (diyml: 0.25), merge boxes of one label overlapping above IoU 0.45 (non-maximum suppression), ' +
      `and undo the letterbox to get fractions of the photo: x_photo = (x × ${metadata.imageSize.width} − left) / cw, y_photo = (y × ${metadata.imageSize.height} − top) / ch.`
    );
  }
  if (metadata.architecture === 'backbone-detector') {
    return (
      `Output \`${outputName}\`: float32 [batch, rows, columns, ${metadata.labels.length} + 5], the raw anchor-free head (no activation). ` +
      'For each cell (row r, column c) of the rows×columns grid: [one score per label, left, top, right, bottom, centre-ness]. ' +
      'Decode: for each label k, probability = sqrt(sigmoid(score k) × sigmoid(centre-ness)); with the cell centre ' +
      '(cx, cy) = ((c + 0.5) / columns, (r + 0.5) / rows) and d(v) = exp(v clipped to [-4, 4]), the box runs from ' +
      'cx − d(left) / columns to cx + d(right) / columns and from cy − d(top) / rows to cy + d(bottom) / rows, clipped to 0–1, ' +
      'in fractions of the model input; keep (cell, label) pairs above a threshold (diyml: 0.25), merge boxes of one label ' +
      'overlapping above IoU 0.45 (non-maximum suppression, best first), each kept box becoming the probability-weighted mean ' +
      'of the edges of the kept pairs of its label overlapping it above IoU 0.45, itself included (box voting); then undo ' +
      `the letterbox to get fractions of the photo: x_photo = (x × ${metadata.imageSize.width} − left) / cw, y_photo = (y × ${metadata.imageSize.height} − top) / ch.`
    );
  }
  throw new Error(`no description of the output of a ${metadata.architecture} ${metadata.task} model`);
}

/**
 * How diyml reads a model: its own metadata, or for a model trained elsewhere (Teachable Machine, Keras) what
 * predictions assume of it (a classifier taking the photo stretched), with the labels predictions are named by.
 */
function predictionMetadata(
  model: tfl.LayersModel,
  serialized: SerializedModel,
  own: ModelMetadata | undefined,
  labels: readonly string[],
): ModelMetadata {
  if (own) return { ...own, labels: [...labels] };
  const { imageSize, channels, inputRange } = describeForeignModel(model, serialized);
  return {
    format: 'diyml',
    version: 1,
    architecture: 'imported',
    task: 'classification',
    labels: [...labels],
    imageSize,
    channels,
    fit: 'resize',
    inputRange,
  };
}

/**
 * A stored model zip as an ONNX file computing the same outputs, with diyml's metadata (labels, input spec) in
 * metadata_props and a doc_string saying how to prepare the input and read the output. `labels`: the iteration's,
 * in model-output order, which name its predictions (an imported model's file may spell them otherwise).
 */
export async function exportOnnx(zip: Uint8Array, labels: readonly string[]): Promise<Uint8Array> {
  await selectBackend();
  const serialized = unpackModel(zip);
  const { model, metadata: own } = await deserializeModel(serialized);
  try {
    const metadata = predictionMetadata(model, serialized, own, labels);
    const outputName = model.outputs[0].sourceLayer.name;
    return convertToOnnx(model, {
      metadata: { diyml: JSON.stringify(metadata), labels: JSON.stringify(metadata.labels) },
      description: `diyml ${metadata.task} model (${metadata.architecture}). ${inputDescription(metadata)} ${outputDescription(metadata, outputName)}`,
    }).bytes;
  } catch (error) {
    if (error instanceof UnsupportedLayerError) {
      throw DomainError.unprocessable(
        'MODEL_NOT_EXPORTABLE',
        `This model cannot be exported as ONNX: ${error.message}. The TensorFlow.js zip (format=tfjs) has every layer.`,
        {
          layerType: error.layerType,
          layerName: error.layerName,
        },
      );
    }
    throw error;
  } finally {
    model.dispose();
  }
}
