import type { Project } from '../api/client';

/**
 * The architectures in words: `name` where one is chosen (the training form), `short` where a run is listed; each for
 * the project types that know it (the API refuses the others).
 */
export const ARCHITECTURES: Record<string, { name: string; short: string; types: Project['type'][] }> = {
  auto: {
    name: 'Automatic: the best fit for your photos',
    short: 'Automatic',
    types: ['classification', 'multilabel', 'detection'],
  },
  'backbone-classifier': {
    name: 'Pretrained backbone with a new classifier (photos)',
    short: 'Pretrained backbone + new classifier',
    types: ['classification', 'multilabel'],
  },
  'small-cnn': {
    name: 'Small network trained from scratch (small images, fast)',
    short: 'Small network from scratch',
    types: ['classification', 'multilabel'],
  },
  transfer: {
    name: 'Build on an earlier iteration (e.g. one imported from Teachable Machine)',
    short: 'Built on an earlier iteration',
    types: ['classification', 'multilabel'],
  },
  'backbone-detector': {
    name: 'Pretrained backbone with a new detector (photos)',
    short: 'Pretrained backbone + new detector',
    types: ['detection'],
  },
  'tiny-detector': {
    name: 'Tiny detector trained from scratch (small images, fast)',
    short: 'Tiny detector from scratch',
    types: ['detection'],
  },
};

/** A run's architecture as the training form names it; one the console does not know yet, by its id. */
export const architectureName = (id: string) => ARCHITECTURES[id]?.short ?? id;
