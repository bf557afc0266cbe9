import { Body, Controller, Get, HttpCode, Param, Post, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiErrors, type AuthenticatedUser, Ctx, CurrentUser, type RequestContext, UuidParam } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { SPLITS } from '../../domain/image.events.js';
import { MultipartFiles, ReceivedUpload } from '../../upload/multipart.interceptor.js';
import { IMAGE_QUOTA_DESCRIPTION } from '../../upload/image-quota.js';
import type { UploadedFile } from '../../upload/temporary-files.js';
import { toVideoDto, UploadVideoDto, VideoDto } from './upload-video.dto.js';
import { findVideo, UploadVideo } from './upload-video.handler.js';

@ApiTags('images')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/videos')
export class UploadVideoController {
  constructor(
    private readonly commands: CommandBus,
    private readonly access: ProjectAccess,
    private readonly readStore: ReadStore,
  ) {}

  @Post()
  @HttpCode(202)
  @UseInterceptors(MultipartFiles({ field: 'video', kind: 'video' }))
  @ApiOperation({
    operationId: 'uploadVideo',
    summary: "Upload a video: its frames become the project's images",
    description:
      'Multipart form: the video in field `video` (MP4, MOV or WebM, at most VIDEO_MAX_BYTES: 413 VIDEO_TOO_LARGE), ' +
      'optional `framesPerSecond` (default 1), `label` (every frame, classification) and `split`. The video is checked ' +
      'before anything is kept: 415 VIDEO_FORMAT_UNSUPPORTED for another container, 422 VIDEO_UNDECODABLE when it ' +
      'cannot be decoded. A background job then extracts frames at the rate (at most VIDEO_MAX_FRAMES) and takes each ' +
      'in like an uploaded image, with the video and timestamp as its `source`; frames the project already holds are ' +
      'skipped as duplicates. Follow it with GET …/videos/{videoId}. ' +
      `${IMAGE_QUOTA_DESCRIPTION} Each frame the video will give (its length at the rate, at most VIDEO_MAX_FRAMES) ` +
      'counts, checked before the video is kept.',
  })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['video'],
      properties: {
        video: { type: 'string', format: 'binary' },
        framesPerSecond: { type: 'number', minimum: 0.1, maximum: 30, default: 1 },
        label: { type: 'string', description: 'Label name or id for every frame (classification).' },
        split: { type: 'string', enum: [...SPLITS], default: 'train' },
      },
    },
  })
  @ApiAcceptedResponse({ type: VideoDto, description: 'Stored; its frames are being extracted.' })
  @ApiErrors(400, 401, 404, 413, 415, 422)
  async upload(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Body() body: UploadVideoDto,
    @ReceivedUpload() video: UploadedFile | undefined,
    @CurrentUser() user: AuthenticatedUser,
    @Ctx() context: RequestContext,
  ): Promise<VideoDto> {
    const options = { framesPerSecond: body.framesPerSecond ?? 1, label: body.label, split: body.split };
    return toVideoDto(
      await this.commands.execute(new UploadVideo(projectId, video, options, { ...context, userId: user.id })),
    );
  }

  @Get(':videoId')
  @ApiOperation({ operationId: 'getVideo', summary: 'A video and the progress of its frame extraction' })
  @ApiOkResponse({ type: VideoDto })
  @ApiErrors(400, 401, 404)
  async get(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('videoId', UuidParam('videoId')) videoId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<VideoDto> {
    await this.access.getOwned(projectId, user.id);
    return toVideoDto(await findVideo(this.readStore, projectId, videoId));
  }
}
