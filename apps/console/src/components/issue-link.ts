import type { Schemas } from '../api/client';

/** Where the dataset shows the images an analysis issue is about: the label's, the unlabeled ones, or all. */
export function issueLink(projectId: string, issue: Schemas['IssueDto']): string {
  const dataset = `/projects/${projectId}/dataset`;
  if (issue.label) return `${dataset}?label=${issue.label.id}`;
  return issue.code === 'MANY_UNLABELED' ? `${dataset}?show=unlabeled` : dataset;
}
