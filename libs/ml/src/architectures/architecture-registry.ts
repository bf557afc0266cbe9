import type { Task } from '../models/model-serialization.js';
import { backboneDetectorArchitecture } from '../detection/backbone-detector.architecture.js';
import type { Architecture } from './architecture.js';
import { backboneClassifierArchitecture } from './backbone-classifier.architecture.js';
import { asMultilabel } from './multilabel-head.js';
import { smallCnnArchitecture } from './small-cnn.architecture.js';
import { tinyDetectorArchitecture } from './tiny-detector.architecture.js';
import { transferArchitecture } from './transfer.architecture.js';

const architectures: readonly Architecture[] = [
  smallCnnArchitecture,
  backboneClassifierArchitecture,
  transferArchitecture,
  tinyDetectorArchitecture,
  backboneDetectorArchitecture,
];

const defaults: Record<Exclude<Task, 'multilabel'>, Architecture> = {
  classification: smallCnnArchitecture,
  detection: backboneDetectorArchitecture,
};

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
  /** Classification architectures also train multilabel models (with a sigmoid output). */
  task: Exclude<Task, 'multilabel'>;
  description: string;
  defaultImageSize: number;
  isDefault: boolean;
}

export function knownArchitectures(): ArchitectureSummary[] {
  return architectures.map(({ id, task, description, defaultImageSize }) => {
    const baseTask = task === 'multilabel' ? 'classification' : task;
    return { id, task: baseTask, description, defaultImageSize, isDefault: defaults[baseTask].id === id };
  });
}

/**
 * The architecture with this id, or the task's default when no id is given. For 'multilabel', the classification
 * architecture of that id with a sigmoid output and binary cross-entropy.
 */
export function getArchitecture(id: string | undefined, task?: Task): Architecture {
  if (task === 'multilabel') return asMultilabel(getArchitecture(id, 'classification'));
  if (id === undefined) return defaults[task ?? 'classification'];
  const found = architectures.find((architecture) => architecture.id === id);
  if (!found)
    throw new UnknownArchitectureError(
      id,
      architectures.map((architecture) => architecture.id),
    );
  if (task && found.task !== task) throw new RangeError(`architecture '${id}' is for ${found.task}, not ${task}`);
  return found;
}

/**
 * Photos are images whose shorter side is at least this many pixels (the median over the dataset): a backbone
 * pretrained on photos transfers to them; smaller images (icons, 28×28 scans like Fashion-MNIST) are far from what
 * it saw, upscaling them to 224 px costs 64 times the pixels, and a small CNN trained from scratch does better.
 */
export const PHOTO_MIN_SIDE = 96;

/**
 * The architecture that suits a dataset: a pretrained backbone for photos (backbone-classifier, backbone-detector),
 * a small model trained from scratch for tiny images (small-cnn, tiny-detector).
 */
export function chooseArchitecture(
  task: Task,
  images: readonly { width: number; height: number }[],
): { id: string; reason: string } {
  const sides = images.map((image) => Math.min(image.width, image.height)).sort((a, b) => a - b);
  const median = sides.length > 0 ? sides[Math.floor(sides.length / 2)] : 0;
  const [onBackbone, fromScratch] =
    task !== 'detection'
      ? [backboneClassifierArchitecture, smallCnnArchitecture]
      : [backboneDetectorArchitecture, tinyDetectorArchitecture];
  return median >= PHOTO_MIN_SIDE
    ? {
        id: onBackbone.id,
        reason: `photos (median shorter side ${median} px ≥ ${PHOTO_MIN_SIDE}): a pretrained backbone`,
      }
    : {
        id: fromScratch.id,
        reason: `small images (median shorter side ${median} px < ${PHOTO_MIN_SIDE}): a small model from scratch`,
      };
}
