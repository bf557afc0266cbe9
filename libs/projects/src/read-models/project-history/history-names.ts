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
  const referenced = entries.map((entry) => referencesOf(entry.data));
  const streams = (kind: 'images' | 'iterations' | 'deployments', prefix: string) => [
    ...new Set(referenced.flatMap((refs) => refs[kind]).map((id) => `${prefix}-${id}`)),
  ];
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
