import { DomainError } from '@diyml/core/pure';
import { BackboneError, getBackbone, knownArchitectures, listBackbones } from '@diyml/ml/pure';
import type { ProjectType } from './project-type.js';

/**
 * The model architectures a project can train: exactly those libs/ml can build, by id, with the project
 * type (task) each one serves.
 */
export const ARCHITECTURES: Readonly<Record<string, { projectTypes: readonly ProjectType[]; description: string }>> = {
  auto: {
    projectTypes: ['classification', 'multilabel', 'detection'],
    description:
      'Chosen from the data when an iteration is queued: backbone-classifier or backbone-detector for photos, small-cnn or tiny-detector for small images.',
  },
  ...Object.fromEntries(
    knownArchitectures().map((architecture) => [
      architecture.id,
      {
        // A classification architecture trains multilabel models too, with a sigmoid output.
        projectTypes: architecture.task === 'classification' ? ['classification', 'multilabel'] : [architecture.task],
        description: architecture.description,
      },
    ]),
  ),
};

/** Resolved per iteration from the images (libs/ml chooseArchitecture), so each iteration records what it trained. */
export const AUTO_ARCHITECTURE = 'auto';

export type ArchitectureId = string;

export const ARCHITECTURE_IDS: ArchitectureId[] = Object.keys(ARCHITECTURES);

export const DEFAULT_ARCHITECTURE = {
  ...Object.fromEntries(
    knownArchitectures()
      .filter((architecture) => architecture.isDefault)
      .map((architecture) => [architecture.task, architecture.id]),
  ),
  classification: AUTO_ARCHITECTURE,
  multilabel: AUTO_ARCHITECTURE,
} as Record<ProjectType, ArchitectureId>;

/** Architecture ids a project of this type can train. */
export function architecturesFor(projectType: ProjectType): ArchitectureId[] {
  return ARCHITECTURE_IDS.filter((id) => ARCHITECTURES[id].projectTypes.includes(projectType));
}

/**
 * 400 UNKNOWN_ARCHITECTURE unless `id` is an architecture for the project type; `details` names the field and
 * lists the known ones: `[{ field, errors, known }]`.
 */
export function assertArchitectureFor(
  projectType: ProjectType,
  id: string,
  field = 'architecture',
): asserts id is ArchitectureId {
  const known = architecturesFor(projectType);
  if (!(known as string[]).includes(id)) {
    const error = `${field} must be one of ${known.join(', ')} for a ${projectType} project`;
    throw DomainError.validation('UNKNOWN_ARCHITECTURE', `Unknown architecture "${id}": ${error}.`, [
      { field, errors: [error], known },
    ]);
  }
}

/** Architectures that build on another model's features: they need `baseIterationId`. */
export const BASE_MODEL_ARCHITECTURES: readonly string[] = ['transfer'];

/** 400 BASE_MODEL_REQUIRED when a transfer architecture has no base iteration to build on. */
export function assertBaseModelFor(
  config: { architecture: string; baseIterationId: string | null },
  field = 'baseIterationId',
): void {
  if (BASE_MODEL_ARCHITECTURES.includes(config.architecture) && config.baseIterationId === null) {
    const error = `${field} must name an iteration with a model (for example an imported one) for the ${config.architecture} architecture`;
    throw DomainError.validation(
      'BASE_MODEL_REQUIRED',
      `The ${config.architecture} architecture builds on another model: ${error}.`,
      [{ field, errors: [error] }],
    );
  }
}

/** 400 UNKNOWN_BACKBONE, listing the registered ones, unless `backbone` is null (the default) or registered. */
export function assertBackboneFor(config: { backbone: string | null }, field = 'backbone'): void {
  if (config.backbone === null) return;
  try {
    getBackbone(config.backbone);
  } catch (error) {
    if (!(error instanceof BackboneError)) throw error;
    const known = listBackbones().map((backbone) => backbone.id);
    const message = `${field} must be one of ${known.join(', ')} (GET /v1/backbones), or null for the default`;
    throw DomainError.validation('UNKNOWN_BACKBONE', `Unknown backbone "${config.backbone}": ${message}.`, [
      { field, errors: [message], known },
    ]);
  }
}
