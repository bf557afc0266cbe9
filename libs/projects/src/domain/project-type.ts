/**
 * What a project trains: one label per image (classification), any number of labels per image with independent
 * probabilities (multilabel, Custom Vision's "Multilabel"), or labeled boxes (regions) in each image (detection).
 */
export const PROJECT_TYPES = ['classification', 'multilabel', 'detection'] as const;

export type ProjectType = (typeof PROJECT_TYPES)[number];

export function isProjectType(value: unknown): value is ProjectType {
  return typeof value === 'string' && (PROJECT_TYPES as readonly string[]).includes(value);
}
