import type { Task } from '../models/model-serialization.js';
import type { Architecture } from './architecture.js';
import { backboneClassifierArchitecture } from './backbone-classifier.architecture.js';
import { smallCnnArchitecture } from './small-cnn.architecture.js';
import { tinyDetectorArchitecture } from './tiny-detector.architecture.js';
import { transferArchitecture } from './transfer.architecture.js';

const architectures: readonly Architecture[] = [smallCnnArchitecture, backboneClassifierArchitecture, transferArchitecture, tinyDetectorArchitecture];

const defaults: Record<Task, Architecture> = { classification: smallCnnArchitecture, detection: tinyDetectorArchitecture };

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

/**
 * Photos are images whose shorter side is at least this many pixels (the median over the dataset): a backbone
 * pretrained on photos transfers to them; smaller images (icons, 28×28 scans like Fashion-MNIST) are far from what
 * it saw, upscaling them to 224 px costs 64 times the pixels, and a small CNN trained from scratch does better.
 */
export const PHOTO_MIN_SIDE = 96;

/** The architecture that suits a dataset: for classification, a backbone head for photos, small-cnn for tiny images. */
export function chooseArchitecture(task: Task, images: readonly { width: number; height: number }[]): { id: string; reason: string } {
  if (task !== 'classification') return { id: defaults[task].id, reason: `the default for ${task}` };
  const sides = images.map((image) => Math.min(image.width, image.height)).sort((a, b) => a - b);
  const median = sides.length > 0 ? sides[Math.floor(sides.length / 2)] : 0;
  return median >= PHOTO_MIN_SIDE
    ? { id: backboneClassifierArchitecture.id, reason: `photos (median shorter side ${median} px ≥ ${PHOTO_MIN_SIDE}): a pretrained backbone` }
    : { id: smallCnnArchitecture.id, reason: `small images (median shorter side ${median} px < ${PHOTO_MIN_SIDE}): a small CNN from scratch` };
}
