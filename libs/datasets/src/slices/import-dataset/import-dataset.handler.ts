import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { archiveLimitsOf, DomainError, Settings } from '@diyml/core';
import { ProjectAccess } from '@diyml/projects';
import type { LabelView, ProjectView } from '@diyml/projects';
import { labelName, labelNameKey } from '@diyml/projects';
import { AddLabel } from '@diyml/projects';
import { DatasetErrors } from '../../domain/dataset-errors.js';
import type { Split } from '../../domain/image.events.js';
import type { InspectedImage } from '../../images/image-inspection.js';
import { kindOfImageRefusal } from '../../images/image-formats.js';
import { boxShownUpright, isStoredSideways } from '../../images/image-orientation.js';
import { ImageIntake, type IncomingImage, type IntakeItem } from '../../upload/image-intake.js';
import { temporaryUploadDirectory, type UploadedFile } from '../../upload/temporary-files.js';
import { UploadLimits } from '../../upload/upload-limits.js';
import type { UserContext } from '../image-writer.js';
import {
  type AnnotationIssue,
  type ArchiveImage,
  type DatasetArchive,
  readClassificationArchive,
  readMultilabelArchive,
  readCocoArchive,
} from './dataset-archive.js';

export type ImportItem = IntakeItem & { annotationIssues?: AnnotationIssue[] };

export interface ImportResult {
  items: ImportItem[];
  labelsCreated: LabelView[];
  ignored: number;
  unmatchedAnnotations: AnnotationIssue[];
}

/**
 * Imports a labeled dataset from one zip: folders per class for classification, COCO JSON plus images for
 * detection. Every image is checked first; when none can be taken the import is refused (400) and changes
 * nothing. Labels the project lacks are then added to it (through the projects context) unless
 * `createLabels` is false, in which case an unknown label is 400 UNKNOWN_LABEL before anything is written.
 * Annotations dropped or changed on the way in are reported with their image (or as unmatched).
 */
export class ImportDataset extends Command<ImportResult> {
  constructor(
    readonly projectId: string,
    /** The zip, in a temporary file the request removes when it is over. */
    readonly archive: UploadedFile | undefined,
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
    private readonly settings: Settings,
    private readonly commands: CommandBus,
  ) {}

  async execute(command: ImportDataset): Promise<ImportResult> {
    // The images are unpacked to files of their own, read a few at a time while they are checked and stored.
    const uploads = temporaryUploadDirectory(this.settings);
    await mkdir(uploads, { recursive: true });
    const imagesDirectory = await mkdtemp(join(uploads, 'import-'));
    try {
      return await this.import(command, imagesDirectory);
    } finally {
      await rm(imagesDirectory, { recursive: true, force: true });
    }
  }

  private async import(
    { projectId, archive, split, createLabels, context }: ImportDataset,
    imagesDirectory: string,
  ): Promise<ImportResult> {
    const project = await this.access.getOwned(projectId, context.userId);
    if (!archive)
      throw DomainError.validation(
        DatasetErrors.NO_FILES,
        'No archive: send a zip file in the multipart field "archive".',
      );
    if (archive.overLimit) {
      throw new DomainError(
        'too-large',
        DatasetErrors.FILE_TOO_LARGE,
        `The archive has more than ${this.limits.IMPORT_MAX_ARCHIVE_BYTES} bytes.`,
      );
    }
    const limits = {
      maxFileBytes: this.limits.UPLOAD_MAX_FILE_BYTES,
      maxFiles: this.limits.IMPORT_MAX_FILES,
      archive: archiveLimitsOf(this.settings),
    };
    const readers = {
      classification: readClassificationArchive,
      multilabel: readMultilabelArchive,
      detection: readCocoArchive,
    } satisfies Record<ProjectView['type'], unknown>;
    const dataset: DatasetArchive = await readers[project.type](archive.path, limits, imagesDirectory);
    if (!dataset.images.length) {
      throw DomainError.validation(DatasetErrors.NO_FILES, 'The archive holds no images.');
    }

    const missing = dataset.labelNames.filter((name) => !labelNamed(project.labels, name));
    // Every new label must be valid before the first is created.
    for (const name of missing) labelName(name);
    if (missing.length && !createLabels) {
      throw DomainError.validation(
        DatasetErrors.UNKNOWN_LABEL,
        `The project has no label ${missing.map((name) => `"${name}"`).join(', ')}.`,
        {
          missing,
        },
      );
    }

    const present = dataset.images.filter((image) => !image.missing);
    // Before any image is decoded or label created: a refused import changes nothing.
    return this.intake.withRoom({ projectId, ownerId: project.ownerId }, present.length, () =>
      this.takeIn(project, dataset, present, missing, { split, context }),
    );
  }

  /** Checks every image, adds the missing labels when some image can be taken, then takes the images in. */
  private async takeIn(
    project: ProjectView,
    dataset: DatasetArchive,
    present: ArchiveImage[],
    missing: string[],
    { split, context }: Pick<ImportDataset, 'split' | 'context'>,
  ): Promise<ImportResult> {
    const projectId = project.id;
    const bytesOf = (image: ArchiveImage) => (image.file === null ? null : { file: image.file });
    const unlabeled = present.map((image): IncomingImage => ({
      filename: image.path,
      bytes: bytesOf(image),
      labelId: null,
      split: 'train',
    }));
    const inspections = await this.intake.inspect(unlabeled);
    const rejectedItem = (image: ArchiveImage, item: IntakeItem): ImportItem => withIssues(item, image);
    if (inspections.every((inspection) => 'rejection' in inspection)) {
      const items = dataset.images.map((image) =>
        rejectedItem(
          image,
          image.missing
            ? missingItem(image)
            : (inspections[present.indexOf(image)] as { rejection: IntakeItem }).rejection,
        ),
      );
      throw refusal(items);
    }

    present.forEach((image, index) => {
      const inspection = inspections[index];
      if ('image' in inspection) turnBoxesUpright(image, inspection.image);
    });

    const labelsCreated: LabelView[] = [];
    for (const name of missing) {
      const written = await this.commands.execute(new AddLabel(projectId, name, undefined, context));
      labelsCreated.push({ id: written.label.id, name: written.label.name });
    }
    const labeled = labelsCreated.length ? await this.access.getOwned(projectId, context.userId) : project;
    const labelId = (name: string) => labelNamed(labeled.labels, name)!.id;

    const incoming = present.map((image): IncomingImage => ({
      filename: image.path,
      bytes: bytesOf(image),
      labelId: image.labelName ? labelId(image.labelName) : null,
      ...(image.labelNames ? { labelIds: image.labelNames.map(labelId) } : {}),
      regions: image.regions?.map(({ labelName, x, y, width, height }) => ({
        labelId: labelId(labelName),
        x,
        y,
        width,
        height,
      })),
      split: image.split ?? split ?? 'train',
    }));
    const taken = await this.intake.intake(labeled, incoming, context, inspections);
    const items = dataset.images.map((image) =>
      withIssues(image.missing ? missingItem(image) : taken[present.indexOf(image)], image),
    );
    return { items, labelsCreated, ignored: dataset.ignored, unmatchedAnnotations: dataset.unmatchedAnnotations };
  }
}

/**
 * Boxes drawn on a phone photo's stored, sideways pixels (by a tool that ignores the EXIF orientation, which the
 * annotation file shows by giving the stored size) turned onto the upright photo, the frame of every box in the api.
 * A photo stored upside down or mirrored keeps its size, so its frame cannot be told: its boxes are taken as upright.
 */
function turnBoxesUpright(image: ArchiveImage, inspected: InspectedImage): void {
  const { annotatedSize, regions } = image;
  const { width, height, orientation } = inspected;
  if (!annotatedSize || !regions?.length || !isStoredSideways(orientation) || width === height) return;
  if (annotatedSize.width !== height || annotatedSize.height !== width) return;
  image.regions = regions.map((region) => boxShownUpright(region, orientation));
  image.annotationIssues = [
    ...(image.annotationIssues ?? []),
    {
      file: annotatedSize.file,
      annotation: -1,
      code: 'BOXES_TURNED_UPRIGHT',
      action: 'changed',
      message:
        `${annotatedSize.file} gives this photo as ${height}×${width}, its pixels as stored; its EXIF orientation ` +
        `(${orientation}) shows it ${width}×${height}. Its ${regions.length} box(es) were turned with the photo.`,
    },
  ];
}

/** The project's label of this name, matched as the project matches them: whatever the case or Unicode form. */
function labelNamed(labels: readonly LabelView[], name: string): LabelView | undefined {
  const key = labelNameKey(name);
  return labels.find((label) => labelNameKey(label.name) === key);
}

function missingItem(image: ArchiveImage): IntakeItem {
  const error = image.sameName
    ? {
        code: 'AMBIGUOUS_FILE',
        message:
          `The annotations name this image by a name ${image.sameName.length} files of the archive have ` +
          `(${image.sameName.slice(0, 3).join(', ')}${image.sameName.length > 3 ? ', …' : ''}): give its folders in ` +
          'the name, as the archive holds it.',
      }
    : { code: 'MISSING_FILE', message: 'The annotations name this image but the archive does not hold it.' };
  return { filename: image.path, status: 'rejected', error };
}

function withIssues(item: IntakeItem, image: ArchiveImage): ImportItem {
  return image.annotationIssues?.length ? { ...item, annotationIssues: image.annotationIssues } : item;
}

/** The 400 of an import none of whose images can be taken, as an upload of only rejected files answers. */
function refusal(items: ImportItem[]): DomainError {
  const codes = new Set(items.map((item) => item.error?.code));
  const code = codes.size === 1 ? [...codes][0]! : DatasetErrors.IMAGES_REJECTED;
  const message =
    items.length === 1
      ? `${items[0].filename}: ${items[0].error?.message}`
      : `None of the ${items.length} images was accepted: see details.items.`;
  return new DomainError(kindOfImageRefusal(code), code, message, { items });
}
