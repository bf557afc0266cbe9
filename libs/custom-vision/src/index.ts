export * from './custom-vision.module.js';
