import { Controller, Get, Param, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { BlobStore } from '../../../../blobs/src/index.js';
import {
  ApiErrors,
  type AuthenticatedUser,
  CurrentUser,
  DomainError,
  UuidParam,
} from '../../../../core/src/index.js';
import { ProjectAccess } from '../../../../projects/src/index.js';
import { type DatasetManifest, parseManifest } from '../../manifest/dataset-manifest.js';
import { diffManifests, type ManifestDiff } from '../../manifest/manifest-diff.js';
import { IterationQueries } from '../../read-models/iterations/iteration-queries.js';

export class DatasetDiffQueryDto {
  @ApiProperty({ format: 'uuid', description: 'The iteration to compare with (the earlier one, usually).' })
  @IsUUID()
  against: string;
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
  @ApiOperation({ summary: 'The frozen dataset the iteration trained on: images, labels, regions and splits' })
  @ApiOkResponse({ description: '{v, projectId, task, labels: [{id, name}], images: [{id, sha256, filename, width, height, split, labelId, regions}]}' })
  @ApiErrors(400, 401, 404)
  async dataset(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<DatasetManifest> {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    return parseManifest(await this.blobs.get(iteration.manifestSha256));
  }

  @Get('dataset/diff')
  @ApiOperation({
    summary: "What changed in the training data between another iteration's dataset and this one's",
    description: 'Images added, removed, relabeled (label or boxes) and moved between splits; labels added and removed.',
  })
  @ApiOkResponse({ description: '{added, removed, relabeled, resplit, unchanged, labels: {added, removed}}' })
  @ApiErrors(400, 401, 404)
  async diff(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @Query() query: DatasetDiffQueryDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<ManifestDiff> {
    await this.projects.getOwned(projectId, user.id);
    const [from, to] = await Promise.all(
      [query.against, iterationId].map(async (id) =>
        parseManifest(await this.blobs.get((await this.iterations.get(projectId, id)).manifestSha256)),
      ),
    );
    return diffManifests(from, to);
  }

  @Get('model')
  @ApiOperation({ summary: 'The trained model: a zip of model.json, weights.bin and metadata.json (TensorFlow.js layers format)' })
  @ApiProduces('application/zip')
  @ApiOkResponse({ description: 'The model archive.' })
  @ApiErrors(400, 401, 404, 409)
  async model(
    @Param('projectId', UuidParam('projectId')) projectId: string,
    @Param('iterationId', UuidParam('iterationId')) iterationId: string,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<StreamableFile> {
    await this.projects.getOwned(projectId, user.id);
    const iteration = await this.iterations.get(projectId, iterationId);
    if (!iteration.model) {
      throw DomainError.conflict('ITERATION_NOT_COMPLETED', `The iteration is ${iteration.status}: it has no model yet.`);
    }
    return new StreamableFile(await this.blobs.get(iteration.model.sha256), {
      type: 'application/zip',
      disposition: `attachment; filename="iteration-${iteration.number}-model.zip"`,
      length: iteration.model.bytes,
    });
  }
}
