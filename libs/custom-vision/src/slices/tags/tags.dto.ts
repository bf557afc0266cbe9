import { AZURE_TAG_TYPES, CvEnum, CvReadOnly, CvString, CvUuid } from '../../http/input.js';

/** GetTags' and GetTag's query. */
export class CvTagsQueryDto {
  @CvUuid({ description: 'The tags an iteration learned, instead of the project’s current tags.' })
  iterationId?: string;
}

/** CreateTag's query. */
export class CvCreateTagQueryDto {
  @CvString({ required: true, description: 'The tag name.' })
  name: string;

  @CvString({ description: 'Accepted and not kept: tags have no description here.' })
  description?: string;

  @CvEnum(AZURE_TAG_TYPES, {
    accepted: ['Regular', 'Negative'],
    default: 'Regular',
    description:
      'Negative: images of it show none of the other tags; one per project (BadRequestMultipleNegativeTag), none ' +
      'in object detection (BadRequestDetectionTrainingNotAllowNegativeTag). GeneralProduct is refused (BadRequestTagType).',
  })
  type?: string;
}

/** UpdateTag's body: Azure's Tag model; the name and the type change (Azure requires description and type too). */
export class CvUpdateTagDto {
  @CvReadOnly({ type: String, format: 'uuid' })
  id?: string;

  @CvString({ description: 'The new name (left as it is when absent).' })
  name?: string;

  @CvString({ nullable: true, description: 'Accepted and not kept: tags have no description here.' })
  description?: string | null;

  @CvEnum(AZURE_TAG_TYPES, {
    accepted: ['Regular', 'Negative'],
    description:
      'Regular or Negative (left as it is when absent): a tag becomes Negative only while no image carries it with ' +
      'another tag (BadRequestNegativeAndRegularTagOnSameImage). GeneralProduct is refused (BadRequestTagType).',
  })
  type?: string;

  @CvReadOnly({ type: 'integer', format: 'int32' })
  imageCount?: number;
}
