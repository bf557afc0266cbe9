import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { TrainingConfig } from '../../domain/training-config.js';
import { ProjectAccess } from '../../project-access.js';
import { ProjectWriter, type UserContext } from '../project-writer.js';

export class ConfigureTraining extends Command<{ trainingConfig: TrainingConfig; revision: number }> {
  constructor(
    readonly projectId: string,
    /** The settings as sent: the decider fills in the defaults and checks them. */
    readonly trainingConfig: unknown,
    readonly expectedRevision: number | undefined,
    readonly context: UserContext,
  ) {
    super();
  }
}

@CommandHandler(ConfigureTraining)
export class ConfigureTrainingHandler implements ICommandHandler<ConfigureTraining> {
  constructor(
    private readonly writer: ProjectWriter,
    private readonly access: ProjectAccess,
  ) {}

  async execute({ projectId, trainingConfig, expectedRevision, context }: ConfigureTraining) {
    const result = await this.writer.execute(
      projectId,
      context,
      (metadata) => ({ type: 'ConfigureTraining', trainingConfig, metadata }),
      expectedRevision,
    );
    const project = await this.access.getOwned(projectId, context.userId);
    return { trainingConfig: project.trainingConfig, revision: result.revision };
  }
}
