/** What a project trains: one label per image, or labeled boxes (regions) in each image. */
export const PROJECT_TYPES = ['classification', 'detection'] as const;

export type ProjectType = (typeof PROJECT_TYPES)[number];

export function isProjectType(value: unknown): value is ProjectType {
  return typeof value === 'string' && (PROJECT_TYPES as readonly string[]).includes(value);
}
