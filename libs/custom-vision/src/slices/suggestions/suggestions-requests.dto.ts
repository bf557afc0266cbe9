import { CvEnum, CvInteger, CvNumber, CvString, CvUuid, CvUuidList } from '../../http/input.js';
import { SORT_BY } from './suggestions.dto.js';

/** Azure takes at most 64 images per SuggestTagsAndRegions call. */
export const MAX_SUGGEST_IMAGES = 64;

/** QuerySuggestedImages' and QuerySuggestedImageCount's query. */
export class CvSuggestionsQueryDto {
  @CvUuid({ required: true, description: 'The iteration whose suggestions to read.' })
  iterationId: string;
}

/** SuggestTagsAndRegions' query. */
export class CvSuggestTagsAndRegionsQueryDto extends CvSuggestionsQueryDto {
  @CvUuidList({
    required: true,
    max: MAX_SUGGEST_IMAGES,
    description: 'Untagged images (GetUntaggedImages) to suggest for: 1 to 64.',
  })
  imageIds: string[];
}

/** QuerySuggestedImageCount's body (Azure's TagFilter). */
export class CvTagFilterDto {
  @CvUuidList({ description: 'Tags to count (default: every tag of the project).' })
  tagIds?: string[];

  @CvNumber({ min: 0, max: 1, default: 0, description: 'Only suggestions at least this probable.' })
  threshold?: number;
}

/** QuerySuggestedImages' body (Azure's SuggestedTagAndRegionQueryToken); the answer's token asks for the next page. */
export class CvSuggestedTagAndRegionQueryTokenInputDto extends CvTagFilterDto {
  @CvString({ nullable: true, description: 'Accepted and sent back.' })
  session?: string | null;

  @CvString({ nullable: true, description: 'The continuation of the previous answer (null: the first page).' })
  continuation?: string | null;

  @CvInteger({ min: 1, max: 256, default: 50, description: 'Images per page.' })
  maxCount?: number;

  @CvEnum(SORT_BY, { default: 'UncertaintyDescending', description: 'The most uncertain first by default.' })
  sortBy?: (typeof SORT_BY)[number];
}
