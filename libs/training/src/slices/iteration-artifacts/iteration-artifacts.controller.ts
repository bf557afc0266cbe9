import { Controller, Get, Param, Query, StreamableFile } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { IsIn, IsOptional, IsUUID } from 'class-validator';
import { BlobStore } from '@diyml/blobs';
import { ApiErrors, type AuthenticatedUser, CurrentUser, DomainError, UuidParam } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import { parseManifest } from '../../manifest/dataset-manifest.js';
import { diffManifests } from '../../manifest/manifest-diff.js';
import { exportOnnx } from '../../model/onnx-export.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';
import { DatasetDiffDto, DatasetManifestDto } from './iteration-artifacts.dto.js';

export class DatasetDiffQueryDto {
  @ApiProperty({ format: 'uuid', description: 'The iteration to compare with (the earlier one, usually).' })
  @IsUUID()
  against: string;
}

const MODEL_FORMATS = ['tfjs', 'onnx'] as const;

export class ModelFormatQueryDto {
  @ApiPropertyOptional({
    enum: MODEL_FORMATS,
    default: 'tfjs',
    description:
      "'tfjs': a zip of model.json, weights.bin and metadata.json (TensorFlow.js layers format). 'onnx': one ONNX file (opset 13).",
  })
  @IsOptional()
  @IsIn(MODEL_FORMATS, { message: `format must be one of ${MODEL_FORMATS.join(', ')}` })
  format?: (typeof MODEL_FORMATS)[number];
}

@ApiTags('training')
@ApiBearerAuth()
@Controller('v1/projects/:projectId/iterations/:iterationId')
export class IterationArtifactsController {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly iterations: IterationQueries,
    private readonly blobs: BlobStore,
  ) {}

  @Get('dataset')
  @ApiOperation({
    operationId: 'getIterationDataset',
    summary: 'The frozen dataset the iteration trained on: images, labels, regions and splits',
  })
  @ApiOkResponse({ type: DatasetManifestDto })
  @ApiErrors(400, 401, 404)
  async dataset(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<DatasetManifestDto> {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    return parseManifest(await this.blobs.get(iteration.manifestSha256));
  }

  @Get('dataset/diff')
  @ApiOperation({
    operationId: 'getIterationDatasetDiff',
    summary: "What changed in the training data between another iteration's dataset and this one's",
    description:
      'Images added, removed, relabeled (label or boxes) and moved between splits; labels added and removed.',
  })
  @ApiOkResponse({ type: DatasetDiffDto })
  @ApiErrors(400, 401, 404)
  async diff(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: DatasetDiffQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<DatasetDiffDto> {
    await this.projects.getOwned(projectId, user.id);
    const [from, to] = await Promise.all(
      [query.against, iterationId].map(async (id) =>
        parseManifest(await this.blobs.get((await this.iterations.get(projectId, id)).manifestSha256)),
      ),
    );
    return diffManifests(from, to);
  }

  @Get('model')
  @ApiOperation({
    operationId: 'downloadIterationModel',
    summary: 'The trained model, as a TensorFlow.js zip (default) or as ONNX',
    description:
      'format=tfjs: a zip of model.json, weights.bin and metadata.json (TensorFlow.js layers format). ' +
      'format=onnx: one ONNX file (opset 13) computing the same outputs, for onnxruntime and other ONNX runtimes. Input `image`: ' +
      'float32 [batch, height, width, channels], channels last, pixels mapped from 0–255 to the model input range; output: ' +
      "softmax probabilities in label order (classification), one sigmoid probability per label (multilabel), the model's own " +
      "scores (a model imported from Keras or Teachable Machine), or the raw detection head. The file's doc_string says how to " +
      'prepare the input (orientation, colours, resampling, letterbox) and decode the output; metadata_props hold `labels` (the ' +
      "iteration's, which name its predictions) and `diyml` (task, architecture, input size and range). " +
      '422 MODEL_NOT_EXPORTABLE names a layer ONNX export does not translate.',
  })
  @ApiProduces('application/zip', 'application/octet-stream')
  @ApiOkResponse({
    description: 'The model archive (application/zip) or ONNX file (application/octet-stream), as an attachment.',
    schema: { type: 'string', format: 'binary' },
  })
  @ApiErrors(400, 401, 404, 409, 422)
  async model(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: ModelFormatQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<StreamableFile> {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    if (!iteration.model) {
      throw DomainError.conflict(
        'ITERATION_NOT_COMPLETED',
        `The iteration is ${iteration.status}: it has no model yet.`,
      );
    }
    const zip = await this.blobs.get(iteration.model.sha256);
    if (query.format === 'onnx') {
      const onnx = await exportOnnx(
        zip,
        iteration.labels.map((label) => label.name),
      );
      return new StreamableFile(onnx, {
        type: 'application/octet-stream',
        disposition: `attachment; filename="iteration-${iteration.number}-model.onnx"`,
        length: onnx.byteLength,
      });
    }
    return new StreamableFile(zip, {
      type: 'application/zip',
      disposition: `attachment; filename="iteration-${iteration.number}-model.zip"`,
      length: iteration.model.bytes,
    });
  }
}
