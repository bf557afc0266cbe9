import { useQuery } from '@tanstack/react-query';
import { api, type Project, type Schemas, unwrap } from '../api/client';
import { AuthenticatedImage, thumbnailPath } from './authenticated-image';
import { BoxesOverlay } from './boxes-overlay';
import { ErrorMessage } from './error-message';
import { BoxLegend } from './label-colours';
import { percent } from './percent';
import { plural } from './plural';

export type ImagePerformance = Schemas['ImagePerformanceDto'];

export interface ValidationFilter {
  /** Expected label name. */
  label?: string;
  /** Predicted label id, or 'none'. */
  predicted?: string;
  threshold: number;
  /** What the filter shows, in words, e.g. "cat predicted as dog". */
  title: string;
}

/** Images shown at once; the heading says how many there are in all. */
const SHOWN = 60;

/** The validation images an iteration's metrics were computed on, for one filter (e.g. a confusion-matrix cell). */
export function ValidationImages({
  project,
  iterationId,
  filter,
  onClose,
}: {
  project: Project;
  iterationId: string;
  filter: ValidationFilter;
  onClose: () => void;
}) {
  const path = { projectId: project.id, iterationId };
  const query = { label: filter.label, predicted: filter.predicted, threshold: filter.threshold };
  const images = useQuery({
    queryKey: ['image-performances', project.id, iterationId, query],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/image-performances', {
          params: { path, query: { ...query, limit: SHOWN } },
        }),
      ),
  });
  const count = useQuery({
    queryKey: ['image-performances-count', project.id, iterationId, query],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/iterations/{iterationId}/image-performances/count', {
          params: { path, query },
        }),
      ),
  });
  const items = images.data?.items ?? [];
  return (
    <section className="card" aria-label={`Validation images: ${filter.title}`}>
      <div className="toolbar">
        <h4>
          {filter.title}: {count.data ? plural(count.data.count, 'image') : '…'}
          {count.data && count.data.count > items.length && items.length > 0 ? ` (first ${items.length} shown)` : ''}
        </h4>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
      <ErrorMessage error={images.error ?? count.error} />
      {images.data && items.length === 0 && <p className="hint">No validation image falls here.</p>}
      {project.type === 'detection' && (
        <BoxLegend
          labels={items.flatMap((item) => [...item.expected, ...item.predictions].map((entry) => entry.label))}
        />
      )}
      <ul className="mini-grid predictions" aria-label="Validation images">
        {items.map((item) => (
          <li key={item.imageId} className={item.correct === false ? 'wrong' : ''}>
            <ValidationImage project={project} item={item} threshold={filter.threshold} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function ValidationImage({
  project,
  item,
  threshold,
}: {
  project: Project;
  item: ImagePerformance;
  threshold: number;
}) {
  const picture = <AuthenticatedImage path={thumbnailPath(project.id, item.imageId, 128)} alt={item.filename} />;
  if (project.type === 'detection') {
    const boxes = (list: { label: string; box?: Schemas['PerformanceBoxDto']; probability?: number }[]) =>
      list
        .filter((entry) => entry.box)
        .map((entry) => ({ label: entry.label, probability: entry.probability, ...entry.box! }));
    return (
      <>
        <BoxesOverlay className="small" expected={boxes(item.expected)} predicted={boxes(item.predictions)}>
          {picture}
        </BoxesOverlay>
        <span>{item.filename}</span>
        <span>
          {item.expected.length} labeled, {item.predictions.length} found at ≥ {percent(threshold, 0)}
        </span>
      </>
    );
  }
  if (project.type === 'multilabel') {
    const given = item.predictions.filter((prediction) => prediction.probability >= threshold);
    return (
      <>
        {picture}
        <span>{item.filename}</span>
        <span>labeled: {item.expected.map((entry) => entry.label).join(', ') || 'none'}</span>
        <span>
          predicted:{' '}
          {given.map((prediction) => `${prediction.label} (${percent(prediction.probability, 0)})`).join(', ') ||
            `nothing at ≥ ${percent(threshold, 0)}`}
        </span>
      </>
    );
  }
  const top = item.predictions[0];
  return (
    <>
      {picture}
      <span>{item.filename}</span>
      <span>
        {item.expected[0]?.label ?? '–'} →{' '}
        {item.predictedLabelId
          ? `${top.label} (${percent(top.probability, 0)})`
          : `nothing above the threshold (best: ${top.label} ${percent(top.probability, 0)})`}
      </span>
    </>
  );
}
