export * from './custom-vision.module.js';
export { IMAGE_FILES_JSON_PATH } from './slices/images/create-images.controller.js';
export { hasValidTrainingKey } from './http/keys.js';
