import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { BackboneCatalog } from './backbones/backbone-catalog.js';
import { ProjectAccess } from './project-access.js';
import { ProjectHistoryProjection } from './read-models/project-history/project-history.projection.js';
import { ProjectsProjection } from './read-models/projects/projects.projection.js';
import { AddLabelController } from './slices/add-label/add-label.controller.js';
import { AddLabelHandler } from './slices/add-label/add-label.handler.js';
import { ConfigureTrainingController } from './slices/configure-training/configure-training.controller.js';
import { ConfigureTrainingHandler } from './slices/configure-training/configure-training.handler.js';
import { CreateProjectController } from './slices/create-project/create-project.controller.js';
import { CreateProjectHandler } from './slices/create-project/create-project.handler.js';
import { DeleteProjectController } from './slices/delete-project/delete-project.controller.js';
import { DeleteProjectHandler } from './slices/delete-project/delete-project.handler.js';
import { GetProjectController } from './slices/get-project/get-project.controller.js';
import { GetProjectHistoryController } from './slices/get-project-history/get-project-history.controller.js';
import { GetTrainingConfigController } from './slices/get-training-config/get-training-config.controller.js';
import { ListBackbonesController } from './slices/list-backbones/list-backbones.controller.js';
import { ListLabelsController } from './slices/list-labels/list-labels.controller.js';
import { ListProjectsController } from './slices/list-projects/list-projects.controller.js';
import { ProjectWriter } from './slices/project-writer.js';
import { RemoveLabelController } from './slices/remove-label/remove-label.controller.js';
import { RemoveLabelHandler } from './slices/remove-label/remove-label.handler.js';
import { RenameLabelController } from './slices/rename-label/rename-label.controller.js';
import { RenameLabelHandler } from './slices/rename-label/rename-label.handler.js';
import { SetLabelNegativeController } from './slices/set-label-negative/set-label-negative.controller.js';
import { SetLabelNegativeHandler } from './slices/set-label-negative/set-label-negative.handler.js';
import { UpdateProjectController } from './slices/update-project/update-project.controller.js';
import { UpdateProjectHandler } from './slices/update-project/update-project.handler.js';

/**
 * Projects, their labels and training configuration, and each project's history. Exports ProjectAccess, the
 * one tenancy check every project-scoped context uses.
 */
@Module({
  imports: [CqrsModule],
  controllers: [
    CreateProjectController,
    ListProjectsController,
    GetProjectController,
    UpdateProjectController,
    DeleteProjectController,
    AddLabelController,
    ListLabelsController,
    RenameLabelController,
    RemoveLabelController,
    SetLabelNegativeController,
    GetTrainingConfigController,
    ConfigureTrainingController,
    GetProjectHistoryController,
    ListBackbonesController,
  ],
  providers: [
    ProjectAccess,
    ProjectWriter,
    ProjectsProjection,
    ProjectHistoryProjection,
    CreateProjectHandler,
    UpdateProjectHandler,
    DeleteProjectHandler,
    AddLabelHandler,
    RenameLabelHandler,
    RemoveLabelHandler,
    SetLabelNegativeHandler,
    ConfigureTrainingHandler,
    BackboneCatalog,
  ],
  exports: [ProjectAccess, BackboneCatalog],
})
export class ProjectsModule {}
