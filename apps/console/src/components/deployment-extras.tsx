import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useEffect, useState } from 'react';
import { api, type Project, type Schemas, unwrap } from '../api/client';
import { Link } from '../router';
import { ErrorMessage } from './error-message';

type Deployment = Schemas['DeploymentDto'];

/** Whether the deployment keeps the photos it is sent (and its answers) for review, and for how long. */
export function PredictionStoreSettings({ project, deployment }: { project: Project; deployment: Deployment }) {
  const queryClient = useQueryClient();
  const path = { projectId: project.id, deploymentId: deployment.id };
  const settings = useQuery({
    queryKey: ['prediction-store', deployment.id],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/deployments/{deploymentId}/prediction-store', { params: { path } }),
      ),
  });
  const [form, setForm] = useState({ enabled: false, maxCount: '', maxAgeDays: '' });
  useEffect(() => {
    if (settings.data) {
      setForm({
        enabled: settings.data.enabled,
        maxCount: String(settings.data.maxCount ?? ''),
        maxAgeDays: String(settings.data.maxAgeDays ?? ''),
      });
    }
  }, [settings.data]);
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT('/v1/projects/{projectId}/deployments/{deploymentId}/prediction-store', {
          params: { path },
          body: {
            enabled: form.enabled,
            ...(form.maxCount === '' ? {} : { maxCount: Number(form.maxCount) }),
            ...(form.maxAgeDays === '' ? {} : { maxAgeDays: Number(form.maxAgeDays) }),
          },
        }),
      ),
    onSuccess: (saved) => queryClient.setQueryData(['prediction-store', deployment.id], saved),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form className="inline-form" aria-label={`Prediction store of ${deployment.name}`} onSubmit={submit}>
      <h4>Prediction store</h4>
      <label className="choice">
        <input
          type="checkbox"
          checked={form.enabled}
          onChange={(event) => setForm({ ...form, enabled: event.target.checked })}
        />
        Keep the photos sent to this deployment, with its predictions
      </label>
      <label>
        At most (photos)
        <input
          type="number"
          min={1}
          value={form.maxCount}
          onChange={(event) => setForm({ ...form, maxCount: event.target.value })}
          placeholder="no limit"
        />
      </label>
      <label>
        For (days)
        <input
          type="number"
          min={1}
          value={form.maxAgeDays}
          onChange={(event) => setForm({ ...form, maxAgeDays: event.target.value })}
          placeholder="no limit"
        />
      </label>
      <button type="submit" disabled={save.isPending || !settings.data}>
        Save store settings
      </button>
      {save.isSuccess && <span role="status"> Saved.</span>}
      {settings.data?.enabled && (
        <p className="hint">
          Review what it stored under{' '}
          <Link href={`/projects/${project.id}/predictions?deployment=${deployment.id}`}>Predictions</Link>.
        </p>
      )}
      <ErrorMessage error={settings.error ?? save.error} />
    </form>
  );
}

/** Publish the deployment for the other users of this installation (they call it with their own token), or stop. */
export function Sharing({ project, deployment }: { project: Project; deployment: Deployment }) {
  const queryClient = useQueryClient();
  const path = { projectId: project.id, deploymentId: deployment.id };
  const shared = deployment.shared;
  const [name, setName] = useState(shared?.name ?? `${project.name} – ${deployment.name}`);
  const [description, setDescription] = useState(shared?.description ?? '');
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['deployments', project.id] }),
      queryClient.invalidateQueries({ queryKey: ['shared-models'] }),
    ]);
  const share = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT('/v1/projects/{projectId}/deployments/{deploymentId}/share', {
          params: { path },
          body: { name, description },
        }),
      ),
    onSuccess: refresh,
  });
  const unshare = useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE('/v1/projects/{projectId}/deployments/{deploymentId}/share', { params: { path } })),
    onSuccess: refresh,
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    share.mutate();
  };
  return (
    <form aria-label={`Sharing of ${deployment.name}`} onSubmit={submit}>
      <h4>Sharing</h4>
      <p className="hint" role="status">
        {shared ? (
          <>
            Shared with the other users of this server since {new Date(shared.sharedAt).toLocaleString()}: they find it
            under <Link href="/shared-models">Shared models</Link> and predict with their own token.
          </>
        ) : (
          'Not shared: only callers with the deployment key can use it.'
        )}
      </p>
      <label>
        Shared name
        <input value={name} onChange={(event) => setName(event.target.value)} maxLength={100} />
      </label>
      <label>
        Description
        <textarea value={description} onChange={(event) => setDescription(event.target.value)} rows={2} />
      </label>
      <div className="toolbar">
        <button type="submit" disabled={share.isPending}>
          {shared ? 'Update the shared name and description' : 'Share with other users'}
        </button>
        {shared && (
          <button type="button" className="danger" onClick={() => unshare.mutate()} disabled={unshare.isPending}>
            Stop sharing
          </button>
        )}
      </div>
      <ErrorMessage error={share.error ?? unshare.error} />
    </form>
  );
}
