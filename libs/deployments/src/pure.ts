/**
 * The part of deployments that loads no Nest module (`@diyml/deployments/pure`): training reads deployments
 * through it, as deployments' module imports training's (a cycle through both indexes fails at load).
 */
export * from './read-models/deployments/deployment.view.js';
export * from './domain/deployment.events.js';
export * from './domain/stored-prediction.events.js';
export * from './domain/usage.events.js';
export { VIDEO_PREDICTION_EVENT_TYPES } from './slices/predict-video/video-prediction.events.js';
