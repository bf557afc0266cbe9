export * from './domain/dataset-analysis.js';
export * from './domain/dataset-errors.js';
export * from './domain/image.decider.js';
export * from './domain/image-content-claim.decider.js';
export * from './domain/image.events.js';
export * from './domain/image.upcasters.js';
export * from './domain/label-reference.js';
export * from './images/heic-conversion.js';
export * from './images/image-formats.js';
export * from './images/image-header.js';
export * from './images/image-inspection.js';
export * from './read-models/images/dataset-queries.js';
export * from './read-models/images/image.view.js';
export * from './read-models/images/images.projection.js';
export * from './datasets.module.js';
export * from './upload/upload-limits.js';
export * from './domain/image-metadata.js';
export { UpdateImageMetadata } from './slices/update-image-metadata/update-image-metadata.handler.js';
export { ItemErrorDto } from './http/image.dto.js';
export { type AnnotationIssue, type CocoAnnotations, readCocoFile } from './slices/import-dataset/dataset-archive.js';
export { AnnotationIssueDto } from './slices/import-dataset/import-dataset.controller.js';
export { RegionInputDto, toRegions } from './http/region-input.dto.js';
export { LabelReferencesProperty } from './http/label-references.dto.js';
export { PENDING_CLAIMS, type PendingClaimView } from './read-models/content-claims/pending-claims.projection.js';
export {
  DATASET_CONTENTS,
  type DatasetContentView,
} from './read-models/dataset-contents/dataset-contents.projection.js';
export { ImageThumbnails } from './slices/image-thumbnail/image-thumbnails.js';
export { ThumbnailQueryDto } from './slices/image-thumbnail/thumbnail-query.dto.js';
export { ImageWriter, type UserContext } from './slices/image-writer.js';
export { LabelImages } from './slices/label-images-batch/label-images-batch.handler.js';
export { RemoveImage } from './slices/remove-image/remove-image.handler.js';
export { UploadImages } from './slices/upload-images/upload-images.handler.js';
export { VideoFramesJobProcessor } from './slices/upload-video/video-frames.job.js';
export {
  extractFrames,
  frameCountOf,
  inspectVideo,
  receivedVideo,
  type VideoSource,
} from './slices/upload-video/video-frames.js';
export { VIDEO_EVENT_TYPES } from './slices/upload-video/video.events.js';
export { ImageIntake, type IntakeItem } from './upload/image-intake.js';
export {
  IMAGE_QUOTA_DESCRIPTION,
  IMAGE_QUOTA_EXCEEDED,
  type ImageDestination,
  ImageQuota,
  QUOTA_RESERVATION_TTL_MS,
} from './upload/image-quota.js';
export { PostgresQuotaReservations } from './upload/quota-reservations/postgres-quota-reservations.js';
export { QuotaReservations } from './upload/quota-reservations/quota-reservations.port.js';
export { MultipartFiles, ReceivedFiles, ReceivedUpload, type ReceivedFile } from './upload/multipart.interceptor.js';
export {
  afterRemoving,
  removeLeftoverFiles,
  TemporaryFileStorage,
  type TemporaryFile,
  temporaryUploadDirectory,
  UploadedFile,
} from './upload/temporary-files.js';
