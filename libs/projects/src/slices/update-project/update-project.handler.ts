import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ReadStore } from '@diyml/read-store';
import type { ProjectType } from '../../domain/project-type.js';
import { type ProjectDto, toProjectDto } from '../../http/project.dto.js';
import { imagesWithSeveralLabels } from '../../read-models/image-labels/image-labels.view.js';
import { ProjectAccess } from '../../project-access.js';
import { ProjectWriter, type UserContext } from '../project-writer.js';

export class UpdateProject extends Command<ProjectDto> {
  constructor(
    readonly projectId: string,
    readonly changes: { name?: string; description?: string; type?: ProjectType },
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(UpdateProject)
export class UpdateProjectHandler implements ICommandHandler<UpdateProject> {
  constructor(
    private readonly writer: ProjectWriter,
    private readonly access: ProjectAccess,
    private readonly readStore: ReadStore,
  ) {}

  async execute({ projectId, changes, expectedRevision, context }: UpdateProject): Promise<ProjectDto> {
    // Images are another context's streams: a switch to classification reads them from their read model (an image
    // given several labels in the same instant may slip through; a classification image takes one label from then).
    const severalLabels =
      changes.type === 'classification' ? await imagesWithSeveralLabels(this.readStore, projectId) : [];
    await this.writer.execute(
      projectId,
      context,
      (metadata) => ({
        type: 'UpdateProject',
        name: changes.name,
        description: changes.description,
        projectType: changes.type,
        imagesWithSeveralLabels: severalLabels,
        metadata,
      }),
      expectedRevision,
    );
    return toProjectDto(await this.access.getOwned(projectId, context.userId));
  }
}
