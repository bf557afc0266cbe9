import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Project, unwrap } from '../api/client';
import { ErrorMessage } from '../components/error-message';
import { plural } from '../components/plural';
import { ExportProject } from '../components/project-transfer';
import { navigate } from '../router';

/** Rename, labels, delete (after typing the name). */
export function ProjectSettingsPage({ project }: { project: Project }) {
  return (
    <section>
      <RenameForm project={project} />
      <LabelsEditor project={project} />
      <ExportProject project={project} />
      <DeleteProject project={project} />
    </section>
  );
}

function RenameForm({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState(project.name);
  const rename = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH('/v1/projects/{projectId}', { params: { path: { projectId: project.id } }, body: { name } }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['project', project.id] }),
  });
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate();
  };
  return (
    <form onSubmit={onSubmit} className="card inline-form" aria-label="Rename project">
      <label>
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} />
      </label>
      <button type="submit" disabled={rename.isPending}>
        Rename
      </button>
      {rename.isSuccess && <span role="status">Renamed.</span>}
      <ErrorMessage error={rename.error} />
    </form>
  );
}

export function LabelsEditor({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['project', project.id] });
  const add = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/labels', {
          params: { path: { projectId: project.id } },
          body: { name },
        }),
      ),
    onSuccess: async () => {
      setName('');
      await refresh();
    },
  });
  const counts = useQuery({
    queryKey: ['labels', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/labels', { params: { path: { projectId: project.id } } })),
  });
  // A label on images is asked about first: removing it takes it off every one of them, for good.
  const [confirming, setConfirming] = useState<{ id: string; name: string; imageCount: number } | null>(null);
  const remove = useMutation({
    mutationFn: async (labelId: string) =>
      unwrap(
        await api.DELETE('/v1/projects/{projectId}/labels/{labelId}', {
          params: { path: { projectId: project.id, labelId } },
        }),
      ),
    onSuccess: () => {
      setConfirming(null);
      return Promise.all([
        refresh(),
        queryClient.invalidateQueries({ queryKey: ['labels', project.id] }),
        queryClient.invalidateQueries({ queryKey: ['images', project.id] }),
      ]);
    },
  });
  const askToRemove = (label: { id: string; name: string }) => {
    const imageCount = counts.data?.items.find((count) => count.id === label.id)?.imageCount;
    // Counts not read yet: ask anyway rather than risk the images' labels.
    if (imageCount === 0) remove.mutate(label.id);
    else setConfirming({ ...label, imageCount: imageCount ?? -1 });
  };
  // A blank label is caught here, in words, rather than as the API's 'name must be longer than or equal to 1 characters'.
  const [blank, setBlank] = useState(false);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setBlank(!name.trim());
    if (name.trim()) add.mutate();
  };
  return (
    <div className="card">
      <h2>Labels</h2>
      <ul className="chips">
        {project.labels.map((label, index) => (
          <li key={label.id} className="chip">
            <kbd>{index + 1}</kbd> {label.name}
            {label.negative && (
              <span className="badge" title="Its images show none of the other labels">
                negative
              </span>
            )}
            <button
              type="button"
              className="link"
              aria-label={`Remove label ${label.name}`}
              onClick={() => askToRemove(label)}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      {confirming && (
        <div role="group" aria-label={`Confirm removing label ${confirming.name}`}>
          <p>
            <strong>{confirming.name}</strong>{' '}
            {confirming.imageCount < 0 ? 'may be on images' : `is on ${plural(confirming.imageCount, 'image')}`}:
            removing it{' '}
            {project.type === 'detection'
              ? 'deletes its boxes on them'
              : project.type === 'multilabel'
                ? 'takes it off them'
                : 'leaves them unlabeled'}
            , for good.
          </p>
          <button
            type="button"
            className="danger"
            onClick={() => remove.mutate(confirming.id)}
            disabled={remove.isPending}
            autoFocus
          >
            Remove {confirming.name}
          </button>{' '}
          <button type="button" onClick={() => setConfirming(null)}>
            Keep it
          </button>
        </div>
      )}
      <form onSubmit={onSubmit} className="inline-form" aria-label="Add label">
        <label>
          New label
          <input value={name} onChange={(event) => setName(event.target.value)} placeholder="cat" />
        </label>
        <button type="submit" disabled={add.isPending}>
          Add label
        </button>
      </form>
      <ErrorMessage
        error={blank ? new Error('Type the label first, for example "cat".') : (add.error ?? remove.error)}
      />
    </div>
  );
}

function DeleteProject({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState('');
  const remove = useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE('/v1/projects/{projectId}', { params: { path: { projectId: project.id } } })),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['projects'] });
      navigate('/', { replace: true });
    },
  });
  return (
    <div className="card danger">
      <h2>Delete project</h2>
      {!confirming ? (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete this project…
        </button>
      ) : (
        <form
          aria-label="Confirm deletion"
          onSubmit={(event) => {
            event.preventDefault();
            remove.mutate();
          }}
        >
          <p>
            This deletes <strong>{project.name}</strong>, its images, iterations and deployments. Type the project name
            to confirm.
          </p>
          <label>
            Project name
            <input value={typed} onChange={(event) => setTyped(event.target.value)} />
          </label>
          <button type="submit" className="danger" disabled={typed !== project.name || remove.isPending}>
            Delete for good
          </button>
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
          <ErrorMessage error={remove.error} />
        </form>
      )}
    </div>
  );
}
