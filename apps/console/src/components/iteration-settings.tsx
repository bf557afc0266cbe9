import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Iteration, type Project, unwrap } from '../api/client';
import { navigate } from '../router';
import { ErrorMessage } from './error-message';

/** Rename an iteration (names are unique in the project) or delete it once it is neither deployed nor training. */
export function IterationSettings({ project, iteration }: { project: Project; iteration: Iteration }) {
  const queryClient = useQueryClient();
  const path = { projectId: project.id, iterationId: iteration.id };
  const [name, setName] = useState(iteration.name);
  const [confirming, setConfirming] = useState(false);
  const rename = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH('/v1/projects/{projectId}/iterations/{iterationId}', { params: { path }, body: { name } }),
      ),
    onSuccess: (renamed) => {
      queryClient.setQueryData(['iteration', project.id, iteration.id], renamed);
      return queryClient.invalidateQueries({ queryKey: ['iterations', project.id] });
    },
  });
  const remove = useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE('/v1/projects/{projectId}/iterations/{iterationId}', { params: { path } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['iterations', project.id] });
      navigate(`/projects/${project.id}/train`, { replace: true });
    },
  });
  const onRename = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate();
  };
  return (
    <div className="card">
      <h3>Name and deletion</h3>
      <form className="inline-form" aria-label="Rename iteration" onSubmit={onRename}>
        <label>
          Iteration name
          <input value={name} onChange={(event) => setName(event.target.value)} maxLength={200} />
        </label>
        <button type="submit" disabled={rename.isPending || name === iteration.name}>
          Rename
        </button>
        {rename.isSuccess && name === iteration.name && <span role="status"> Renamed.</span>}
      </form>
      <ErrorMessage error={rename.error} />
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete this iteration…
        </button>
      ) : (
        <div role="group" aria-label="Confirm iteration deletion">
          <p>
            This deletes <strong>{iteration.name}</strong>, its model and metrics. A deployed iteration must be
            undeployed first.
          </p>
          <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
            Delete for good
          </button>{' '}
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </div>
      )}
      <ErrorMessage error={remove.error} />
    </div>
  );
}
