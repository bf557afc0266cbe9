import { Controller, HttpCode, Param, Post, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import {
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiSecurity,
  ApiTags,
} from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { ApiErrors, requestContextOf, UuidParam } from '@diyml/core';
import { Public } from '@diyml/identity';
import { DeploymentKeyGuard, type PredictRequest } from './deployment-key.guard.js';
import { PredictThrottlerGuard } from './predict-throttler.guard.js';
import { PredictionImageInterceptor } from './prediction-image.interceptor.js';
import { PredictionKeeper } from '../store-prediction/prediction-keeper.js';
import { PredictionService } from './prediction.service.js';

export class PredictQueryDto {
  @ApiPropertyOptional({
    minimum: 0,
    maximum: 1,
    description: 'Leave out predictions below this probability. Default 0 (classification), 0.25 (detection).',
  })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0)
  @Max(1)
  threshold?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 1000,
    description: 'At most this many predictions. Default: every label (classification), 100 boxes (detection).',
  })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  maxResults?: number;
}

export class BoxDto {
  @ApiProperty({ description: 'Left edge, as a fraction of the image width.' }) x: number;
  @ApiProperty({ description: 'Top edge, as a fraction of the image height.' }) y: number;
  @ApiProperty() width: number;
  @ApiProperty() height: number;
}

export class PredictionDto {
  @ApiProperty({ example: 'red' }) label: string;
  @ApiProperty({ example: 0.97 }) probability: number;
  @ApiPropertyOptional({ type: BoxDto, description: 'Detection: where the object is.' }) box?: BoxDto;
}

export class PredictionResultDto {
  @ApiProperty({ format: 'uuid' }) deploymentId: string;
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty({ type: [PredictionDto], description: 'Most probable first.' }) predictions: PredictionDto[];
  @ApiPropertyOptional({
    format: 'uuid',
    description: "The stored prediction's id, when the deployment's prediction store is on.",
  })
  storedPredictionId?: string;
}

@ApiTags('predictions')
@ApiSecurity('deployment-key')
@Controller('v1/predict')
export class PredictController {
  constructor(
    private readonly predictions: PredictionService,
    private readonly keeper: PredictionKeeper,
  ) {}

  @Public()
  @Post(':deploymentId')
  @HttpCode(200)
  @UseGuards(DeploymentKeyGuard, PredictThrottlerGuard)
  @UseInterceptors(PredictionImageInterceptor)
  @ApiOperation({
    operationId: 'predict',
    summary: 'Predict with a deployed model',
    description:
      'Authenticate with the deployment key in `X-Api-Key` (or `Prediction-Key`). Send the image as the raw body ' +
      'with an image/* Content-Type, or as the multipart field `image`. Limits: PREDICT_MAX_IMAGE_BYTES (413), ' +
      'PREDICT_MAX_PIXELS (413), PREDICT_RATE_LIMIT per PREDICT_RATE_WINDOW_SECONDS per deployment (429). Formats: JPEG, ' +
      "PNG, WebP, AVIF, TIFF, GIF, HEIC (an iPhone's photos, converted to JPEG); a picture in another (BMP, SVG) is " +
      '415 UNSUPPORTED_IMAGE_FORMAT, ' +
      'whose message says how to convert it. When the ' +
      "deployment's prediction store is on, the image and the answer are on the disk (a local journal) before the " +
      'answer is sent, and in the log just after (`storedPredictionId`: the id it is stored under); 503 ' +
      'PREDICTION_NOT_STORED when the journal cannot be written.',
  })
  @ApiConsumes('image/png', 'image/jpeg', 'image/webp', 'multipart/form-data')
  @ApiBody({
    schema: {
      oneOf: [
        { type: 'string', format: 'binary', description: 'The image bytes.' },
        { type: 'object', required: ['image'], properties: { image: { type: 'string', format: 'binary' } } },
      ],
    },
  })
  @ApiOkResponse({ type: PredictionResultDto })
  @ApiErrors(400, 401, 404, 413, 415, 429, 503)
  async predict(
    @Param('deploymentId', UuidParam('deploymentId')) _deploymentId: string,
    @Query() query: PredictQueryDto,
    @Req() request: PredictRequest,
  ): Promise<PredictionResultDto> {
    const deployment = request.deployment!;
    // Converted once (a HEIC photo), so the prediction store keeps the picture predicted on.
    const image = await this.predictions.takenImage(request.predictionImage!);
    const predictions = await this.predictions.predict(deployment.modelSha256, deployment.labels, image, query);
    const result: PredictionResultDto = {
      deploymentId: deployment.id,
      iterationId: deployment.iterationId,
      predictions,
    };
    if (this.keeper.keeps(deployment)) {
      result.storedPredictionId = await this.keeper.keep(deployment, image, predictions, {
        userId: null,
        correlationId: requestContextOf(request).correlationId,
      });
    }
    return result;
  }
}
