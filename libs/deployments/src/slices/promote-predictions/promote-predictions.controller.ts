import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, IsUUID, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { BlobStore } from '../../../../blobs/src/index.js';
import {
  ApiErrors,
  type AuthenticatedUser,
  Clock,
  commandMetadata,
  Ctx,
  CurrentUser,
  DomainError,
  type RequestContext,
  Settings,
} from '../../../../core/src/index.js';
import { UuidParam } from '../../../../core/src/index.js';
import { resolveLabel, validateRegions } from '../../../../datasets/src/index.js';
import { RegionInputDto } from '../../../../datasets/src/http/region-input.dto.js';
import { ImageIntake } from '../../../../datasets/src/upload/image-intake.js';
import { decideAndAppend, EventStore } from '../../../../event-store/src/index.js';
import { ProjectAccess } from '../../../../projects/src/index.js';
import { ProjectionRunner } from '../../../../read-store/src/index.js';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { storedPredictionDecider } from '../../domain/stored-prediction.decider.js';
import { storedPredictionStream } from '../../domain/stored-prediction.events.js';
import { StoredPredictionQueries } from '../../read-models/stored-predictions/stored-prediction-queries.js';
import { PredictionKeeper } from '../store-prediction/prediction-keeper.js';
import type { StoredPredictionView } from '../../read-models/stored-predictions/stored-prediction.view.js';

export const MAX_PROMOTIONS = 100;
/** Without corrected boxes, a detection is promoted with the predicted boxes at least this probable. */
export const PREDICTED_BOX_THRESHOLD = 0.5;

export class PromotionDto {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  predictionId: string;

  @ApiPropertyOptional({ example: 'cat', description: 'Classification: the right label (name or id). Default: the top prediction.' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label?: string;

  @ApiPropertyOptional({ type: [RegionInputDto], description: `Detection: the right boxes. Default: the predicted boxes with probability ≥ ${PREDICTED_BOX_THRESHOLD}.` })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @ValidateNested({ each: true })
  @Type(() => RegionInputDto)
  regions?: RegionInputDto[];

  @ApiPropertyOptional({ enum: ['train', 'test'], default: 'train' })
  @IsOptional()
  @IsIn(['train', 'test'])
  split?: 'train' | 'test';
}

export class PromotePredictionsDto {
  @ApiProperty({ type: [PromotionDto], minItems: 1, maxItems: MAX_PROMOTIONS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PROMOTIONS)
  @ValidateNested({ each: true })
  @Type(() => PromotionDto)
  items: PromotionDto[];
}

export class PromotionResultDto {
  @ApiProperty({ format: 'uuid' }) predictionId: string;
  @ApiProperty({ enum: ['created', 'duplicate', 'rejected'], description: 'duplicate: the dataset holds these bytes already (imageId), unchanged.' })
  status: string;
  @ApiPropertyOptional({ format: 'uuid' }) imageId?: string;
  @ApiPropertyOptional({ description: 'Why the image was refused: { code, message }.' }) error?: { code: string; message: string };
}

export class PromotePredictionsResultDto {
  @ApiProperty({ type: [PromotionResultDto] }) items: PromotionResultDto[];
}

/**
 * Turns stored predictions into training data: each image is uploaded to the project's dataset (the same
 * checks, duplicate detection and events as any upload) with the corrected label or boxes, and the stored
 * prediction records the image it became (StoredPredictionPromoted), in the same correlation.
 */
@ApiTags('stored predictions')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/predictions/promote')
export class PromotePredictionsController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly stored: StoredPredictionQueries,
    private readonly blobs: BlobStore,
    private readonly intake: ImageIntake,
    private readonly events: EventStore,
    private readonly projections: ProjectionRunner,
    private readonly clock: Clock,
    private readonly settings: Settings,
    private readonly keeper: PredictionKeeper,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'promotePredictions',
    summary: 'Add stored predictions to the dataset with a corrected label or boxes',
    description:
      'Every item is checked first (404 PREDICTION_NOT_FOUND, 409 PREDICTION_ALREADY_PROMOTED, 400 UNKNOWN_LABEL, ' +
      '400 WRONG_PROJECT_TYPE, 400 REGION_OUT_OF_BOUNDS and the other box checks of the dataset): one bad item and nothing is added.',
  })
  @ApiOkResponse({ type: PromotePredictionsResultDto })
  @ApiErrors(400, 401, 404, 409)
  async promote(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: PromotePredictionsDto,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<PromotePredictionsResultDto> {
    const project = await this.projects.getOwned(projectId, user.id);
    await this.keeper.written();
    const ids = body.items.map((item) => item.predictionId);
    if (new Set(ids).size !== ids.length) {
      throw DomainError.validation('DUPLICATE_PREDICTION', 'Each stored prediction may appear once in items.');
    }
    const planned = [];
    for (const item of body.items) {
      const view = await this.stored.get(projectId, item.predictionId);
      if (view.promotedImageId) {
        throw DomainError.conflict(DeploymentErrors.PREDICTION_ALREADY_PROMOTED, `Prediction ${view.id} is in the dataset already, as image ${view.promotedImageId}.`, {
          predictionId: view.id,
          imageId: view.promotedImageId,
        });
      }
      planned.push({ view, split: item.split ?? 'train', ...this.correction(project, view, item) });
    }
    const files = await Promise.all(
      planned.map(async ({ view, labelId, regions, split }) => ({
        filename: `prediction-${view.id}`,
        bytes: await this.blobs.get(view.imageSha256),
        labelId,
        regions: regions ?? undefined,
        split,
      })),
    );
    const userContext = { ...context, userId: user.id };
    const intake = await this.intake.intake(project, files, userContext);
    const metadata = commandMetadata(userContext, this.clock.now());
    let position = -1;
    const items: PromotionResultDto[] = [];
    for (const [index, { view, labelId, regions }] of planned.entries()) {
      const result = intake[index];
      items.push({ predictionId: view.id, status: result.status, ...(result.id ? { imageId: result.id } : {}), ...(result.error ? { error: result.error } : {}) });
      if (result.status !== 'created' || !result.id) continue;
      const appended = await decideAndAppend(
        this.events,
        storedPredictionStream(view.id),
        storedPredictionDecider,
        { type: 'RecordPromotion', imageId: result.id, labelId, regions, metadata },
        metadata,
      );
      position = Math.max(position, appended.position);
    }
    await this.projections.waitFor(position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
    return { items };
  }

  /** The label or boxes to record: the corrected ones, else what the model predicted. */
  private correction(
    project: { type: string; labels: { id: string; name: string }[] },
    view: StoredPredictionView,
    item: PromotionDto,
  ): { labelId: string | null; regions: { labelId: string; x: number; y: number; width: number; height: number }[] | null } {
    if (project.type === 'classification') {
      if (item.regions) throw DomainError.validation('WRONG_PROJECT_TYPE', 'Boxes belong to detection projects: give `label`.');
      const name = item.label ?? view.predictions[0]?.label;
      if (!name) throw DomainError.validation('LABEL_REQUIRED', `Prediction ${view.id} has no label to take: give \`label\`.`);
      return { labelId: resolveLabel(project.labels, name).id, regions: null };
    }
    if (item.label) throw DomainError.validation('WRONG_PROJECT_TYPE', 'A whole-image label belongs to classification projects: give `regions`.');
    const boxes =
      item.regions ??
      view.predictions
        .filter((prediction) => prediction.box && prediction.probability >= PREDICTED_BOX_THRESHOLD)
        .map((prediction) => ({ label: prediction.label, ...prediction.box! }));
    const regions = boxes.map(({ label, x, y, width, height }) => ({ labelId: resolveLabel(project.labels, label).id, x, y, width, height }));
    if (!item.regions) return { labelId: null, regions };
    // Corrected boxes are checked here, before anything is added (a box outside the image: 400 REGION_OUT_OF_BOUNDS).
    return { labelId: null, regions: validateRegions({ id: view.projectId, type: 'detection', labelIds: project.labels.map((label) => label.id) }, regions) };
  }
}
