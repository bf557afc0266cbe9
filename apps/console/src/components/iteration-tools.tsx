import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Iteration, type Project, unwrap } from '../api/client';
import { navigate } from '../router';
import { ErrorMessage } from './error-message';
import { IterationOptions } from './iteration-options';

/** The diff endpoint documents its body in words; these are its fields. */
interface DatasetDiff {
  added: { imageId: string; filename: string }[];
  removed: { imageId: string; filename: string }[];
  relabeled: { imageId: string; filename: string }[];
  resplit: { imageId: string; filename: string }[];
  unchanged: number;
  labels: { added: string[]; removed: string[] };
}

/** Train the same data and configuration again, and compare this iteration's dataset with another's. */
export function IterationTools({ project, iteration }: { project: Project; iteration: Iteration }) {
  const queryClient = useQueryClient();
  const path = { projectId: project.id, iterationId: iteration.id };
  const iterations = useQuery({
    queryKey: ['iterations', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/iterations', { params: { path: { projectId: project.id } } })),
  });
  const others = iterations.data?.items.filter((other) => other.id !== iteration.id) ?? [];
  const [against, setAgainst] = useState('');
  const reproduce = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/reproduce', { params: { path } })),
    onSuccess: async (queued) => {
      await queryClient.invalidateQueries({ queryKey: ['iterations', project.id] });
      navigate(`/projects/${project.id}/iterations/${queued.id}`);
    },
  });
  const diff = useQuery({
    queryKey: ['diff', project.id, iteration.id, against],
    enabled: Boolean(against),
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/dataset/diff', {
          params: { path, query: { against } },
        }),
      ) as unknown as DatasetDiff,
  });
  if (iteration.imported)
    return (
      <div className="card">
        <h3>Reproduce and compare</h3>
        <p className="hint">
          This model was imported: there is no dataset or configuration here to train it again or compare with.
        </p>
      </div>
    );
  return (
    <div className="card">
      <h3>Reproduce and compare</h3>
      <button type="button" onClick={() => reproduce.mutate()} disabled={reproduce.isPending}>
        Reproduce this iteration
      </button>
      <ErrorMessage error={reproduce.error} />
      {others.length > 0 && (
        <label>
          Compare the dataset with
          <select value={against} onChange={(event) => setAgainst(event.target.value)}>
            <option value="">choose an iteration…</option>
            <IterationOptions iterations={others} />
          </select>
        </label>
      )}
      <ErrorMessage error={diff.error} />
      {diff.data && (
        <ul aria-label="Dataset changes">
          <li>{diff.data.added.length} images added</li>
          <li>{diff.data.removed.length} removed</li>
          <li>{diff.data.relabeled.length} relabeled</li>
          <li>{diff.data.resplit.length} moved between splits</li>
          <li>{diff.data.unchanged} unchanged</li>
          {diff.data.labels.added.length + diff.data.labels.removed.length > 0 && (
            <li>
              labels added: {diff.data.labels.added.join(', ') || 'none'}; removed:{' '}
              {diff.data.labels.removed.join(', ') || 'none'}
            </li>
          )}
        </ul>
      )}
    </div>
  );
}
