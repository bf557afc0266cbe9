import { DomainError } from '@diyml/core/pure';
import { convertToOnnx, deserializeModel, type ModelMetadata, selectBackend, UnsupportedLayerError } from '@diyml/ml';
import { unpackModel } from './model-archive.js';

function inputDescription(metadata: ModelMetadata): string {
  const { width, height } = metadata.imageSize;
  const [low, high] = metadata.inputRange;
  const fit =
    metadata.fit === 'letterbox'
      ? 'letterboxed (scaled to fit with its aspect ratio kept, centred, padded with grey 114)'
      : 'resized (stretched)';
  return (
    `Input \`image\`: float32 [batch, ${height}, ${width}, ${metadata.channels}] (channels last, ${metadata.channels === 1 ? 'grey' : 'RGB'}, transparency flattened on white), ` +
    `the photo ${fit} to ${width}×${height}, each pixel value v in 0–255 mapped to ${low} + v × ${(high - low) / 255}.`
  );
}

function outputDescription(metadata: ModelMetadata, outputName: string): string {
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
      'and undo the letterbox to get fractions of the photo.'
    );
  }
  return `Output \`${outputName}\`: the raw head of the ${metadata.architecture} detector (see diyml's documentation of the architecture for its decoding).`;
}

/**
 * A stored model zip as an ONNX file computing the same outputs, with diyml's metadata (labels, input spec) in
 * metadata_props and a doc_string saying how to prepare the input and read the output.
 */
export async function exportOnnx(zip: Uint8Array): Promise<Uint8Array> {
  await selectBackend();
  const { model, metadata } = await deserializeModel(unpackModel(zip));
  try {
    if (!metadata) throw new Error('the stored model has no diyml metadata');
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
