import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { DatasetQueries, ImageQuota, uploadLimitsProvider } from '@diyml/datasets';
import { DeploymentsModule } from '@diyml/deployments';
import { ProjectAccess } from '@diyml/projects';
import { IterationQueries } from '@diyml/training';
import { ProjectImportsProjection } from './read-models/project-imports/project-imports.projection.js';
import { ExportProjectController } from './slices/export-project/export-project.controller.js';
import { ProjectExporter } from './slices/export-project/project-exporter.js';
import { ImportProjectController } from './slices/import-project/import-project.controller.js';
import { ImportProjectHandler } from './slices/import-project/import-project.handler.js';
import { ProjectImports } from './slices/import-project/project-imports.js';

/**
 * Projects between installations: export as one archive, import with new ids and the history kept. Needs the
 * other contexts' modules in the app (their commands rename the project and rotate deployment keys after an import).
 */
@Module({
  imports: [CqrsModule, DiscoveryModule, DeploymentsModule],
  controllers: [ExportProjectController, ImportProjectController],
  providers: [
    ProjectAccess,
    ImageQuota,
    DatasetQueries,
    IterationQueries,
    ProjectExporter,
    ImportProjectHandler,
    ProjectImports,
    ProjectImportsProjection,
    uploadLimitsProvider,
  ],
  exports: [ProjectExporter],
})
export class AuditModule {}
