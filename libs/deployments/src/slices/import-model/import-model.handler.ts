import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobStore } from '@diyml/blobs';
import { archiveLimitsOf, DomainError, type RequestContext, Settings } from '@diyml/core';
import { temporaryUploadDirectory, type UploadedFile } from '@diyml/datasets';
import { ProjectAccess } from '@diyml/projects';
import { IterationQueuer, type IterationView } from '@diyml/training';
import { DeploymentSettings } from '../../deployment-settings.js';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { convertKerasUpload, inspectModelArchive, type KerasImportFields, mapLabels } from './model-import.js';

export class ImportModel extends Command<IterationView> {
  constructor(
    readonly projectId: string,
    /** The uploaded file, in a temporary file the request removes when it is over. */
    readonly file: UploadedFile | undefined,
    readonly context: RequestContext & { userId: string },
    readonly keras: KerasImportFields = {},
  ) {
    super();
  }
}

/**
 * Converts a Keras file (.h5 or .keras) into a model archive first. Checks an uploaded model archive (unpacked within the archive limits, weights as declared and finite, it
 * loads and predicts on a worker thread, it is of the project's task and predicts labels the project has), stores it as a blob, and records it as a new completed iteration (ModelImported).
 */
@CommandHandler(ImportModel)
export class ImportModelHandler implements ICommandHandler<ImportModel> {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly blobs: BlobStore,
    private readonly queuer: IterationQueuer,
    private readonly settings: Settings,
    private readonly deploymentSettings: DeploymentSettings,
  ) {}

  async execute(command: ImportModel): Promise<IterationView> {
    // A Keras file's unpacked weights and its converted archive wait here, on disk rather than in memory.
    const uploads = temporaryUploadDirectory(this.settings);
    await mkdir(uploads, { recursive: true });
    const workDirectory = await mkdtemp(join(uploads, 'model-'));
    try {
      return await this.import(command, workDirectory);
    } finally {
      await rm(workDirectory, { recursive: true, force: true });
    }
  }

  private async import(
    { projectId, file, context, keras }: ImportModel,
    workDirectory: string,
  ): Promise<IterationView> {
    const project = await this.projects.getOwned(projectId, context.userId);
    if (!file)
      throw DomainError.validation(
        DeploymentErrors.MODEL_REQUIRED,
        'Send the model archive (zip) in the multipart field "model".',
      );
    if (file.overLimit) {
      throw new DomainError(
        'too-large',
        'FILE_TOO_LARGE',
        `The model archive ${file.filename} is over the size limit.`,
      );
    }
    const limits = {
      archive: archiveLimitsOf(this.settings),
      maxInputPixels: this.deploymentSettings.MODEL_MAX_INPUT_PIXELS,
    };
    const converted = await convertKerasUpload(file.path, keras, limits, workDirectory);
    const zipPath = converted?.zipPath ?? file.path;
    const model = await inspectModelArchive(zipPath, limits);
    if (model.task !== project.type) {
      throw DomainError.validation(
        DeploymentErrors.MODEL_TASK_MISMATCH,
        `The model is a ${model.task} model; this is a ${project.type} project.`,
      );
    }
    const labels = mapLabels(model.labels, project.labels);
    const stored = await this.blobs.putStream(createReadStream(zipPath));
    return this.queuer.importModel(projectId, context, {
      task: model.task,
      labels,
      architecture: model.architecture,
      format: converted?.format ?? model.format,
      modelSha256: stored.sha256,
      modelBytes: stored.bytes,
    });
  }
}
