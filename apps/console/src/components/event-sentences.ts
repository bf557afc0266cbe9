import type { Schemas } from '../api/client';
import { architectureName } from './architectures';
import { formatDuration } from './duration';
import { percent } from './percent';
import { plural } from './plural';

export type HistoryEntry = Schemas['HistoryEntryDto'];

/** Events one request made alike (3 images labeled red), told as one sentence. */
export interface HistoryGroup {
  entries: HistoryEntry[];
  sentence: string;
}

type Data = Record<string, unknown>;

const text = (data: Data, key: string): string => (typeof data[key] === 'string' ? (data[key] as string) : '');
const count = (data: Data, key: string): number | null =>
  typeof data[key] === 'number' ? (data[key] as number) : null;
const quote = (value: string) => `'${value.length > 60 ? `${value.slice(0, 59)}…` : value}'`;

/** Events of these types made together by one request are one sentence; the key says which of them go together. */
const GROUPED_BY: Record<string, (data: Data) => string> = {
  ImageUploaded: (data) => `${text(data, 'labelId')}|${sourceKind(data)}`,
  ImageLabeled: (data) => `${text(data, 'labelId')}|${sourceKind(data)}`,
  ImageLabelsSet: (data) => `${labelIdsOf(data).join(',')}|${sourceKind(data)}`,
  ImageRegionsSet: (data) => sourceKind(data),
  ImageExcludedFromTraining: () => '',
  ImageIncludedInTraining: () => '',
  ImageSplitAssigned: (data) => text(data, 'split'),
  ImageMetadataSet: () => '',
  ImageRemoved: () => '',
  EpochCompleted: (data) => text(data, 'iterationId'),
  PredictionStored: (data) => text(data, 'deploymentId'),
  StoredPredictionDeleted: (data) => `${text(data, 'deploymentId')}|${text(data, 'reason')}`,
};

/** A multilabel image's label set, as ImageLabelsSet gives it. */
const labelIdsOf = (data: Data): string[] =>
  Array.isArray(data.labelIds) ? data.labelIds.filter((id): id is string => typeof id === 'string') : [];

function sourceKind(data: Data): string {
  const source = data.source;
  return source && typeof source === 'object' && 'kind' in source ? String(source.kind) : '';
}

/** The iteration whose suggestion was accepted, as the label's source gives it. */
function sourceIteration(data: Data): string {
  const source = data.source;
  return source && typeof source === 'object' && 'iterationId' in source ? String(source.iterationId) : '';
}

/** The image ids a suggestion event lists (`imageIds`, or `imageId` in each of `images` or `suggestions`). */
function listedImageIds(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list
    .map((item: unknown) => (item && typeof item === 'object' && 'imageId' in item ? item.imageId : item))
    .filter((id): id is string => typeof id === 'string');
}

/**
 * The events as sentences a person reads at a glance, in the order given. Things are named as each event's `names`
 * (from the API) had them then: a filtered page lacks the uploads and renames that named them.
 */
export function describeHistory(entries: HistoryEntry[]): HistoryGroup[] {
  const groups: HistoryGroup[] = [];
  // The groups of the request being read, in the order of their first events: a request that interleaves kinds of
  // events (a zip's upload then boxes, image by image) is told as one sentence per kind, not one per event.
  let open: HistoryEntry[][] = [];
  const closeAll = () => {
    for (const group of open) {
      const previous = groups.at(-1);
      if (previous && isFollowUpRun(previous.entries) && isFollowUpRun([...previous.entries, ...group])) {
        previous.entries.push(...group);
        previous.sentence = sentence(previous.entries);
        continue;
      }
      const told = group.filter((entry) => !isBookkeeping(entry.type));
      groups.push({ entries: group, sentence: sentence(told.length > 0 ? told : group) });
    }
    open = [];
  };
  for (const entry of entries) {
    if (open.length > 0 && !sameRequest(open[0][0], entry)) closeAll();
    const subject = isBookkeeping(entry.type) ? BOOKKEEPING[entry.type] : undefined;
    const group = subject
      ? open.findLast((candidate) => candidate.some((member) => subject(member.type)))
      : open.find((candidate) => joins(candidate, entry));
    if (group) group.push(entry);
    else open.push([entry]);
  }
  closeAll();
  return groups;
}

/**
 * Events a request writes along with the ones it is about (an upload claims its content against duplicates, a run
 * reserves its number): told with them, shown only among their raw events. Each goes with the events of its subject
 * (a content claim with images, not with a label a zip's upload added first).
 */
const BOOKKEEPING: Record<string, (type: string) => boolean> = {
  ImageContentClaimed: (type) => type.startsWith('Image'),
  ImageContentReleased: (type) => type.startsWith('Image'),
  ImageUploadAbandoned: (type) => type.startsWith('Image'),
  IterationNumberReserved: (type) => type.startsWith('Iteration') || type === 'ModelImported',
};
const isBookkeeping = (type: string) => Object.hasOwn(BOOKKEEPING, type);

function joins(group: HistoryEntry[], entry: HistoryEntry): boolean {
  if (group.length === 0 || !sameRequest(group[0], entry)) return false;
  const lead = group.find((member) => !isBookkeeping(member.type));
  if (isBookkeeping(entry.type) || lead === undefined) return true;
  const key = GROUPED_BY[entry.type];
  return key !== undefined && lead.type === entry.type && key(lead.data) === key(entry.data);
}

/**
 * Events the system writes on its own after a user's request (features computed in the background after an upload):
 * they carry that user in their metadata, yet the user did not do them.
 */
const SYSTEM_FOLLOW_UPS = new Set(['EmbeddingTableUpdated']);
export const isSystemFollowUp = (entry: HistoryEntry) => SYSTEM_FOLLOW_UPS.has(entry.type);

/**
 * The same follow-up written again and again in a row (features prepared after each of several uploads): told once,
 * as it ended, rather than as five lines of 'Prepared 1 image…', 'Prepared 10 images…'.
 */
const isFollowUpRun = (entries: HistoryEntry[]) =>
  entries.every((entry) => isSystemFollowUp(entry) && entry.type === entries[0].type);

export const sameRequest = (one: HistoryEntry, other: HistoryEntry) =>
  one.metadata.correlationId === other.metadata.correlationId && one.metadata.userId === other.metadata.userId;

function sentence(group: HistoryEntry[]): string {
  const { type, data, names } = group[0];
  const last = group[group.length - 1].data;
  const n = group.length;
  const label = (id: unknown) =>
    typeof id === 'string' ? (nameOf(names.labels, id) ?? 'a removed label') : 'no label';
  const images = () => (n === 1 ? (nameOf(names.images, text(data, 'imageId')) ?? 'an image') : plural(n, 'image'));
  const iteration = (id = text(data, 'iterationId')) => {
    const number = nameOf(names.iterations, id);
    return number === undefined ? 'an iteration' : `Iteration ${number}`;
  };
  const deployment = () => {
    const name = nameOf(names.deployments, text(data, 'deploymentId'));
    return name === undefined ? 'a deployment' : `deployment ${quote(name)}`;
  };
  // A list of one image is told by its name, as one image of a request is; a longer one is counted.
  const listed = (ids: string[]) =>
    ids.length === 1 ? (nameOf(names.images, ids[0]) ?? '1 image') : plural(ids.length, 'image');
  const fromSuggestion =
    sourceKind(data) === 'suggestion' ? ` (accepted suggestion of ${iteration(sourceIteration(data))})` : '';
  switch (type) {
    case 'ProjectCreated':
      return `Project ${quote(text(data, 'name'))} created (${text(data, 'type')})`;
    case 'ProjectRenamed':
      return `Project renamed from ${quote(text(data, 'previousName'))} to ${quote(text(data, 'name'))}`;
    case 'ProjectDescribed':
      return text(data, 'description')
        ? `Description set to ${quote(text(data, 'description'))}`
        : 'Description cleared';
    case 'ProjectDeleted':
      return `Project ${quote(text(data, 'name'))} deleted`;
    case 'ProjectImported':
      return `Project imported from an export of ${quote(text(data, 'sourceName'))}`;
    case 'LabelAdded':
      return `Label ${quote(text(data, 'name'))} added`;
    case 'LabelRenamed':
      return `Label ${quote(text(data, 'previousName'))} renamed to ${quote(text(data, 'name'))}`;
    case 'LabelRemoved':
      return `Label ${quote(text(data, 'name'))} removed`;
    case 'LabelNegativeSet':
      return data.negative === true
        ? `Label ${quote(text(data, 'name'))} made the negative label (none of the others)`
        : `Label ${quote(text(data, 'name'))} made a regular label again`;
    case 'ProjectTypeChanged':
      return `Project switched from ${text(data, 'previousType')} to ${text(data, 'type')}`;
    case 'TrainingConfigured':
      return `Training settings changed${epochs(data.trainingConfig) ? ` (${epochs(data.trainingConfig)})` : ''}`;
    case 'ImageUploaded': {
      const what = sourceKind(data) === 'video' ? `Took ${plural(n, 'frame')} from a video` : `Uploaded ${images()}`;
      return data.labelId ? `${what} labeled ${label(data.labelId)}` : what;
    }
    case 'ImageLabeled':
      return data.labelId
        ? `Labeled ${images()} ${label(data.labelId)}${fromSuggestion}`
        : `Removed the label of ${images()}`;
    case 'ImageLabelsSet': {
      const labelIds = labelIdsOf(data);
      return labelIds.length
        ? `Labeled ${images()} ${labelIds.map(label).join(', ')}${fromSuggestion}`
        : `Removed the labels of ${images()}`;
    }
    case 'ImageRegionsSet': {
      const regions = Array.isArray(data.regions) ? (data.regions as { labelId?: unknown }[]) : [];
      if (n > 1) return `Set the boxes of ${images()}${fromSuggestion}`;
      if (regions.length === 0) return `Cleared the boxes of ${images()}`;
      const labeled = [...new Set(regions.map((region) => label(region.labelId)))].join(', ');
      const boxes = regions.length === 1 ? '1 box' : `${regions.length} boxes`;
      return `Set ${boxes} (${labeled}) on ${images()}${fromSuggestion}`;
    }
    case 'ImageExcludedFromTraining':
      return `Excluded ${images()} from training`;
    case 'ImageIncludedInTraining':
      return `Included ${images()} in training again`;
    case 'ImageSplitAssigned':
      return `Moved ${images()} to the ${text(data, 'split')} split`;
    case 'ImageMetadataSet':
      return `Changed the metadata of ${images()}`;
    case 'ImageRemoved':
      return `Removed ${images()}`;
    case 'ImageContentClaimed':
      return `Reserved the content of ${plural(n, 'image')} against duplicates`;
    case 'ImageContentReleased':
      return `The content of ${plural(n, 'image')} can be uploaded again`;
    case 'ImageUploadAbandoned':
      return `Gave up ${plural(n, 'interrupted upload')}`;
    case 'IterationNumberReserved':
      return `Number ${count(data, 'number')} set aside for a new iteration`;
    case 'IterationQueued': {
      const reproduced = text(data, 'reproducedFrom') ? `, repeating ${iteration(text(data, 'reproducedFrom'))}` : '';
      const architecture = text(data, 'architecture');
      const details = [architecture && architectureName(architecture).toLowerCase(), epochs(data.trainingConfig)]
        .filter(Boolean)
        .join(', ');
      return `${capitalise(iteration())} queued (${details}${reproduced})`;
    }
    case 'IterationStarted': {
      const attempt = count(data, 'attempt') ?? 1;
      return `${capitalise(iteration())} started training on ${text(data, 'backend')}${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
    }
    case 'EpochCompleted': {
      const range =
        n === 1 ? `epoch ${count(data, 'epoch')}` : `epochs ${count(data, 'epoch')}–${count(last, 'epoch')}`;
      return `${capitalise(iteration())} finished ${range} of ${count(data, 'epochs')}`;
    }
    case 'IterationCompleted': {
      const metrics = (data.metrics ?? {}) as Data;
      const score =
        count(metrics, 'accuracy') !== null
          ? `, accuracy ${percent(metrics.accuracy)}`
          : count(metrics, 'map50') !== null
            ? `, mAP@50 ${percent(metrics.map50)}`
            : '';
      return `${capitalise(iteration())} completed (trained in ${formatDuration(count(data, 'trainingDurationMs') ?? 0)}${score})`;
    }
    case 'IterationFailed':
      return `${capitalise(iteration())} failed: ${text(data, 'reason')}`;
    case 'IterationCancelled':
      return `${capitalise(iteration())} cancelled`;
    case 'IterationHandedBack':
      return `${capitalise(iteration())} handed back to the queue by a stopping worker (attempt ${count(data, 'attempt')})`;
    case 'ModelImported':
      return `${capitalise(iteration())} imported from a ${text(data, 'format')} model`;
    case 'IterationRenamed':
      return `${capitalise(iteration())} renamed to ${quote(text(data, 'name'))}`;
    case 'IterationDeleted':
      return `${capitalise(iteration())} deleted`;
    case 'ModelDeployed':
      return `Deployment ${quote(text(data, 'name'))} created from Iteration ${count(data, 'iterationNumber')}`;
    case 'DeploymentKeyRotated':
      return `New key for ${deployment()} (starts ${text(data, 'keyPrefix')}…); the old one stopped working`;
    case 'ModelUndeployed':
      return `${capitalise(deployment())} removed`;
    case 'PredictionStoreConfigured':
      return data.enabled
        ? `${capitalise(deployment())} keeps the images it predicts${retention(data)}`
        : `${capitalise(deployment())} stopped keeping the images it predicts`;
    case 'DeploymentShared':
      return `${capitalise(deployment())} shared with every user of this installation`;
    case 'DeploymentUnshared':
      return `${capitalise(deployment())} no longer shared`;
    case 'DeploymentUsageRecorded':
      return `${capitalise(deployment())} answered ${plural(count(data, 'calls') ?? 0, 'call')} in the hour from ${new Date(text(data, 'hour')).toLocaleTimeString()}`;
    case 'PredictionStored':
      return `${capitalise(deployment())} kept ${plural(n, 'prediction')}`;
    case 'StoredPredictionDeleted':
      return text(data, 'reason') === 'retention'
        ? `${plural(n, 'stored prediction')} of ${deployment()} expired`
        : `Deleted ${plural(n, 'stored prediction')} of ${deployment()}`;
    case 'StoredPredictionPromoted':
      return `A stored prediction of ${deployment()} added to the dataset`;
    case 'LabelSuggestionsRequested': {
      const what = text(data, 'task') === 'detection' ? 'boxes' : 'labels';
      return `Asked ${iteration()} to suggest ${what} for ${listed(listedImageIds(data.images))}`;
    }
    case 'LabelSuggestionsComputed':
      return suggestionsComputed(capitalise(iteration()), data, label, listed);
    case 'LabelSuggestionsFailed':
      return `Label suggestions of ${iteration()} failed: ${text(data, 'reason')}`;
    case 'LabelSuggestionsRejected': {
      const rejected = listedImageIds(data.imageIds);
      return `Rejected the ${rejected.length === 1 ? 'suggestion' : 'suggestions'} of ${iteration()} for ${listed(rejected)}`;
    }
    case 'TestRunRequested':
      return `Test run of ${iteration()} on ${plural(count(data, 'imageCount') ?? 0, 'image')} requested`;
    case 'TestRunCompleted':
      return `Test run of ${iteration()} completed`;
    case 'TestRunFailed':
      return `Test run of ${iteration()} failed: ${text(data, 'reason')}`;
    case 'TestRunCancelled':
      return `Test run of ${iteration()} cancelled`;
    case 'EmbeddingTableUpdated':
      return `Prepared ${plural(count(last, 'imageCount') ?? 0, 'image')} for training ahead of time, after new photos or settings: training starts sooner`;
    default:
      // A type this console does not know yet (a newer server): still say what happened, by its name.
      return n === 1 ? `${spaced(type)} (event ${type})` : `${spaced(type)} ×${n} (event ${type})`;
  }
}

type Suggestion = { predictions?: { labelId?: unknown; probability?: unknown; box?: unknown }[] };

/**
 * 'Iteration 1 suggested labels for 80 images: red for 41, blue for 39' (or 'suggested red for all 80 images'), each
 * image counted under its most probable label, the one its suggestion card shows first. A detector's boxes go down to a 5% probability: counting them by
 * label would say little, so its sentence counts the images only.
 */
function suggestionsComputed(
  iteration: string,
  data: Data,
  label: (id: unknown) => string,
  listed: (ids: string[]) => string,
): string {
  const suggestions = Array.isArray(data.suggestions) ? (data.suggestions as Suggestion[]) : [];
  const boxes = suggestions.some((suggestion) => suggestion.predictions?.some((prediction) => prediction.box));
  const what = `${iteration} suggested ${boxes ? 'boxes' : 'labels'} for ${listed(listedImageIds(data.suggestions))}`;
  if (boxes) return what;
  const tally = new Map<string, number>();
  for (const { predictions = [] } of suggestions) {
    const [top] = [...predictions].sort((a, b) => Number(b.probability) - Number(a.probability));
    if (top) tally.set(label(top.labelId), (tally.get(label(top.labelId)) ?? 0) + 1);
  }
  const byLabel = [...tally].sort(([, a], [, b]) => b - a);
  if (byLabel.length === 0) return what;
  if (byLabel.length === 1) {
    const [[name, n]] = byLabel;
    const whom =
      suggestions.length === 1 ? listed(listedImageIds(data.suggestions)) : n === 1 ? '1 image' : `all ${n} images`;
    return `${iteration} suggested ${name} for ${whom}`;
  }
  return `${what}: ${byLabel.map(([name, n]) => `${name} for ${n}`).join(', ')}`;
}

/** '10 epochs', or '' when the configuration does not say. */
function epochs(config: unknown): string {
  const value = config && typeof config === 'object' ? count(config as Data, 'epochs') : null;
  return value === null ? '' : plural(value, 'epoch');
}

function retention(data: Data): string {
  const limits = [
    count(data, 'maxCount') !== null ? `at most ${count(data, 'maxCount')}` : '',
    count(data, 'maxAgeDays') !== null ? `for ${plural(count(data, 'maxAgeDays') as number, 'day')}` : '',
  ].filter(Boolean);
  return limits.length ? ` (${limits.join(', ')})` : '';
}

/** A name by id; undefined for an id the map lacks (not one of Object's own keys). */
const nameOf = <Name>(names: Record<string, Name>, id: string): Name | undefined =>
  Object.hasOwn(names, id) ? names[id] : undefined;
const capitalise = (value: string) => value.charAt(0).toUpperCase() + value.slice(1);
/** 'WidgetFrobbed' → 'Widget frobbed'. */
const spaced = (type: string) => capitalise(type.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase());
