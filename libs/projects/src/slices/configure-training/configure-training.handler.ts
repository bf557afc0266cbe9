import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { BackboneCatalog } from '../../backbones/backbone-catalog.js';
import { AUTO_ARCHITECTURE } from '../../domain/architectures.js';
import { resolveTrainingConfig, type TrainingConfig } from '../../domain/training-config.js';
import { getArchitecture } from '@diyml/ml';
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
    private readonly backbones: BackboneCatalog,
  ) {}

  async execute({ projectId, trainingConfig, expectedRevision, context }: ConfigureTraining) {
    // A backbone that cannot be used is refused now (its weights downloaded once if it has a URL), not at training.
    const { type } = await this.access.getOwned(projectId, context.userId);
    const resolved = resolveTrainingConfig(type, trainingConfig);
    if (resolved.architecture === AUTO_ARCHITECTURE || getArchitecture(resolved.architecture).usesBackbone) {
      if (resolved.baseIterationId === null) await this.backbones.assertAvailable(resolved.backbone);
    }
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
