import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DomainError } from '../../../../core/src/index.js';
import { ProjectAccess } from '../../../../projects/src/project-access.js';
import type { LabelView } from '../../../../projects/src/read-models/projects/project.view.js';
import { AddLabel } from '../../../../projects/src/slices/add-label/add-label.handler.js';
import { DatasetErrors } from '../../domain/dataset-errors.js';
import type { Split } from '../../domain/image.events.js';
import { ImageIntake, type IncomingImage, type IntakeItem } from '../../upload/image-intake.js';
import type { ReceivedFile } from '../../upload/multipart.interceptor.js';
import { UploadLimits } from '../../upload/upload-limits.js';
import type { UserContext } from '../image-writer.js';
import { type DatasetArchive, readClassificationArchive, readCocoArchive } from './dataset-archive.js';

export interface ImportResult {
  items: IntakeItem[];
  labelsCreated: LabelView[];
  ignored: number;
}

/**
 * Imports a labelled dataset from one zip: folders per class for classification, COCO JSON plus images for
 * detection. Labels the project lacks are added to it (through the projects context) unless
 * `createLabels` is false, in which case an unknown label is 400 UNKNOWN_LABEL before anything is written.
 */
export class ImportDataset extends Command<ImportResult> {
  constructor(
    readonly projectId: string,
    readonly archive: ReceivedFile | undefined,
    readonly split: Split | undefined,
    readonly createLabels: boolean,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(ImportDataset)
export class ImportDatasetHandler implements ICommandHandler<ImportDataset> {
  constructor(
    private readonly access: ProjectAccess,
    private readonly intake: ImageIntake,
    private readonly limits: UploadLimits,
    private readonly commands: CommandBus,
  ) {}

  async execute({ projectId, archive, split, createLabels, context }: ImportDataset): Promise<ImportResult> {
    let project = await this.access.getOwned(projectId, context.userId);
    if (!archive) throw DomainError.validation(DatasetErrors.NO_FILES, 'No archive: send a zip file in the multipart field "archive".');
    if (!archive.buffer) {
      throw new DomainError('too-large', DatasetErrors.FILE_TOO_LARGE, `The archive has more than ${this.limits.IMPORT_MAX_ARCHIVE_BYTES} bytes.`);
    }
    const limits = {
      maxFileBytes: this.limits.UPLOAD_MAX_FILE_BYTES,
      maxFiles: this.limits.IMPORT_MAX_FILES,
      maxTotalBytes: Math.max(this.limits.IMPORT_MAX_ARCHIVE_BYTES * 2, 64 * 1024 * 1024),
    };
    const dataset: DatasetArchive =
      project.type === 'detection' ? readCocoArchive(archive.buffer, limits) : readClassificationArchive(archive.buffer, limits);
    if (!dataset.images.length) {
      throw DomainError.validation(DatasetErrors.NO_FILES, 'The archive holds no images.');
    }

    const find = (labels: readonly LabelView[], name: string) => labels.find((label) => label.name.toLowerCase() === name.toLowerCase());
    const missing = dataset.labelNames.filter((name) => !find(project.labels, name));
    if (missing.length && !createLabels) {
      throw DomainError.validation(DatasetErrors.UNKNOWN_LABEL, `The project has no label ${missing.map((name) => `"${name}"`).join(', ')}.`, {
        missing,
      });
    }
    const labelsCreated: LabelView[] = [];
    for (const name of missing) {
      const written = await this.commands.execute(new AddLabel(projectId, name, undefined, context));
      labelsCreated.push({ id: written.label.id, name: written.label.name });
    }
    if (labelsCreated.length) project = await this.access.getOwned(projectId, context.userId);
    const labelId = (name: string) => find(project.labels, name)!.id;

    const incoming: IncomingImage[] = [];
    const missingItems = new Map<number, IntakeItem>();
    dataset.images.forEach((image, index) => {
      if (image.missing) {
        missingItems.set(index, {
          filename: image.path,
          status: 'rejected',
          error: { code: 'MISSING_FILE', message: 'The annotations name this image but the archive does not hold it.' },
        });
        return;
      }
      incoming.push({
        filename: image.path,
        bytes: image.bytes,
        labelId: image.labelName ? labelId(image.labelName) : null,
        regions: image.regions?.map(({ labelName, x, y, width, height }) => ({ labelId: labelId(labelName), x, y, width, height })),
        split: image.split ?? split ?? 'train',
      });
    });
    const taken = await this.intake.intake(project, incoming, context);
    const items: IntakeItem[] = [];
    let next = 0;
    for (let index = 0; index < dataset.images.length; index += 1) items.push(missingItems.get(index) ?? taken[next++]);
    return { items, labelsCreated, ignored: dataset.ignored };
  }
}
