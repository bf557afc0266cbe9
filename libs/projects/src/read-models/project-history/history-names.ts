import type { ReadStore } from '@diyml/read-store';
import { PROJECT_HISTORY, type ProjectHistoryEntry } from './project-history.projection.js';

/**
 * What an event refers to by id, named as it was named when the event happened: a page filtered to ImageLabeled
 * events can then say "Labeled image-0.png blue" although the upload and the label's later rename are not on it.
 */
export interface HistoryNames {
  /** Label id → the label's name then. */
  labels: Record<string, string>;
  /** Image id → the file name it was uploaded with. */
  images: Record<string, string>;
  /** Iteration id → its number. */
  iterations: Record<string, number>;
  /** Deployment id → its name. */
  deployments: Record<string, string>;
}

type Kind = keyof HistoryNames;
const KINDS: readonly Kind[] = ['labels', 'images', 'iterations', 'deployments'];
/**
 * Keys naming a thing, by kind, anywhere in an event's data: a region's labelId inside `regions`, the imageIds of a
 * rejection, the images of a suggestion run, the iteration an accepted suggestion came from (`source.iterationId`).
 */
const KEYS: Record<Kind, ReadonlySet<string>> = {
  labels: new Set(['labelId', 'labelIds']),
  images: new Set(['imageId', 'imageIds']),
  iterations: new Set(['iterationId', 'reproducedFrom', 'baseIterationId']),
  deployments: new Set(['deploymentId']),
};
/**
 * Most images, iterations or deployments one entry names: its data's top-level ones first, then those nested, in
 * order. A suggestion run lists up to 1000 images, which a reader counts rather than reads one by one. Labels are
 * all named: they come from the project's label events, one query however many an entry mentions.
 */
export const MAX_NAMED_PER_ENTRY = 20;
/**
 * Most images, iterations or deployments of one kind a page looks up, in one query: one per entry, or this many for
 * a shorter page. Every entry's first id comes first, then every entry's second…: each entry of a page of
 * single-image events is named, and nested lists add at most what a page of this many entries costs. On PostgreSQL
 * a query's cost grows faster than its ids (200 image streams ~17 ms, 1000 ~180 ms at load 7).
 */
export const MIN_LOOKED_UP_PER_PAGE = 200;

type Data = Record<string, unknown>;
const isString = (value: unknown): value is string => typeof value === 'string';
/** A thing's names over time, in log order: the name from a position on. */
type Timeline<Name> = { position: number; name: Name }[];

/**
 * The names each entry's data refers to, as of the entry, read from the project's history index: the label names
 * from its LabelAdded and LabelRenamed events, an image's from its ImageUploaded, an iteration's number from its
 * IterationQueued or ModelImported, a deployment's name from its ModelDeployed. An id whose naming event is not in
 * the index (yet) is left out.
 */
export async function namesAsOfEntries(
  readStore: ReadStore,
  projectId: string,
  entries: readonly ProjectHistoryEntry[],
): Promise<HistoryNames[]> {
  if (entries.length === 0) return [];
  const history = readStore.collection<ProjectHistoryEntry>(PROJECT_HISTORY);
  const referenced = entries.map((entry) => referencesOf(entry.data));
  const budget = Math.max(entries.length, MIN_LOOKED_UP_PER_PAGE);
  const streams = (kind: Exclude<Kind, 'labels'>, prefix: string) =>
    lookedUp(
      referenced.map((refs) => refs[kind]),
      budget,
    ).map((id) => `${prefix}-${id}`);
  // An image's, iteration's or deployment's events are on its own stream (image-<id>…): one indexed query per
  // kind, for all of the page's ids at once; none for a kind the page does not refer to.
  const naming = async (types: string[], ofStreams?: string[]) => {
    if (ofStreams?.length === 0) return [];
    return history.findAll({
      projectId,
      type: { in: types },
      ...(ofStreams === undefined ? {} : { stream: { in: ofStreams } }),
    });
  };
  const [labelEvents, imageEvents, iterationEvents, deploymentEvents] = await Promise.all([
    naming(['LabelAdded', 'LabelRenamed']),
    naming(['ImageUploaded'], streams('images', 'image')),
    naming(['IterationQueued', 'ModelImported'], streams('iterations', 'iteration')),
    naming(['ModelDeployed'], streams('deployments', 'deployment')),
  ]);
  const labels = timelines(labelEvents, 'labelId', 'name', isString);
  const images = timelines(imageEvents, 'imageId', 'filename', isString);
  const iterations = timelines(
    iterationEvents,
    'iterationId',
    'number',
    (name): name is number => typeof name === 'number',
  );
  const deployments = timelines(deploymentEvents, 'deploymentId', 'name', isString);

  return entries.map((entry, index) => {
    const refs = referenced[index];
    const at = <Name>(timeline: Map<string, Timeline<Name>>, wanted: string[]): Record<string, Name> =>
      Object.fromEntries(
        wanted.flatMap((id) => {
          const name = timeline
            .get(id)
            ?.filter((named) => named.position <= entry.position)
            .at(-1)?.name;
          return name === undefined ? [] : [[id, name]];
        }),
      );
    return {
      labels: at(labels, refs.labels),
      images: at(images, refs.images),
      iterations: at(iterations, refs.iterations),
      deployments: at(deployments, refs.deployments),
    };
  });
}

/** The ids an event's data refers to, by kind: top-level ones first, then those nested in lists and objects. */
function referencesOf(data: unknown): Record<Kind, string[]> {
  const found: Record<Kind, string[]> = { labels: [], images: [], iterations: [], deployments: [] };
  const collect = (key: string, value: unknown) => {
    for (const kind of KINDS)
      if (KEYS[kind].has(key)) found[kind].push(...(Array.isArray(value) ? value : [value]).filter(isString));
  };
  const nested = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(nested);
    if (typeof value !== 'object' || value === null) return;
    for (const [key, entry] of Object.entries(value)) {
      collect(key, entry);
      nested(entry);
    }
  };
  const top = typeof data === 'object' && data !== null && !Array.isArray(data) ? Object.entries(data) : [];
  for (const [key, value] of top) collect(key, value);
  for (const [, value] of top) nested(value);
  const unique = (ids: string[]) => [...new Set(ids)];
  return {
    labels: unique(found.labels),
    images: unique(found.images).slice(0, MAX_NAMED_PER_ENTRY),
    iterations: unique(found.iterations).slice(0, MAX_NAMED_PER_ENTRY),
    deployments: unique(found.deployments).slice(0, MAX_NAMED_PER_ENTRY),
  };
}

/** The ids of one kind a page looks up: each entry's first, then each entry's second…, at most `budget`. */
function lookedUp(perEntry: string[][], budget: number): string[] {
  // A stable sort by rank keeps the entries' order within a rank.
  const byRank = perEntry.flatMap((ids) => ids.map((id, rank) => ({ id, rank }))).sort((a, b) => a.rank - b.rank);
  return [...new Set(byRank.map(({ id }) => id))].slice(0, budget);
}

/** Each thing's names in log order, from the events that name it. */
function timelines<Name>(
  events: ProjectHistoryEntry[],
  idKey: string,
  nameKey: string,
  isName: (value: unknown) => value is Name,
): Map<string, Timeline<Name>> {
  const byId = new Map<string, Timeline<Name>>();
  for (const event of [...events].sort((a, b) => a.position - b.position)) {
    const data = (event.data ?? {}) as Data;
    const [id, name] = [data[idKey], data[nameKey]];
    if (typeof id !== 'string' || !isName(name)) continue;
    byId.set(id, [...(byId.get(id) ?? []), { position: event.position, name }]);
  }
  return byId;
}
