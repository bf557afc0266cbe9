/** The part of projects that loads no Nest module nor TensorFlow.js (`@diyml/projects/pure`): its events and the training configuration's defaults. */
export * from './domain/project-type.js';
export * from './domain/project.events.js';
export type {
  AugmentationConfig,
  EarlyStoppingConfig,
  RecordedTrainingConfig,
  TrainingConfig,
} from './domain/training-config.js';
export { defaultTrainingConfig } from './domain/training-config.js';
