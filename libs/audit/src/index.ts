export * from './pure.js';
export * from './audit.module.js';
export { IMPORT_RUN_EVENT_TYPES } from './domain/import-run.events.js';
export { ProjectExporter } from './slices/export-project/project-exporter.js';
export type { ImportedProjectDto } from './slices/import-project/import-project.dto.js';
export { ImportProject } from './slices/import-project/import-project.handler.js';
export { NEWEST_EVENT_VERSIONS } from './slices/import-project/known-events.js';
export { ProjectImports } from './slices/import-project/project-imports.js';
export { ProjectImportErrors } from './slices/import-project/project-archive-reader.js';
