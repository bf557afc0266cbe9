import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, type Project, unwrap } from '../api/client';
import { useImages } from '../api/images';
import { AuthenticatedImage, thumbnailPath } from '../components/authenticated-image';
import { ErrorMessage } from '../components/error-message';

/** The project's events, newest page last, with filters, and the dataset as it was at any of them. */
export function HistoryPage({ project }: { project: Project }) {
  const [type, setType] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [asOf, setAsOf] = useState<number | null>(null);
  const history = useInfiniteQuery({
    queryKey: ['history', project.id, type, from, to],
    initialPageParam: undefined as number | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/v1/projects/{projectId}/history', {
          params: {
            path: { projectId: project.id },
            query: {
              after: pageParam,
              limit: 100,
              type: type || undefined,
              from: from ? new Date(from).toISOString() : undefined,
              to: to ? new Date(to).toISOString() : undefined,
            },
          },
        }),
      ),
    getNextPageParam: (page) => (page.nextCursor ? Number(page.nextCursor) : undefined),
  });
  const entries = history.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section>
      <div className="filters" role="group" aria-label="Filter events">
        <label>
          Event type
          <input value={type} onChange={(event) => setType(event.target.value)} placeholder="ImageLabeled" list="event-types" />
        </label>
        <datalist id="event-types">
          {[...new Set(entries.map((entry) => entry.type))].map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <label>
          From
          <input type="datetime-local" value={from} onChange={(event) => setFrom(event.target.value)} />
        </label>
        <label>
          To
          <input type="datetime-local" value={to} onChange={(event) => setTo(event.target.value)} />
        </label>
      </div>
      <ErrorMessage error={history.error} />
      <div className="history-layout">
        <ol className="timeline" aria-label="Events">
          {entries.map((entry) => (
            <li key={entry.position}>
              <time dateTime={entry.metadata.at}>{new Date(entry.metadata.at).toLocaleString()}</time>
              <strong>{entry.type}</strong>
              <span className="hint">{summarise(entry.data)}</span>
              <button type="button" className="link" onClick={() => setAsOf(entry.position)}>
                Dataset as of here
              </button>
            </li>
          ))}
        </ol>
        {history.hasNextPage && (
          <button type="button" onClick={() => void history.fetchNextPage()}>
            Load more
          </button>
        )}
        {asOf !== null && <DatasetAsOf project={project} position={asOf} />}
      </div>
    </section>
  );
}

function summarise(data: Record<string, unknown>): string {
  return Object.entries(data)
    .filter(([key, value]) => key !== 'projectId' && (typeof value === 'string' || typeof value === 'number'))
    .slice(0, 3)
    .map(([key, value]) => `${key}: ${value}`)
    .join(' · ');
}

function DatasetAsOf({ project, position }: { project: Project; position: number }) {
  const images = useImages(project.id, { asOf: String(position) });
  const items = images.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <aside className="card" aria-label="Dataset as of the chosen event">
      <h3>Dataset as of event {position}</h3>
      <ErrorMessage error={images.error} />
      <p>{items.length} images</p>
      <ul className="mini-grid">
        {items.slice(0, 60).map((image) => (
          <li key={image.id}>
            <AuthenticatedImage path={thumbnailPath(project.id, image.id, 64)} alt={image.filename} />
            <span>{image.label?.name ?? (image.regions.length ? `${image.regions.length} boxes` : 'unlabeled')}</span>
          </li>
        ))}
      </ul>
    </aside>
  );
}
