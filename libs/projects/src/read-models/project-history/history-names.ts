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

/** Keys naming a label, anywhere in an event's data (a region's labelId too). */
const LABEL_KEYS = new Set(['labelId', 'labelIds']);
/** Top-level keys naming the image, iteration or deployment an event is about. */
const IMAGE_KEYS = ['imageId'];
const ITERATION_KEYS = ['iterationId', 'reproducedFrom'];
const DEPLOYMENT_KEYS = ['deploymentId'];

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
  // An image's, iteration's or deployment's events are on its own stream (image-<id>…): one indexed lookup each.
  const ofType = (type: string, stream?: string) =>
    history.findAll({ projectId, type, ...(stream === undefined ? {} : { stream }) });
  const referenced = entries.map((entry) => referencesOf(entry.data));
  const ids = (kind: 'images' | 'iterations' | 'deployments') => [...new Set(referenced.flatMap((refs) => refs[kind]))];

  const labelEvents = (await Promise.all([ofType('LabelAdded'), ofType('LabelRenamed')])).flat();
  const labels = timelines(labelEvents, 'labelId', 'name', isString);
  const images = timelines(
    (await Promise.all(ids('images').map((id) => ofType('ImageUploaded', `image-${id}`)))).flat(),
    'imageId',
    'filename',
    isString,
  );
  const iterations = timelines(
    (
      await Promise.all(
        ids('iterations').flatMap((id) => [
          ofType('IterationQueued', `iteration-${id}`),
          ofType('ModelImported', `iteration-${id}`),
        ]),
      )
    ).flat(),
    'iterationId',
    'number',
    (name): name is number => typeof name === 'number',
  );
  const deployments = timelines(
    (await Promise.all(ids('deployments').map((id) => ofType('ModelDeployed', `deployment-${id}`)))).flat(),
    'deploymentId',
    'name',
    isString,
  );

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

/** The ids an event's data refers to, by kind. */
function referencesOf(data: unknown): Record<keyof HistoryNames, string[]> {
  const top = (data ?? {}) as Data;
  const strings = (keys: string[]) => keys.map((key) => top[key]).filter(isString);
  return {
    labels: [...new Set(labelIdsIn(data))],
    images: strings(IMAGE_KEYS),
    iterations: strings(ITERATION_KEYS),
    deployments: strings(DEPLOYMENT_KEYS),
  };
}

function labelIdsIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(labelIdsIn);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, entry]) => {
    if (!LABEL_KEYS.has(key)) return labelIdsIn(entry);
    const found = Array.isArray(entry) ? entry : [entry];
    return found.filter(isString);
  });
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
