import { Controller, Get, HttpCode, Param, Post, Query, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
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
import { IsNumber, IsOptional, Max, Min } from 'class-validator';
import { BlobStore } from '@diyml/blobs';
import { ApiErrors, Ctx, type RequestContext, UuidParam } from '@diyml/core';
import { MultipartFiles, ReceivedUpload, type UploadedFile } from '@diyml/datasets';
import { Public } from '@diyml/identity';
import { ReadStore } from '@diyml/read-store';
import { DeploymentKeyGuard, type PredictRequest } from '../predict/deployment-key.guard.js';
import { PredictionDto, PredictQueryDto } from '../predict/predict.controller.js';
import { PredictThrottlerGuard } from '../predict/predict-throttler.guard.js';
import { findVideoPrediction, PredictVideo } from './predict-video.handler.js';
import type { VideoPredictionResults } from './video-prediction.job.js';
import type { VideoPredictionView } from './video-predictions.projection.js';

export class PredictVideoQueryDto extends PredictQueryDto {
  @ApiPropertyOptional({ minimum: 0.1, maximum: 30, default: 1, description: 'Frames predicted per second of video.' })
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Min(0.1)
  @Max(30)
  framesPerSecond?: number;
}

export class FramePredictionsDto {
  @ApiProperty({ example: 1500, description: 'Where in the video the frame is, in milliseconds from its start.' })
  timestampMs: number;
  @ApiProperty({ type: [PredictionDto], description: 'Most probable first.' }) predictions: PredictionDto[];
}

export class VideoPredictionProgressDto {
  @ApiProperty() framesDone: number;
  @ApiProperty({ description: 'Frames to predict: the rate over the duration, at most VIDEO_MAX_FRAMES.' })
  frameCount: number;
}

export class VideoPredictionErrorDto {
  @ApiProperty({ description: 'Stable code of the failure.', example: 'VIDEO_PREDICTION_FAILED' }) code: string;
  @ApiProperty({ description: 'What went wrong, for a person.' }) reason: string;
}

export class VideoPredictionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'uuid' }) deploymentId: string;
  @ApiProperty({ format: 'uuid' }) iterationId: string;
  @ApiProperty() filename: string;
  @ApiProperty({ enum: ['mp4', 'webm'] }) container: string;
  @ApiProperty() durationMs: number;
  @ApiProperty() framesPerSecond: number;
  @ApiProperty({ enum: ['running', 'completed', 'failed'] }) status: string;
  @ApiProperty({ type: VideoPredictionProgressDto }) progress: VideoPredictionProgressDto;
  @ApiPropertyOptional({
    type: [FramePredictionsDto],
    description: 'Once completed: the predictions of every frame, in time order.',
  })
  frames?: FramePredictionsDto[];
  @ApiProperty({ nullable: true, type: VideoPredictionErrorDto, description: 'Why it failed (status `failed`).' })
  error: VideoPredictionErrorDto | null;
  @ApiProperty({ format: 'date-time' }) requestedAt: string;
  @ApiProperty({ format: 'date-time', nullable: true, type: String }) completedAt: string | null;
}

@ApiTags('predictions')
@ApiSecurity('deployment-key')
@Controller('v1/predict/:deploymentId/videos')
export class PredictVideoController {
  constructor(
    private readonly commands: CommandBus,
    private readonly readStore: ReadStore,
    private readonly blobs: BlobStore,
  ) {}

  @Public()
  @Post()
  @HttpCode(202)
  @UseGuards(DeploymentKeyGuard, PredictThrottlerGuard)
  @UseInterceptors(MultipartFiles({ field: 'video', kind: 'video' }))
  @ApiOperation({
    operationId: 'predictVideo',
    summary: 'Predict every frame of a video with a deployed model (a background job)',
    description:
      'Authenticate with the deployment key in `X-Api-Key`. Send the video (MP4, MOV or WebM, at most VIDEO_MAX_BYTES: ' +
      '413 VIDEO_TOO_LARGE) in the multipart field `video`; `framesPerSecond` (default 1), `threshold` and `maxResults` ' +
      'as for images. The video is checked before anything is kept (415 VIDEO_FORMAT_UNSUPPORTED, 422 VIDEO_UNDECODABLE). ' +
      'Poll GET …/videos/{videoPredictionId} for progress and, once completed, the predictions of every frame.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: { type: 'object', required: ['video'], properties: { video: { type: 'string', format: 'binary' } } },
  })
  @ApiAcceptedResponse({ type: VideoPredictionDto })
  @ApiErrors(400, 401, 404, 413, 415, 422, 429)
  async predict(
    @Param('deploymentId', UuidParam('deploymentId')) _deploymentId: string,
    @Query() query: PredictVideoQueryDto,
    @ReceivedUpload() video: UploadedFile | undefined,
    @Req() request: PredictRequest,
    @Ctx() context: RequestContext,
  ): Promise<VideoPredictionDto> {
    const options = {
      framesPerSecond: query.framesPerSecond ?? 1,
      threshold: query.threshold,
      maxResults: query.maxResults,
    };
    return this.toDto(await this.commands.execute(new PredictVideo(request.deployment!, video, options, context)));
  }

  @Public()
  @Get(':videoPredictionId')
  @UseGuards(DeploymentKeyGuard)
  @ApiOperation({
    operationId: 'getVideoPrediction',
    summary: 'A video prediction: its progress, and once completed the predictions of every frame',
  })
  @ApiOkResponse({ type: VideoPredictionDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('deploymentId', UuidParam('deploymentId')) deploymentId: string,
    @Param('videoPredictionId', UuidParam('videoPredictionId')) videoPredictionId: string,
  ): Promise<VideoPredictionDto> {
    return this.toDto(await findVideoPrediction(this.readStore, deploymentId, videoPredictionId));
  }

  private async toDto(view: VideoPredictionView): Promise<VideoPredictionDto> {
    const { resultsSha256, projectId: _projectId, revision: _revision, ...rest } = view;
    if (!resultsSha256) return rest;
    const results = JSON.parse(new TextDecoder().decode(await this.blobs.get(resultsSha256))) as VideoPredictionResults;
    return { ...rest, frames: results.frames };
  }
}
