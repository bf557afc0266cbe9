import type { TrainingConfig, TrainingDataset, TrainingExample } from '@diyml/ml';
import type { DatasetManifest } from '../manifest/dataset-manifest.js';

/**
 * The examples the model learns from: labeled train and validation images (test images are kept for test
 * runs). When no image is assigned to validation, `validationSplit` holds out a share of the train images.
 * `imageIds[i]` is the manifest image of `dataset.examples[i]`.
 */
export function toTrainingDataset(
  manifest: DatasetManifest,
  imageBytes: ReadonlyMap<string, Uint8Array>,
): { dataset: TrainingDataset; imageIds: string[] } {
  const labelIndex = new Map(manifest.labels.map((label, index) => [label.id, index]));
  const usable = manifest.images.filter((image) => image.split !== 'test');
  const fixedValidation = usable.some((image) => image.split === 'validation');
  const examples: TrainingExample[] = [];
  const imageIds: string[] = [];
  for (const image of usable) {
    const split = fixedValidation ? (image.split as 'train' | 'validation') : undefined;
    const bytes = imageBytes.get(image.sha256)!;
    if (manifest.task === 'classification') {
      // An image of a label the model does not learn is left out: the negative label of a manifest made before it
      // was learned as a class.
      const label = image.labelId === null ? undefined : labelIndex.get(image.labelId);
      if (label === undefined) continue;
      examples.push({ image: bytes, label, split });
      imageIds.push(image.id);
    } else if (manifest.task === 'multilabel') {
      // An image without labels is untagged, as in Custom Vision: it teaches nothing and is left out. A negative
      // image shows none of the labels: it is learned with every label absent (an all-zeros target).
      const labels = (image.labelIds ?? []).flatMap((labelId) => labelIndex.get(labelId) ?? []);
      if (labels.length === 0 && !image.negative) continue;
      examples.push({ image: bytes, labels, split });
      imageIds.push(image.id);
    } else {
      const boxes = image.regions
        .filter((region) => labelIndex.has(region.labelId))
        .map((region) => ({
          label: labelIndex.get(region.labelId)!,
          x: region.x,
          y: region.y,
          width: region.width,
          height: region.height,
        }));
      examples.push({ image: bytes, boxes, split });
      imageIds.push(image.id);
    }
  }
  return { dataset: { task: manifest.task, labels: manifest.labels.map((label) => label.name), examples }, imageIds };
}

/** The project's training configuration in the terms of libs/ml. */
export function toMlConfig(config: Record<string, unknown>, channels: 1 | 3): Partial<TrainingConfig> {
  const earlyStopping = config.earlyStopping as { enabled?: boolean; patience?: number } | null | undefined;
  return {
    architecture: config.architecture as string,
    learningRate: config.learningRate as number,
    epochs: config.epochs as number,
    batchSize: config.batchSize as number,
    imageSize: config.imageSize as number,
    channels,
    validationSplit: config.validationSplit as number,
    augmentation: (config.augmentation as TrainingConfig['augmentation']) ?? false,
    seed: config.seed as number,
    earlyStopping: earlyStopping && earlyStopping.enabled !== false ? { patience: earlyStopping.patience ?? 5 } : null,
    // Configurations recorded before the setting existed have none: a frozen backbone.
    fineTune: (config.fineTune as number | undefined) ?? 0,
  };
}
