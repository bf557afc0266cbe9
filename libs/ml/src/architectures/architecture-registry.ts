import type { Task } from '../models/model-serialization.js';
import { backboneDetectorArchitecture } from '../detection/backbone-detector.architecture.js';
import type { Architecture } from './architecture.js';
import { smallCnnArchitecture } from './small-cnn.architecture.js';
import { tinyDetectorArchitecture } from './tiny-detector.architecture.js';
import { transferArchitecture } from './transfer.architecture.js';

const architectures: readonly Architecture[] = [smallCnnArchitecture, transferArchitecture, tinyDetectorArchitecture, backboneDetectorArchitecture];

const defaults: Record<Task, Architecture> = { classification: smallCnnArchitecture, detection: backboneDetectorArchitecture };

export class UnknownArchitectureError extends Error {
  constructor(
    readonly architecture: string,
    readonly known: string[],
  ) {
    super(`unknown architecture '${architecture}'; known: ${known.join(', ')}`);
    this.name = 'UnknownArchitectureError';
  }
}

export interface ArchitectureSummary {
  id: string;
  task: Task;
  description: string;
  defaultImageSize: number;
  isDefault: boolean;
}

export function knownArchitectures(): ArchitectureSummary[] {
  return architectures.map(({ id, task, description, defaultImageSize }) => ({ id, task, description, defaultImageSize, isDefault: defaults[task].id === id }));
}

/** The architecture with this id, or the task's default when no id is given. */
export function getArchitecture(id: string | undefined, task?: Task): Architecture {
  if (id === undefined) return defaults[task ?? 'classification'];
  const found = architectures.find((architecture) => architecture.id === id);
  if (!found) throw new UnknownArchitectureError(id, architectures.map((architecture) => architecture.id));
  if (task && found.task !== task) throw new RangeError(`architecture '${id}' is for ${found.task}, not ${task}`);
  return found;
}
