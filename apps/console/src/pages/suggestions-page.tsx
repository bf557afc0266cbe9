import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { api, type Project, type Region, type Schemas, unwrap } from '../api/client';
import { useRefreshImages } from '../api/images';
import { AuthenticatedImage, contentPath, thumbnailPath } from '../components/authenticated-image';
import { BoxCorrection, withoutKey } from '../components/box-correction';
import { BoxesOverlay } from '../components/boxes-overlay';
import { ErrorMessage } from '../components/error-message';
import { BoxLegend } from '../components/label-colours';
import { Link } from '../router';
import { useSelection } from '../components/use-selection';
import { LabelChoices } from '../components/label-choices';
import { LabelOptions } from '../components/label-options';
import { Loading } from '../components/loading';
import { IterationOptions } from '../components/iteration-options';
import { fraction, percent, PercentInput } from '../components/percent';

type Suggestion = Schemas['LabelSuggestionDto'];
type SuggestionRun = Schemas['SuggestionRunDto'];

const SHOWN = 500;
/** The API's default, in percent: suggested boxes (multilabel: labels) at least this probable are accepted. */
const DEFAULT_BOX_PERCENT = '50';

/** Multilabel: the labels a suggestion gives at this probability, as accepting it takes them. */
const suggestedLabels = (suggestion: Suggestion, minProbability: number): string[] =>
  suggestion.predictions
    .filter((prediction) => prediction.label !== null && prediction.probability >= minProbability)
    .map((prediction) => prediction.label!);

/** Detection: the boxes accepting the suggestion would keep, as editable regions (labels by id). */
const suggestedRegions = (suggestion: Suggestion, minProbability: number): Region[] =>
  suggestion.predictions
    .filter((prediction) => prediction.box && prediction.label !== null && prediction.probability >= minProbability)
    .map((prediction) => ({ label: prediction.labelId, ...prediction.box! }));

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
        {iterations.isPending ? (
          <Loading what="the iterations" />
        ) : iterations.data && completed.length === 0 ? (
          <p className="hint">
            No completed iteration yet: <Link href={`/projects/${project.id}/train`}>train one</Link> first.
          </p>
        ) : (
          <label>
            Suggest with
            <select value={iterationId} onChange={(event) => setChosen(event.target.value)}>
              <IterationOptions iterations={completed} />
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
  const [boxEdits, setBoxEdits] = useState<Record<string, Region[]>>({});
  const [reviewing, setReviewing] = useState<string | null>(null);
  const [minBox, setMinBox] = useState(DEFAULT_BOX_PERCENT);
  const boxThreshold = fraction(minBox === '' ? DEFAULT_BOX_PERCENT : minBox);
  const detection = project.type === 'detection';
  const multilabel = project.type === 'multilabel';
  // Multilabel: the label names ticked by hand on a card, instead of those suggested from the threshold.
  const [labelEdits, setLabelEdits] = useState<Record<string, string[]>>({});
  const [outcome, setOutcome] = useState<string | null>(null);
  const query = {
    limit: SHOWN,
    ...(range.min === '' ? {} : { minProbability: fraction(range.min) }),
    ...(range.max === '' ? {} : { maxProbability: fraction(range.max) }),
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
  // How many images are left to suggest for: with none, suggesting is no longer the next step.
  const analysis = useQuery({
    queryKey: ['analysis', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/analysis', { params: { path: { projectId: project.id } } })),
  });
  const nothingUnlabeled = analysis.data?.unlabeledCount === 0;
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ['suggestions', project.id, iterationId] }),
      queryClient.invalidateQueries({ queryKey: ['analysis', project.id] }),
    ]);
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
  const items = suggestions.data?.items ?? [];
  const chosen = items.filter((item) => selected.has(item.imageId));
  const settle = async (message: string) => {
    setSelected(new Set());
    setOutcome(message);
    await Promise.all([refresh(), refreshImages()]);
  };
  const edited = (item: Suggestion) =>
    detection
      ? boxEdits[item.imageId] && { imageId: item.imageId, regions: boxEdits[item.imageId] }
      : multilabel
        ? labelEdits[item.imageId] && { imageId: item.imageId, labels: labelEdits[item.imageId] }
        : edits[item.imageId] && { imageId: item.imageId, label: edits[item.imageId] };
  const accept = useMutation({
    mutationFn: async (batch: Suggestion[]) =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/iterations/{iterationId}/suggestions/accept', {
          params: { path },
          body: {
            items: batch.map((item) => edited(item) || { imageId: item.imageId }),
            ...(detection || multilabel ? { minProbability: boxThreshold } : {}),
          },
        }),
      ),
    onSuccess: async (result, batch) => {
      // Each reason ends in a period: joined, the sentence ends in one, not two.
      const failures = result.items.filter((item) => item.error).map((item) => item.error!.message.replace(/\.$/, ''));
      // Reviewing one photo's boxes goes on with the next suggestion, as labeling one image goes on with the next.
      const reviewed = batch.length === 1 && batch[0].imageId === reviewing;
      const next = reviewed
        ? (items[items.findIndex((item) => item.imageId === reviewing) + 1] ??
          items.find((item) => item.imageId !== reviewing))
        : undefined;
      await settle(
        `${result.accepted} accepted${result.failed ? `, ${result.failed} failed: ${failures.join('; ')}` : ''}.`,
      );
      if (reviewed && result.accepted === 1) setReviewing(next?.imageId ?? null);
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
  const underReview = items.find((item) => item.imageId === reviewing);
  const nameOf = (item: Suggestion) => item.filename ?? `image ${item.imageId.slice(0, 8)}`;
  const labelName = (id: string) => project.labels.find((label) => label.id === id)?.name ?? id;
  return (
    <div className="card">
      <div className="toolbar">
        <button
          type="button"
          className={nothingUnlabeled ? undefined : 'primary'}
          onClick={() => request.mutate()}
          disabled={request.isPending || run.data?.status === 'requested'}
        >
          Suggest labels for unlabeled images
        </button>
        {nothingUnlabeled && (
          <span className="hint">
            Every image has a label: <Link href={`/projects/${project.id}/dataset`}>upload photos</Link> without one to
            get suggestions.
          </span>
        )}
        {run.data && (
          <span role="status">
            {run.data.status === 'requested'
              ? `Predicting ${run.data.imageCount} images…`
              : run.data.status === 'completed'
                ? `${run.data.suggestedCount ?? 0} of ${run.data.imageCount} images got suggestions.`
                : `The run failed: ${run.data.error?.reason ?? 'see the server log'}`}
          </span>
        )}
      </div>
      <ErrorMessage error={request.error} />
      {/* Nothing to filter, select, accept or reject yet: no row of disabled buttons; a range typed stays to be cleared. */}
      {(items.length > 0 || range.min !== '' || range.max !== '') && (
        <div className="filters" role="group" aria-label="Filter suggestions">
          <label>
            Probability from
            <PercentInput value={range.min} onChange={(min) => setRange({ ...range, min })} />
          </label>
          <label>
            to
            <PercentInput value={range.max} onChange={(max) => setRange({ ...range, max })} />
          </label>
          {(detection || multilabel) && (
            <label>
              Accept {detection ? 'boxes' : 'labels'} at least this probable
              <PercentInput value={minBox} onChange={setMinBox} />
            </label>
          )}
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
      )}
      {outcome && <p role="status">{outcome}</p>}
      <ErrorMessage error={suggestions.error ?? accept.error ?? reject.error} />
      {underReview && (
        <BoxCorrection
          key={underReview.imageId}
          title={`Boxes of ${nameOf(underReview)}`}
          path={contentPath(project.id, underReview.imageId)}
          alt={nameOf(underReview)}
          labels={project.labels}
          regions={boxEdits[underReview.imageId] ?? suggestedRegions(underReview, boxThreshold)}
          onChange={(regions) => setBoxEdits({ ...boxEdits, [underReview.imageId]: regions })}
          onReset={boxEdits[underReview.imageId] ? () => setBoxEdits(withoutKey(boxEdits, underReview.imageId)) : null}
          onClose={() => setReviewing(null)}
        >
          <button type="button" className="primary" onClick={() => accept.mutate([underReview])} disabled={busy}>
            Accept these boxes and review the next
          </button>
        </BoxCorrection>
      )}
      {suggestions.isPending && <Loading what="the suggestions" />}
      {/* Nothing unlabeled: the button's hint says to upload photos; asking for suggestions would bring none. */}
      {suggestions.data && items.length === 0 && !nothingUnlabeled && (
        <p className="hint">
          No pending suggestion{range.min || range.max ? ' in this probability range' : ''}: ask for suggestions above.
        </p>
      )}
      {detection && (
        <BoxLegend
          labels={items.flatMap((item) =>
            (boxEdits[item.imageId] ?? suggestedRegions(item, boxThreshold)).map((box) => labelName(box.label)),
          )}
        />
      )}
      <ul className="suggestions" aria-label="Suggestions">
        {items.map((item) => (
          <SuggestionCard
            key={item.imageId}
            project={project}
            filename={nameOf(item)}
            suggestion={item}
            selected={selected.has(item.imageId)}
            onToggle={() => toggle(item.imageId)}
            edit={edits[item.imageId] ?? ''}
            onEdit={(label) => setEdits({ ...edits, [item.imageId]: label })}
            boxes={boxEdits[item.imageId] ?? suggestedRegions(item, boxThreshold)}
            boxesEdited={item.imageId in boxEdits}
            onReview={() => setReviewing(item.imageId)}
            onAccept={() => accept.mutate([item])}
            busy={busy}
            labels={labelEdits[item.imageId] ?? suggestedLabels(item, boxThreshold)}
            onEditLabels={(labels) => setLabelEdits({ ...labelEdits, [item.imageId]: labels })}
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
  boxes,
  boxesEdited,
  onReview,
  onAccept,
  busy,
  labels,
  onEditLabels,
}: {
  project: Project;
  filename: string;
  suggestion: Suggestion;
  selected: boolean;
  onToggle: () => void;
  edit: string;
  onEdit: (label: string) => void;
  /** Detection: the boxes accepting would write. */
  boxes: Region[];
  boxesEdited: boolean;
  onReview: () => void;
  /** Accepts this suggestion alone, as the card shows it (its label, labels or boxes as corrected). */
  onAccept: () => void;
  busy: boolean;
  /** Multilabel: the label names accepting would give the image. */
  labels: string[];
  onEditLabels: (labels: string[]) => void;
}) {
  const top = suggestion.predictions[0];
  const multilabel = project.type === 'multilabel';
  const name = multilabel
    ? `${filename}: ${labels.join(', ') || 'no label'}`
    : `${filename}: ${top ? `${top.label ?? 'removed label'} ${percent(top.probability)}` : 'nothing found'}`;
  const suggestedName = `${top?.label ?? '–'} (suggested)`;
  const acceptAsId = useId();
  const labelName = (id: string) => project.labels.find((label) => label.id === id)?.name ?? id;
  const thumbnail = <AuthenticatedImage path={thumbnailPath(project.id, suggestion.imageId, 128)} alt="" lazy />;
  return (
    <li className={selected ? 'selected' : ''} aria-label={name}>
      <label className="choice">
        <input type="checkbox" checked={selected} onChange={onToggle} />
        {filename}
      </label>
      <Link href={`/projects/${project.id}/images/${suggestion.imageId}`} aria-label="Open the image">
        {project.type === 'detection' ? (
          <BoxesOverlay className="small" expected={boxes.map((box) => ({ ...box, label: labelName(box.label) }))}>
            {thumbnail}
          </BoxesOverlay>
        ) : (
          thumbnail
        )}
      </Link>
      <ol aria-label="Probabilities">
        {suggestion.predictions.slice(0, multilabel ? undefined : 3).map((prediction, index) => (
          <li key={index}>
            {prediction.label ?? 'removed label'}: {percent(prediction.probability)}
          </li>
        ))}
      </ol>
      {project.type === 'detection' && (
        <>
          <p className="box-count">
            {boxes.length} box{boxes.length === 1 ? '' : 'es'} to accept
            {boxesEdited && (
              <>
                {' '}
                <span className="badge">corrected</span>
              </>
            )}
          </p>
          <button type="button" className="card-action" onClick={onReview} aria-label={`Correct boxes of ${filename}`}>
            Correct boxes
          </button>
        </>
      )}
      {multilabel && (
        <LabelChoices legend="Accept with" labels={project.labels} chosen={labels} onChange={onEditLabels} />
      )}
      {project.type === 'classification' && (
        <div className="field">
          <label htmlFor={acceptAsId}>Accept as</label>
          {/* A card is narrow: the chosen name shows in full over as many lines as it needs, where a select would
              cut it (two long names alike would read the same); the select, see-through on top, does the choosing. */}
          <span className="wrapping-select">
            <span aria-hidden="true">{edit || suggestedName}</span>
            <select id={acceptAsId} value={edit} onChange={(event) => onEdit(event.target.value)}>
              <option value="">{suggestedName}</option>
              <LabelOptions labels={project.labels} by="name" />
            </select>
          </span>
        </div>
      )}
      {/* One suggestion is accepted with one click, without selecting it first; boxes first, for a detection. */}
      {(project.type !== 'detection' || boxes.length > 0) && (
        <button
          type="button"
          className="card-action"
          onClick={onAccept}
          disabled={busy}
          aria-label={`Accept ${filename}`}
        >
          Accept
        </button>
      )}
    </li>
  );
}
