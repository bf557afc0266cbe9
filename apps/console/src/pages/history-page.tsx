import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { api, type Project, unwrap } from '../api/client';
import { useImages } from '../api/images';
import { AuthenticatedImage, thumbnailPath } from '../components/authenticated-image';
import { ErrorMessage } from '../components/error-message';
import { Loading } from '../components/loading';
import { describeHistory, isSystemFollowUp, sameRequest } from '../components/event-sentences';

/** The project's events, newest page last, with filters, and the dataset as it was at any of them. */
export function HistoryPage({ project }: { project: Project }) {
  const [type, setType] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [causedBy, setCausedBy] = useState<'' | 'me' | 'system'>('');
  const [asOf, setAsOf] = useState<number | null>(null);
  const me = useQuery({
    queryKey: ['me'],
    queryFn: async () => unwrap(await api.GET('/v1/users/me')),
    staleTime: Infinity,
  });
  const user = causedBy === 'me' ? me.data?.id : causedBy || undefined;
  const history = useInfiniteQuery({
    queryKey: ['history', project.id, type, from, to, user],
    enabled: causedBy !== 'me' || me.data !== undefined,
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
              user,
            },
          },
        }),
      ),
    getNextPageParam: (page) => (page.nextCursor ? Number(page.nextCursor) : undefined),
  });
  const entries = useMemo(() => history.data?.pages.flatMap((page) => page.items) ?? [], [history.data]);
  // Every type seen, filtered or not: the field keeps suggesting them when a type typed matches nothing.
  const [knownTypes, setKnownTypes] = useState<string[]>([]);
  useEffect(() => {
    setKnownTypes((known) => {
      const added = [...new Set(entries.map((entry) => entry.type))].filter((name) => !known.includes(name));
      return added.length > 0 ? [...known, ...added] : known;
    });
  }, [entries]);
  const described = useMemo(() => describeHistory(entries), [entries]);
  // A page can end in the middle of a request: its sentences ('Uploaded 32 images' of 40) wait for Load more,
  // unless they are all the page holds.
  const lastEntry = entries.at(-1);
  const finished =
    history.hasNextPage && lastEntry ? described.filter((group) => !sameRequest(group.entries[0], lastEntry)) : [];
  const groups = finished.length > 0 ? finished : described;
  const now = useNow();
  return (
    <section>
      <div className="filters" role="group" aria-label="Filter events">
        <label>
          Event type
          <input
            value={type}
            onChange={(event) => setType(event.target.value)}
            placeholder="ImageLabeled"
            list="event-types"
          />
        </label>
        <datalist id="event-types">
          {knownTypes.map((name) => (
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
        <label>
          Caused by
          <select value={causedBy} onChange={(event) => setCausedBy(event.target.value as typeof causedBy)}>
            <option value="">anyone</option>
            <option value="me">you{me.data ? ` (${me.data.username})` : ''}</option>
            <option value="system">the system on its own</option>
          </select>
        </label>
      </div>
      <ErrorMessage error={history.error ?? me.error} />
      {history.isPending && <Loading what="the history" />}
      {history.data && entries.length === 0 && (
        <p className="hint">
          {type && !knownTypes.includes(type)
            ? `No event of type “${type}”: a type is a whole name, such as ${knownTypes[0] ?? 'ImageLabeled'}; choose one from the field's suggestions.`
            : 'No event matches these filters.'}
        </p>
      )}
      <div className="history-layout">
        <ol className="timeline" aria-label="Events">
          {groups.map(({ entries: events, sentence }) => {
            const [first, last] = [events[0], events[events.length - 1]];
            return (
              <li key={first.position}>
                <span className="sentence">{sentence}</span>
                <span className="actor">
                  {isSystemFollowUp(first) ? 'by the system' : actorOf(first.metadata.userId, me.data)}
                </span>
                <time dateTime={first.metadata.at}>
                  {relativeTime(first.metadata.at, now)} · {new Date(first.metadata.at).toLocaleString()}
                </time>
                <button type="button" className="link" onClick={() => setAsOf(last.position)}>
                  Dataset as of here
                </button>
                <details className="raw-events">
                  <summary>{events.length === 1 ? 'Raw event' : `${events.length} raw events`}</summary>
                  <ul aria-label="Raw events">
                    {events.map((event) => (
                      <li key={event.position}>
                        <code>
                          {event.type} v{event.v}
                        </code>{' '}
                        at position {event.position} of stream <code>{event.stream}</code>, request{' '}
                        <code>{event.metadata.correlationId}</code>
                        <pre>{JSON.stringify(event.data, null, 2)}</pre>
                      </li>
                    ))}
                  </ul>
                </details>
              </li>
            );
          })}
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

function actorOf(userId: string | null, me: { id: string; username: string } | undefined): string {
  if (userId === null) return 'by the system';
  return userId === me?.id ? `by ${me.username}` : `by user ${userId.slice(0, 8)}`;
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
];

/** '5 minutes ago', 'yesterday', 'just now'. */
function relativeTime(at: string, now: number): string {
  const seconds = (new Date(at).getTime() - now) / 1000;
  const [unit, size] = UNITS.find(([, size]) => Math.abs(seconds) >= size) ?? [];
  return unit && size ? RELATIVE.format(Math.round(seconds / size), unit) : 'just now';
}

/** The time now, once a minute: relative times stay true while the page is open. */
function useNow(): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, []);
  return now;
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
            <span>
              {(image.labels.map((label) => label.name).join(', ') || null) ??
                (image.regions.length ? `${image.regions.length} boxes` : 'unlabeled')}
            </span>
          </li>
        ))}
      </ul>
    </aside>
  );
}
