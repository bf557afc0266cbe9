import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, ApiError, errorMessage, type Project, unwrap } from '../api/client';
import { ErrorMessage } from '../components/error-message';
import { plural } from '../components/plural';
import { ExportProject } from '../components/project-transfer';
import { Link, navigate } from '../router';

/** Rename, labels, delete (after typing the name). */
export function ProjectSettingsPage({ project }: { project: Project }) {
  return (
    <section>
      <RenameForm project={project} />
      <ProjectTypeSwitch project={project} />
      <LabelsEditor project={project} negativeControls />
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
  // The name as the project has it: nothing to rename, and 'Renamed.' holds only until the field is edited again.
  const unchanged = name.trim() === project.name;
  return (
    <form onSubmit={onSubmit} className="card inline-form" aria-label="Rename project">
      <label>
        Name
        <input value={name} onChange={(event) => setName(event.target.value)} />
      </label>
      <button type="submit" disabled={rename.isPending || unchanged}>
        Rename
      </button>
      {rename.isSuccess && unchanged && <span role="status">Renamed.</span>}
      <ErrorMessage error={rename.error} />
    </form>
  );
}

/**
 * The project's labels: add, remove, and (`negativeControls`, on the settings page) make one negative. The dataset
 * page leaves the negative controls out, so a new user labelling photos meets only what labelling needs.
 */
export function LabelsEditor({ project, negativeControls = false }: { project: Project; negativeControls?: boolean }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [negative, setNegative] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['project', project.id] });
  const add = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/labels', {
          params: { path: { projectId: project.id } },
          body: negative ? { name, negative } : { name },
        }),
      ),
    onSuccess: async () => {
      setName('');
      setNegative(false);
      await refresh();
    },
  });
  const setLabelNegative = useMutation({
    mutationFn: async ({ labelId, makeNegative }: { labelId: string; makeNegative: boolean }) => {
      const params = { params: { path: { projectId: project.id, labelId } } };
      return unwrap(
        makeNegative
          ? await api.PUT('/v1/projects/{projectId}/labels/{labelId}/negative', params)
          : await api.DELETE('/v1/projects/{projectId}/labels/{labelId}/negative', params),
      );
    },
    onSuccess: refresh,
  });
  // Detection has no negative label: an image without boxes already shows none of the labels.
  const negativeAllowed = negativeControls && project.type !== 'detection';
  const hasNegative = project.labels.some((label) => label.negative);
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
            {/* How many images each label has, as Custom Vision's tag list says: enough photos of each before training. */}
            <ImageCount count={counts.data?.items.find((count) => count.id === label.id)?.imageCount} />
            {label.negative && (
              <span className="badge chip-badge" title="Its images show none of the other labels">
                negative
              </span>
            )}
            {negativeAllowed && (label.negative || !hasNegative) && (
              <button
                type="button"
                className="link chip-action"
                aria-label={label.negative ? `Make regular: ${label.name}` : `Make negative: ${label.name}`}
                onClick={() => setLabelNegative.mutate({ labelId: label.id, makeNegative: !label.negative })}
                disabled={setLabelNegative.isPending}
              >
                {label.negative ? 'make regular' : 'make negative'}
              </button>
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
          <input
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="cat"
            // A project without labels starts here (as a new one does): the focus would stay on the page's body.
            autoFocus={project.labels.length === 0}
          />
        </label>
        {negativeAllowed && (
          <label className="checkbox">
            <input type="checkbox" checked={negative} onChange={(event) => setNegative(event.target.checked)} />
            Negative
          </label>
        )}
        <button type="submit" disabled={add.isPending}>
          Add label
        </button>
      </form>
      {!negativeControls && project.type !== 'detection' && project.labels.length > 0 && (
        <p className="hint">
          Photos of none of these labels can have a negative label of their own: see{' '}
          <Link href={`/projects/${project.id}/settings`}>negative label and project type</Link> in the settings.
        </p>
      )}
      {negativeAllowed && (
        <p className="hint">
          A negative label marks photos that show none of the other labels (an empty feeder, a background), so the model
          learns to answer none of them for such photos rather than its closest guess; a project has one at most.
        </p>
      )}
      <ErrorMessage
        error={blank ? new Error('Type the label first, for example "cat".') : (add.error ?? remove.error)}
      />
      <RefusalWithImages project={project} error={setLabelNegative.error} />
    </div>
  );
}

/** Classification (one label per image) ↔ multilabel (several): images keep their labels; detection never switches. */
function ProjectTypeSwitch({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const target = project.type === 'classification' ? 'multilabel' : 'classification';
  const change = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH('/v1/projects/{projectId}', {
          params: { path: { projectId: project.id } },
          body: { type: target },
        }),
      ),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ['project', project.id] }),
        queryClient.invalidateQueries({ queryKey: ['projects'] }),
      ]),
  });
  return (
    <div className="card" role="group" aria-label="Project type">
      <h2>Project type</h2>
      {project.type === 'detection' ? (
        <p className="hint">
          A detection project stays one: its images carry boxes, not labels. Create a new project to classify images.
        </p>
      ) : (
        <>
          <p>
            This is a <strong>{project.type}</strong> project:{' '}
            {project.type === 'classification' ? 'each image has one label.' : 'an image can have several labels.'}{' '}
            {target === 'multilabel'
              ? 'As a multilabel project, an image could have several; the images keep the label they have.'
              : 'As a classification project, each image has one: images with several must be left with one first.'}{' '}
            Iterations trained before keep their type.
          </p>
          <button type="button" onClick={() => change.mutate()} disabled={change.isPending}>
            Make it a {target} project
          </button>
          {change.isSuccess && <span role="status"> Now a {change.data.type} project.</span>}
          <RefusalWithImages project={project} error={change.error} />
        </>
      )}
    </div>
  );
}

/** Images a refusal names at most, as links (the API names them all). */
const NAMED_IMAGES = 20;

/**
 * A refusal in words; when it names images (IMAGES_HAVE_SEVERAL_LABELS, NEGATIVE_AND_REGULAR_LABEL), each one as a
 * link to its page, where its labels can be fixed.
 */
function RefusalWithImages({ project, error }: { project: Project; error: unknown }) {
  const imageIds = error instanceof ApiError ? (error.details as { imageIds?: unknown } | undefined)?.imageIds : null;
  const named = Array.isArray(imageIds) ? imageIds.filter((id): id is string => typeof id === 'string') : [];
  if (!error) return null;
  return (
    <div role="alert" className="error">
      <p>{errorMessage(error)}</p>
      {named.length > 0 && (
        <>
          <p>
            {plural(named.length, 'image')} to fix{named.length > NAMED_IMAGES ? `, the first ${NAMED_IMAGES}` : ''}:
          </p>
          <ul aria-label="Images to fix">
            {named.slice(0, NAMED_IMAGES).map((imageId) => (
              <li key={imageId}>
                <NamedImageLink projectId={project.id} imageId={imageId} />
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function NamedImageLink({ projectId, imageId }: { projectId: string; imageId: string }) {
  const image = useQuery({
    queryKey: ['image', projectId, imageId],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/images/{imageId}', { params: { path: { projectId, imageId } } })),
  });
  const labels = image.data?.labels.map((label) => label.name).join(', ');
  return (
    <Link href={`/projects/${projectId}/images/${imageId}`}>
      {image.data ? `${image.data.filename}${labels ? ` (${labels})` : ''}` : imageId}
    </Link>
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

/** A label's image count in its chip: the number, read out with its unit. */
function ImageCount({ count }: { count: number | undefined }) {
  if (count === undefined) return null;
  return (
    <span className="chip-count">
      {count}
      <span className="visually-hidden">{count === 1 ? ' image' : ' images'}</span>
    </span>
  );
}
