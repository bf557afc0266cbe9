import { ApiProperty } from '@nestjs/swagger';
import { LabelDto } from '@diyml/projects';
import type { DatasetManifest, ManifestImage, ManifestRegion, Split } from '../../manifest/dataset-manifest.js';
import type { ImageChange, ImageLabeling, ManifestDiff } from '../../manifest/manifest-diff.js';
import type { Task } from '../../domain/iteration.events.js';

const SPLITS: Split[] = ['train', 'validation', 'test'];

export class ManifestRegionDto implements ManifestRegion {
  @ApiProperty({ format: 'uuid', description: "The box's label (an id of the manifest's `labels`)." })
  labelId: string;
  @ApiProperty({ example: 0.1, description: 'Left edge, a fraction (0..1) of the image width.' }) x: number;
  @ApiProperty({ example: 0.2, description: 'Top edge, a fraction (0..1) of the image height.' }) y: number;
  @ApiProperty({ example: 0.5, description: 'A fraction (0..1) of the image width.' }) width: number;
  @ApiProperty({ example: 0.4, description: 'A fraction (0..1) of the image height.' }) height: number;
}

export class ManifestImageDto implements ManifestImage {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: "sha256 of the image's bytes (GET …/images/{id}/content serves them)." }) sha256: string;
  @ApiProperty({ example: 'cat-01.jpg' }) filename: string;
  @ApiProperty({ example: 640 }) width: number;
  @ApiProperty({ example: 480 }) height: number;
  @ApiProperty({ enum: SPLITS, description: 'The split it was in when the dataset was frozen.' }) split: Split;
  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description:
      'Classification: its label (an id of `labels`); null only in datasets frozen before unlabeled images were left ' +
      'out. Detection images have boxes.',
  })
  labelId: string | null;
  @ApiProperty({ type: [ManifestRegionDto], description: 'Detection: its boxes; empty for classification.' })
  regions: ManifestRegionDto[];
}

/** The frozen dataset an iteration trained on (GET …/iterations/{iterationId}/dataset). */
export class DatasetManifestDto implements DatasetManifest {
  @ApiProperty({ enum: [1], description: 'Version of the manifest format.' }) v: 1;
  @ApiProperty({ format: 'uuid' }) projectId: string;
  @ApiProperty({ enum: ['classification', 'multilabel', 'detection'] }) task: Task;
  @ApiProperty({ type: [LabelDto], description: 'The labels the model learns, as named when it was frozen.' })
  labels: LabelDto[];
  @ApiProperty({
    type: [ManifestImageDto],
    description:
      'The included images the model learns from or is validated on when it was frozen (labeled, or with boxes for ' +
      'detection; test-split ones too), ordered by sha256.',
  })
  images: ManifestImageDto[];
}

export class ImageRefDto {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ example: 'cat-01.jpg' }) filename: string;
}

export class ImageLabelingDto implements ImageLabeling {
  @ApiProperty({ type: String, nullable: true, example: 'cat', description: 'Label name; null when unlabeled.' })
  label: string | null;
  @ApiProperty({ type: [String], example: [], description: "A multilabel image's label names (empty otherwise)." })
  labels: string[];
  @ApiProperty({ example: false, description: "It carries the project's negative label." }) negative: boolean;
  @ApiProperty({ example: 0, description: 'How many boxes it had (detection).' }) regions: number;
  @ApiProperty({ enum: SPLITS }) split: string;
}

export class ImageChangeDto implements ImageChange {
  @ApiProperty({ format: 'uuid' }) imageId: string;
  @ApiProperty({ example: 'cat-01.jpg' }) filename: string;
  @ApiProperty({ type: ImageLabelingDto, description: "In the other iteration's dataset." }) before: ImageLabelingDto;
  @ApiProperty({ type: ImageLabelingDto, description: "In this iteration's dataset." }) after: ImageLabelingDto;
}

export class LabelNamesChangeDto {
  @ApiProperty({ type: [String], example: ['bird'], description: 'Label names only this dataset has.' })
  added: string[];
  @ApiProperty({ type: [String], example: [], description: 'Label names only the other dataset has.' })
  removed: string[];
}

/** GET …/iterations/{iterationId}/dataset/diff: from the `against` iteration's dataset to this one's. */
export class DatasetDiffDto implements ManifestDiff {
  @ApiProperty({ type: [ImageRefDto], description: 'Images only this dataset has.' }) added: ImageRefDto[];
  @ApiProperty({ type: [ImageRefDto], description: 'Images only the other dataset has.' }) removed: ImageRefDto[];
  @ApiProperty({ type: [ImageChangeDto], description: 'Images whose label or boxes changed.' })
  relabeled: ImageChangeDto[];
  @ApiProperty({
    type: [ImageChangeDto],
    description: 'Images that moved between train, validation and test and kept their labels.',
  })
  resplit: ImageChangeDto[];
  @ApiProperty({ example: 120, description: 'Images in both datasets with the same labels and split.' })
  unchanged: number;
  @ApiProperty({ type: LabelNamesChangeDto }) labels: LabelNamesChangeDto;
}
