import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, type Project, type Schemas, unwrap } from '../api/client';
import { useRefreshImages } from '../api/images';
import { AuthenticatedImage, thumbnailPath } from '../components/authenticated-image';
import { BoxesOverlay } from '../components/boxes-overlay';
import { ErrorMessage } from '../components/error-message';
import { Link } from '../router';
import { useSelection } from '../components/use-selection';

type Suggestion = Schemas['LabelSuggestionDto'];
type SuggestionRun = Schemas['SuggestionRunDto'];

const percent = (value: number) => `${(value * 100).toFixed(1)}%`;
const SHOWN = 500;

/**
 * Smart labeling, as Custom Vision's "suggested tags": a completed iteration predicts the unlabeled images; each
 * suggestion is reviewed with its probabilities and accepted (as is or with another label), or rejected, in batches.
 */
export function SuggestionsPage({ project }: { project: Project }) {
  const iterations = useQuery({
    queryKey: ['iterations', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/iterations', { params: { path: { projectId: project.id } } })),
  });
  const completed = iterations.data?.items.filter((iteration) => iteration.status === 'completed') ?? [];
  const [chosen, setChosen] = useState('');
  const iterationId = chosen || completed[0]?.id || '';
  return (
    <section>
      <div className="card">
        <h2>Smart labeling</h2>
        <p className="hint">
          A trained iteration suggests labels for your unlabeled images: review them, then accept, correct or reject
          them in batches.
        </p>
        <ErrorMessage error={iterations.error} />
        {iterations.data && completed.length === 0 ? (
          <p className="hint">
            No completed iteration yet: <Link href={`/projects/${project.id}/train`}>train one</Link> first.
          </p>
        ) : (
          <label>
            Suggest with
            <select value={iterationId} onChange={(event) => setChosen(event.target.value)}>
              {completed.map((iteration) => (
                <option key={iteration.id} value={iteration.id}>
                  {iteration.name}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      {iterationId && <Suggestions key={iterationId} project={project} iterationId={iterationId} />}
    </section>
  );
}

function Suggestions({ project, iterationId }: { project: Project; iterationId: string }) {
  const queryClient = useQueryClient();
  const refreshImages = useRefreshImages(project.id);
  const path = { projectId: project.id, iterationId };
  const [runId, setRunId] = useState<string | null>(null);
  const [range, setRange] = useState({ min: '', max: '' });
  const { selected, setSelected, toggle } = useSelection();
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState<string | null>(null);
  const query = {
    limit: SHOWN,
    ...(range.min === '' ? {} : { minProbability: Number(range.min) }),
    ...(range.max === '' ? {} : { maxProbability: Number(range.max) }),
  };
  const suggestions = useQuery({
    queryKey: ['suggestions', project.id, iterationId, query],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/suggestions', { params: { path, query } }),
      ),
  });
  const run = useQuery({
    queryKey: ['suggestion-run', project.id, iterationId, runId],
    enabled: runId !== null,
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/suggestions/runs/{runId}', {
          params: { path: { ...path, runId: runId! } },
        }),
      ),
    refetchInterval: (current) => (current.state.data?.status === 'requested' ? 1000 : false),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['suggestions', project.id, iterationId] });
  const request = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/suggestions', { params: { path }, body: {} }),
      ),
    onSuccess: (started: SuggestionRun) => setRunId(started.id),
  });
  const runStatus = run.data?.status;
  useEffect(() => {
    if (runStatus === 'completed')
      void queryClient.invalidateQueries({ queryKey: ['suggestions', project.id, iterationId] });
  }, [runStatus, queryClient, project.id, iterationId]);
  // Suggestions name images by id: their file names come from the unlabeled images they were made for.
  const unlabeled = useQuery({
    queryKey: ['images', project.id, { unlabeled: true, limit: 1000 }],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/images', {
          params: { path: { projectId: project.id }, query: { unlabeled: true, limit: 1000 } },
        }),
      ),
  });
  const filenames = new Map(unlabeled.data?.items.map((image) => [image.id, image.filename]));

  const items = suggestions.data?.items ?? [];
  const chosen = items.filter((item) => selected.has(item.imageId));
  const settle = async (message: string) => {
    setSelected(new Set());
    setOutcome(message);
    await Promise.all([refresh(), refreshImages()]);
  };
  const accept = useMutation({
    mutationFn: async (batch: Suggestion[]) =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/suggestions/accept', {
          params: { path },
          body: {
            items: batch.map((item) =>
              edits[item.imageId] ? { imageId: item.imageId, label: edits[item.imageId] } : { imageId: item.imageId },
            ),
          },
        }),
      ),
    onSuccess: async (result) => {
      const failures = result.items.filter((item) => item.error).map((item) => item.error!.message);
      await settle(
        `${result.accepted} accepted${result.failed ? `, ${result.failed} failed: ${failures.join('; ')}` : ''}.`,
      );
    },
  });
  const reject = useMutation({
    mutationFn: async (batch: Suggestion[]) =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/suggestions/reject', {
          params: { path },
          body: { imageIds: batch.map((item) => item.imageId) },
        }),
      ),
    onSuccess: (result) => settle(`${result.rejected} rejected.`),
  });
  const busy = accept.isPending || reject.isPending;
  return (
    <div className="card">
      <div className="toolbar">
        <button
          type="button"
          className="primary"
          onClick={() => request.mutate()}
          disabled={request.isPending || run.data?.status === 'requested'}
        >
          Suggest labels for unlabeled images
        </button>
        {run.data && (
          <span role="status">
            {run.data.status === 'requested'
              ? `Predicting ${run.data.imageCount} images…`
              : run.data.status === 'completed'
                ? `${run.data.suggestedCount ?? 0} of ${run.data.imageCount} images got suggestions.`
                : `The run failed: ${(run.data.error as { message?: string } | undefined)?.message ?? 'see the server log'}`}
          </span>
        )}
      </div>
      <ErrorMessage error={request.error} />
      <div className="filters" role="group" aria-label="Filter suggestions">
        <label>
          Probability from
          <input
            type="number"
            min={0}
            max={1}
            step={0.05}
            value={range.min}
            onChange={(event) => setRange({ ...range, min: event.target.value })}
          />
        </label>
        <label>
          to
          <input
            type="number"
            min={0}
            max={1}
            step={0.05}
            value={range.max}
            onChange={(event) => setRange({ ...range, max: event.target.value })}
          />
        </label>
        <button
          type="button"
          onClick={() => setSelected(new Set(items.map((item) => item.imageId)))}
          disabled={items.length === 0}
        >
          Select all
        </button>
        <button type="button" onClick={() => accept.mutate(chosen)} disabled={busy || chosen.length === 0}>
          Accept selected ({chosen.length})
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => reject.mutate(chosen)}
          disabled={busy || chosen.length === 0}
        >
          Reject selected ({chosen.length})
        </button>
      </div>
      {outcome && <p role="status">{outcome}</p>}
      <ErrorMessage error={suggestions.error ?? accept.error ?? reject.error} />
      {suggestions.data && items.length === 0 && (
        <p className="hint">
          No pending suggestion{range.min || range.max ? ' in this probability range' : ''}: ask for suggestions above.
        </p>
      )}
      <ul className="suggestions" aria-label="Suggestions">
        {items.map((item) => (
          <SuggestionCard
            key={item.imageId}
            project={project}
            filename={filenames.get(item.imageId) ?? `image ${item.imageId.slice(0, 8)}`}
            suggestion={item}
            selected={selected.has(item.imageId)}
            onToggle={() => toggle(item.imageId)}
            edit={edits[item.imageId] ?? ''}
            onEdit={(label) => setEdits({ ...edits, [item.imageId]: label })}
          />
        ))}
      </ul>
    </div>
  );
}

function SuggestionCard({
  project,
  filename,
  suggestion,
  selected,
  onToggle,
  edit,
  onEdit,
}: {
  project: Project;
  filename: string;
  suggestion: Suggestion;
  selected: boolean;
  onToggle: () => void;
  edit: string;
  onEdit: (label: string) => void;
}) {
  const top = suggestion.predictions[0];
  const name = `${filename}: ${top ? `${top.label ?? 'removed label'} ${percent(top.probability)}` : 'nothing found'}`;
  const thumbnail = <AuthenticatedImage path={thumbnailPath(project.id, suggestion.imageId, 128)} alt="" />;
  return (
    <li className={selected ? 'selected' : ''} aria-label={name}>
      <label className="choice">
        <input type="checkbox" checked={selected} onChange={onToggle} />
        {filename}
      </label>
      <Link href={`/projects/${project.id}/images/${suggestion.imageId}`} aria-label="Open the image">
        {project.type === 'detection' ? (
          <BoxesOverlay
            className="small"
            predicted={suggestion.predictions
              .filter((prediction) => prediction.box)
              .map((prediction) => ({
                label: prediction.label ?? '?',
                probability: prediction.probability,
                ...prediction.box!,
              }))}
          >
            {thumbnail}
          </BoxesOverlay>
        ) : (
          thumbnail
        )}
      </Link>
      <ol aria-label="Probabilities">
        {suggestion.predictions.slice(0, 3).map((prediction, index) => (
          <li key={index}>
            {prediction.label ?? 'removed label'}: {percent(prediction.probability)}
          </li>
        ))}
      </ol>
      {project.type === 'classification' && (
        <label>
          Accept as
          <select value={edit} onChange={(event) => onEdit(event.target.value)}>
            <option value="">{top?.label ?? '–'} (suggested)</option>
            {project.labels.map((label) => (
              <option key={label.id} value={label.name}>
                {label.name}
              </option>
            ))}
          </select>
        </label>
      )}
    </li>
  );
}
