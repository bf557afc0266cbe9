import { Module, type OnModuleInit } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { UrlFetcher } from '@diyml/core';
import { Upcasters } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import { datasetUpcasters } from './domain/image.upcasters.js';
import { DatasetQueries } from './read-models/images/dataset-queries.js';
import { ProjectTimeTravel } from '@diyml/audit/pure';
import { DatasetAsOf } from './read-models/images/dataset-as-of.js';
import { PendingClaimsProjection } from './read-models/content-claims/pending-claims.projection.js';
import { DatasetContentsProjection } from './read-models/dataset-contents/dataset-contents.projection.js';
import { ImagesProjection } from './read-models/images/images.projection.js';
import { AnalyzeDatasetController } from './slices/analyze-dataset/analyze-dataset.controller.js';
import { ImageThumbnailController } from './slices/image-thumbnail/image-thumbnail.controller.js';
import { ImageThumbnails } from './slices/image-thumbnail/image-thumbnails.js';
import { ImageWriter } from './slices/image-writer.js';
import { ImportDatasetController } from './slices/import-dataset/import-dataset.controller.js';
import { ImportDatasetHandler } from './slices/import-dataset/import-dataset.handler.js';
import { LabelImageController } from './slices/label-image/label-image.controller.js';
import { LabelImageHandler } from './slices/label-image/label-image.handler.js';
import { LabelImagesBatchController } from './slices/label-images-batch/label-images-batch.controller.js';
import { LabelImagesHandler } from './slices/label-images-batch/label-images-batch.handler.js';
import { ImagesListPages } from './slices/read-images/images-list-pages.js';
import { ReadImagesController } from './slices/read-images/read-images.controller.js';
import { RemoveImageHandler } from './slices/remove-image/remove-image.handler.js';
import { UpdateImageController } from './slices/update-image/update-image.controller.js';
import { UploadImagesFromUrlsController } from './slices/upload-images-from-urls/upload-images-from-urls.controller.js';
import { UploadImagesFromUrlsHandler } from './slices/upload-images-from-urls/upload-images-from-urls.handler.js';
import { UpdateImageMetadataController } from './slices/update-image-metadata/update-image-metadata.controller.js';
import { UpdateImageMetadataHandler } from './slices/update-image-metadata/update-image-metadata.handler.js';
import { UpdateImageHandler } from './slices/update-image/update-image.handler.js';
import { UploadImagesController } from './slices/upload-images/upload-images.controller.js';
import { UploadImagesHandler } from './slices/upload-images/upload-images.handler.js';
import { UploadVideoController } from './slices/upload-video/upload-video.controller.js';
import { UploadVideoHandler } from './slices/upload-video/upload-video.handler.js';
import { VideoFramesJobProcessor, VideoFramesJobReactor } from './slices/upload-video/video-frames.job.js';
import { VideosProjection } from './slices/upload-video/videos.projection.js';
import { ImageCountsProjection } from './read-models/image-counts/image-counts.projection.js';
import { ImageIntake } from './upload/image-intake.js';
import { ImageQuota } from './upload/image-quota.js';
import { QuotaReservationsModule } from './upload/quota-reservations/quota-reservations.module.js';
import { StaleClaimsSweeper } from './upload/stale-claims-sweeper.js';
import { TemporaryUploadsCleaner } from './upload/temporary-files.js';
import { uploadLimitsProvider, UploadLimits } from './upload/upload-limits.js';

/**
 * Images and their labels, boxes and training points; dataset analysis and import. Needs the BlobStore
 * (BlobsModule) and exports DatasetQueries for training and audit.
 */
@Module({
  imports: [CqrsModule, QuotaReservationsModule],
  controllers: [
    // Static paths (images/labels) before parameterised ones (images/:imageId).
    LabelImagesBatchController,
    ImportDatasetController,
    UploadImagesController,
    UploadImagesFromUrlsController,
    UploadVideoController,
    ReadImagesController,
    ImageThumbnailController,
    LabelImageController,
    UpdateImageController,
    AnalyzeDatasetController,
    UpdateImageMetadataController,
  ],
  providers: [
    ProjectAccess,
    uploadLimitsProvider,
    DatasetQueries,
    DatasetAsOf,
    ImagesListPages,
    ProjectTimeTravel,
    ImagesProjection,
    PendingClaimsProjection,
    DatasetContentsProjection,
    ImageCountsProjection,
    ImageIntake,
    ImageQuota,
    StaleClaimsSweeper,
    TemporaryUploadsCleaner,
    ImageWriter,
    ImageThumbnails,
    UploadImagesHandler,
    LabelImageHandler,
    LabelImagesHandler,
    UpdateImageHandler,
    RemoveImageHandler,
    UpdateImageMetadataHandler,
    UploadImagesFromUrlsHandler,
    UrlFetcher,
    ImportDatasetHandler,
    UploadVideoHandler,
    VideosProjection,
    VideoFramesJobReactor,
    VideoFramesJobProcessor,
  ],
  exports: [DatasetQueries, UploadLimits],
})
export class DatasetsModule implements OnModuleInit {
  constructor(private readonly upcasters: Upcasters) {}

  onModuleInit(): void {
    for (const upcaster of datasetUpcasters) this.upcasters.register(upcaster);
  }
}

/** The worker process extracts video frames into images (no read models there: the intake does not wait for them). */
@Module({ providers: [uploadLimitsProvider, ImageIntake, VideoFramesJobProcessor] })
export class DatasetsWorkerModule {}
