import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Project, type Region, type Schemas, unwrap } from '../api/client';
import { useRefreshImages } from '../api/images';
import { AuthenticatedImage } from '../components/authenticated-image';
import { BoxCorrection, withoutKey } from '../components/box-correction';
import { BoxesOverlay } from '../components/boxes-overlay';
import { BoxLegend } from '../components/label-colours';
import { ErrorMessage } from '../components/error-message';
import { Link, useLocation } from '../router';
import { useSelection } from '../components/use-selection';
import { LabelChoices } from '../components/label-choices';
import { LabelOptions } from '../components/label-options';
import { Loading } from '../components/loading';
import { fraction, percent, PercentInput } from '../components/percent';

type StoredPrediction = Schemas['StoredPredictionDto'];

/** The API's default: promoting keeps the predicted boxes at least this probable. */
const PROMOTED_BOX_PROBABILITY = 0.5;
/** Multilabel: the labels a stored prediction is added to the dataset with, as the API takes them (≥ 50%). */
const PROMOTED_LABEL_PROBABILITY = 0.5;

/**
 * The label a stored result means, by its name today: a label renamed since the prediction is shown and promoted
 * under its new name (the name it was predicted under is kept for a label removed since).
 */
const currentName = (project: Project, item: StoredPrediction['predictions'][number]): string =>
  item.labelId ? labelName(project, item.labelId) : item.label;

/** Multilabel: the label names promoting the prediction would give the image, unless corrected. */
const predictedLabels = (project: Project, prediction: StoredPrediction): string[] =>
  prediction.predictions
    .filter((item) => item.probability >= PROMOTED_LABEL_PROBABILITY)
    .map((item) => currentName(project, item));

/** Detection: the boxes promoting the prediction would write, as editable regions (labels by name). */
const predictedRegions = (project: Project, prediction: StoredPrediction): Region[] =>
  prediction.predictions
    .filter((item) => item.box && item.probability >= PROMOTED_BOX_PROBABILITY)
    .map((item) => ({ label: currentName(project, item), ...item.box! }));

interface Filter {
  deploymentId: string;
  label: string;
  minProbability: string;
  maxProbability: string;
  from: string;
  to: string;
}

/** `datetime-local` values are local times without a zone; the API wants an instant. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

/**
 * The photos deployments stored with their predictions (Custom Vision's "Predictions" tab): filter them, add the
 * useful ones to the dataset with the right label, delete the rest.
 */
export function PredictionsPage({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const refreshImages = useRefreshImages(project.id);
  const { search } = useLocation();
  const [filter, setFilter] = useState<Filter>({
    deploymentId: search.get('deployment') ?? '',
    label: '',
    minProbability: '',
    maxProbability: '',
    from: '',
    to: '',
  });
  const { selected, setSelected, toggle } = useSelection();
  const [promoteAs, setPromoteAs] = useState('');
  const [split, setSplit] = useState<'train' | 'test'>('train');
  const [outcome, setOutcome] = useState<string | null>(null);
  const [boxEdits, setBoxEdits] = useState<Record<string, Region[]>>({});
  // Multilabel: the label names ticked by hand on a card, instead of those predicted from 50%.
  const [labelEdits, setLabelEdits] = useState<Record<string, string[]>>({});
  const [reviewing, setReviewing] = useState<string | null>(null);
  const deployments = useQuery({
    queryKey: ['deployments', project.id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/projects/{projectId}/deployments', { params: { path: { projectId: project.id } } })),
  });
  const query = {
    limit: 200,
    deploymentId: filter.deploymentId || undefined,
    label: filter.label || undefined,
    minProbability: filter.minProbability === '' ? undefined : fraction(filter.minProbability),
    maxProbability: filter.maxProbability === '' ? undefined : fraction(filter.maxProbability),
    from: instant(filter.from),
    to: instant(filter.to),
  };
  const predictions = useQuery({
    queryKey: ['stored-predictions', project.id, query],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/predictions', { params: { path: { projectId: project.id }, query } }),
      ),
  });
  const items = predictions.data?.items ?? [];
  const chosen = items.filter((item) => selected.has(item.id));
  const settle = async (message: string) => {
    setSelected(new Set());
    setOutcome(message);
    await queryClient.invalidateQueries({ queryKey: ['stored-predictions', project.id] });
  };
  const promote = useMutation({
    mutationFn: async (batch: StoredPrediction[]) =>
      unwrap(
        await api.POST('/v1/projects/{projectId}/predictions/promote', {
          params: { path: { projectId: project.id } },
          body: {
            items: batch.map((item) => ({
              predictionId: item.id,
              split,
              ...(promoteAs && project.type === 'classification' ? { label: promoteAs } : {}),
              ...(boxEdits[item.id] && project.type === 'detection' ? { regions: boxEdits[item.id] } : {}),
              ...(labelEdits[item.id] && project.type === 'multilabel' ? { labels: labelEdits[item.id] } : {}),
            })),
          },
        }),
      ),
    onSuccess: async (result) => {
      const created = result.items.filter((item) => item.status === 'created').length;
      const duplicates = result.items.filter((item) => item.status === 'duplicate').length;
      const rejected = result.items.filter((item) => item.status === 'rejected');
      await refreshImages();
      await settle(
        `${created} added to the dataset${duplicates ? `, ${duplicates} already in it` : ''}${rejected.length ? `, ${rejected.length} refused: ${rejected.map((item) => item.error?.message).join('; ')}` : ''}.`,
      );
    },
  });
  const remove = useMutation({
    mutationFn: async (batch: StoredPrediction[]) => {
      for (const item of batch) {
        unwrap(
          await api.DELETE('/v1/projects/{projectId}/predictions/{predictionId}', {
            params: { path: { projectId: project.id, predictionId: item.id } },
          }),
        );
      }
      return batch.length;
    },
    onSuccess: (count) => settle(`${count} deleted.`),
    onError: () => queryClient.invalidateQueries({ queryKey: ['stored-predictions', project.id] }),
  });
  const set = (change: Partial<Filter>) => {
    setSelected(new Set());
    setFilter({ ...filter, ...change });
  };
  const busy = promote.isPending || remove.isPending;
  const underReview = items.find((item) => item.id === reviewing);
  const photoName = (item: StoredPrediction) => `the photo of ${new Date(item.storedAt).toLocaleString()}`;
  const filtered = Object.values(filter).some(Boolean);
  // Filters and batch actions over nothing at all are noise: the empty state below says how photos get here.
  const nothingStored = predictions.data && items.length === 0 && !filtered;
  return (
    <section>
      {/* With nothing stored, the empty list below says the same and what to do: said once. */}
      {!nothingStored && (
        <p className="hint">
          Photos sent to deployments whose prediction store is on (turn it on under{' '}
          <Link href={`/projects/${project.id}/deploy`}>Deploy</Link>), with what the model answered.
        </p>
      )}
      <div className="filters" role="group" aria-label="Filter predictions" hidden={nothingStored}>
        <label>
          Deployment
          <select value={filter.deploymentId} onChange={(event) => set({ deploymentId: event.target.value })}>
            <option value="">all</option>
            {deployments.data?.items.map((deployment) => (
              <option key={deployment.id} value={deployment.id}>
                {deployment.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Predicted label
          <select value={filter.label} onChange={(event) => set({ label: event.target.value })}>
            <option value="">any (top prediction)</option>
            <LabelOptions labels={project.labels} by="name" />
          </select>
        </label>
        <label>
          Probability from
          <PercentInput value={filter.minProbability} onChange={(minProbability) => set({ minProbability })} />
        </label>
        <label>
          to
          <PercentInput value={filter.maxProbability} onChange={(maxProbability) => set({ maxProbability })} />
        </label>
        <label>
          Stored after
          <input type="datetime-local" value={filter.from} onChange={(event) => set({ from: event.target.value })} />
        </label>
        <label>
          before
          <input type="datetime-local" value={filter.to} onChange={(event) => set({ to: event.target.value })} />
        </label>
      </div>
      <div className="toolbar" role="group" aria-label="Selected predictions" hidden={nothingStored}>
        <button
          type="button"
          onClick={() => setSelected(new Set(items.map((item) => item.id)))}
          disabled={items.length === 0}
        >
          Select all
        </button>
        {project.type === 'classification' && (
          <label>
            Add with the label
            <select value={promoteAs} onChange={(event) => setPromoteAs(event.target.value)}>
              <option value="">each one's top prediction</option>
              <LabelOptions labels={project.labels} by="name" />
            </select>
          </label>
        )}
        <label>
          to the split
          <select value={split} onChange={(event) => setSplit(event.target.value as 'train' | 'test')}>
            <option value="train">train</option>
            <option value="test">test</option>
          </select>
        </label>
        <button
          type="button"
          className="primary"
          onClick={() => promote.mutate(chosen)}
          disabled={busy || chosen.length === 0}
        >
          Add {chosen.length} to the dataset
        </button>
        <button
          type="button"
          className="danger"
          onClick={() => remove.mutate(chosen)}
          disabled={busy || chosen.length === 0}
        >
          Delete {chosen.length}
        </button>
      </div>
      {outcome && <p role="status">{outcome}</p>}
      <ErrorMessage error={predictions.error ?? deployments.error ?? promote.error ?? remove.error} />
      {underReview && (
        <BoxCorrection
          key={underReview.id}
          title={`Boxes of ${photoName(underReview)}`}
          path={underReview.imageUrl}
          alt={photoName(underReview)}
          labels={project.labels}
          regions={boxEdits[underReview.id] ?? predictedRegions(project, underReview)}
          onChange={(regions) => setBoxEdits({ ...boxEdits, [underReview.id]: regions })}
          onReset={boxEdits[underReview.id] ? () => setBoxEdits(withoutKey(boxEdits, underReview.id)) : null}
          onClose={() => setReviewing(null)}
        >
          <button
            type="button"
            className="primary"
            onClick={() => promote.mutate([underReview])}
            disabled={busy || underReview.promotedImageId !== null}
          >
            Add to the dataset with these boxes
          </button>
        </BoxCorrection>
      )}
      {predictions.isPending && <Loading what="the stored predictions" />}
      {predictions.data && items.length === 0 && (
        <p className="hint">
          {filtered ? (
            'No stored prediction matches: widen or clear the filters above.'
          ) : (
            <>
              No stored prediction yet. Turn on a deployment's prediction store under{' '}
              <Link href={`/projects/${project.id}/deploy`}>Deploy</Link>: the photos sent to it appear here.
            </>
          )}
        </p>
      )}
      {project.type === 'detection' && (
        <BoxLegend
          labels={items.flatMap((item) =>
            boxEdits[item.id]
              ? boxEdits[item.id].map((box) => labelName(project, box.label))
              : predictedRegions(project, item).map((region) => region.label),
          )}
        />
      )}
      <ul className="stored-predictions" aria-label="Stored predictions">
        {items.map((item) => (
          <StoredPredictionCard
            key={item.id}
            project={project}
            prediction={item}
            selected={selected.has(item.id)}
            onToggle={() => toggle(item.id)}
            correctedBoxes={boxEdits[item.id]}
            onReview={() => setReviewing(item.id)}
            labels={labelEdits[item.id] ?? predictedLabels(project, item)}
            onEditLabels={(labels) => setLabelEdits({ ...labelEdits, [item.id]: labels })}
          />
        ))}
      </ul>
    </section>
  );
}

/** A corrected box names its label by id; boxes are drawn and listed by name. */
const labelName = (project: Project, id: string) => project.labels.find((label) => label.id === id)?.name ?? id;

function StoredPredictionCard({
  project,
  prediction,
  selected,
  onToggle,
  correctedBoxes,
  onReview,
  labels,
  onEditLabels,
}: {
  project: Project;
  prediction: StoredPrediction;
  selected: boolean;
  onToggle: () => void;
  /** Detection: the boxes corrected before promoting, if any. */
  correctedBoxes: Region[] | undefined;
  onReview: () => void;
  /** Multilabel: the label names adding it to the dataset would give the image. */
  labels: string[];
  onEditLabels: (labels: string[]) => void;
}) {
  const top = prediction.predictions[0];
  const stored = new Date(prediction.storedAt).toLocaleString();
  const multilabel = project.type === 'multilabel';
  // A multilabel model gives every label from 50%, as adding it to the dataset would keep them.
  const given = prediction.predictions.filter((item) => item.probability >= PROMOTED_LABEL_PROBABILITY);
  const summary = multilabel
    ? given.map((item) => `${currentName(project, item)} ${percent(item.probability)}`).join(', ') ||
      'no label from 50%'
    : top
      ? `${currentName(project, top)} ${percent(top.probability)}`
      : 'nothing found';
  // What adding it to the dataset would keep: a low threshold asked of the deployment can give dozens more.
  const boxes = prediction.predictions
    .filter((item) => item.box && item.probability >= PROMOTED_BOX_PROBABILITY)
    .map((item) => ({ label: currentName(project, item), probability: item.probability, ...item.box! }));
  return (
    <li className={selected ? 'selected' : ''} aria-label={`Prediction of ${stored}: ${summary}`}>
      <label className="choice">
        <input type="checkbox" checked={selected} onChange={onToggle} />
        <time dateTime={prediction.storedAt}>{stored}</time>
      </label>
      {project.type === 'detection' ? (
        <BoxesOverlay
          className="small"
          predicted={correctedBoxes ? [] : boxes}
          expected={correctedBoxes?.map((box) => ({ ...box, label: labelName(project, box.label) }))}
        >
          <AuthenticatedImage path={prediction.imageUrl} alt="The photo sent" />
        </BoxesOverlay>
      ) : (
        <AuthenticatedImage path={prediction.imageUrl} alt="The photo sent" className="stored-photo" />
      )}
      <ol aria-label="Probabilities">
        {prediction.predictions.slice(0, multilabel ? Math.max(3, given.length) : 3).map((item, index) => (
          <li key={index}>
            {currentName(project, item)}: {percent(item.probability)}
            {multilabel && item.probability >= PROMOTED_LABEL_PROBABILITY && ' ✓'}
          </li>
        ))}
      </ol>
      {project.type === 'detection' && !prediction.promotedImageId && (
        <p>
          {correctedBoxes && (
            <span className="badge">
              {correctedBoxes.length} corrected box{correctedBoxes.length === 1 ? '' : 'es'}
            </span>
          )}{' '}
          <button type="button" onClick={onReview} aria-label={`Correct boxes of the photo of ${stored}`}>
            Correct boxes
          </button>
        </p>
      )}
      {multilabel && !prediction.promotedImageId && (
        <LabelChoices legend="Add with" labels={project.labels} chosen={labels} onChange={onEditLabels} />
      )}
      {prediction.promotedImageId && (
        <Link href={`/projects/${project.id}/images/${prediction.promotedImageId}`} className="badge">
          in the dataset
        </Link>
      )}
    </li>
  );
}
