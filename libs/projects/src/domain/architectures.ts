import { DomainError } from '../../../core/src/index.js';
import type { ProjectType } from './project-type.js';

/**
 * The model architectures a project can train, by id. This is the one list libs/projects validates against;
 * it must name exactly the architectures libs/ml can build (wire it to libs/ml's registry once that exists).
 */
export const ARCHITECTURES = {
  'small-cnn': {
    projectType: 'classification',
    description: 'A small convolutional network trained from scratch: fast, good for simple images.',
  },
  transfer: {
    projectType: 'classification',
    description: 'A pretrained feature extractor with a new classification head: better on few, natural images.',
  },
  'tiny-detector': {
    projectType: 'detection',
    description: 'A small single-shot box detector trained from scratch.',
  },
} as const satisfies Record<string, { projectType: ProjectType; description: string }>;

export type ArchitectureId = keyof typeof ARCHITECTURES;

export const ARCHITECTURE_IDS = Object.keys(ARCHITECTURES) as ArchitectureId[];

export const DEFAULT_ARCHITECTURE: Record<ProjectType, ArchitectureId> = {
  classification: 'small-cnn',
  detection: 'tiny-detector',
};

/** Architecture ids a project of this type can train. */
export function architecturesFor(projectType: ProjectType): ArchitectureId[] {
  return ARCHITECTURE_IDS.filter((id) => ARCHITECTURES[id].projectType === projectType);
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
