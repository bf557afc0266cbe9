/**
 * The part of datasets that loads no Nest module (`@diyml/datasets/pure`): its events and upcasters, for the
 * contexts that read its log (audit's import) and for specs that should not load the whole context.
 */
export * from './domain/image.events.js';
export * from './domain/image.upcasters.js';
export { VIDEO_EVENT_TYPES } from './slices/upload-video/video.events.js';
