import { IterationQueries } from '@diyml/training';

export interface NamedLabel {
  id: string;
  name: string;
}

/**
 * The labels a stored prediction is named by, by its iteration: the iteration's labels (the names the prediction was
 * answered with; the owner may have renamed them since), or the project's for an iteration deleted since.
 */
export async function labelsByIteration(
  iterations: IterationQueries,
  projectId: string,
  projectLabels: readonly NamedLabel[],
): Promise<(iterationId: string) => readonly NamedLabel[]> {
  const byIteration = new Map(
    (await iterations.listAll(projectId)).map((iteration) => [iteration.id, iteration.labels]),
  );
  return (iterationId) => byIteration.get(iterationId) ?? projectLabels;
}

/** The name a label (by id) had in each iteration; undefined where the iteration had no such label. */
export function nameByIteration(
  labelsOf: (iterationId: string) => readonly NamedLabel[],
  labelId: string,
): (iterationId: string) => string | undefined {
  return (iterationId) => labelsOf(iterationId).find((label) => label.id === labelId)?.name;
}
