/**
 * The project archive (a zip), version 1:
 * - `diyml-project.json`: what it is (ProjectArchiveManifest), written first;
 * - `events/000001.jsonl`, `events/000002.jsonl`…: every event of the project's streams, one JSON object a line,
 *   in log order, in parts of about EVENTS_PART_BYTES (so neither side holds all events as one string);
 * - `blobs/<sha256>`: the bytes the events reference by hash (images, dataset manifests, models, evaluations,
 *   embedding tables), stored as they are (images and models do not shrink).
 */
export const PROJECT_ARCHIVE_FORMAT = 'diyml-project';
export const PROJECT_ARCHIVE_VERSION = 1;
export const MANIFEST_ENTRY = 'diyml-project.json';
export const EVENTS_ENTRY_PATTERN = /^events\/(\d{6})\.jsonl$/;
export const EVENTS_PART_BYTES = 4 * 1024 * 1024;
export const BLOB_ENTRY_PATTERN = /^blobs\/([0-9a-f]{64})$/;

export const blobEntry = (sha256: string) => `blobs/${sha256}`;
export const eventsEntry = (part: number) => `events/${String(part).padStart(6, '0')}.jsonl`;

/** One event as archived: where it was, what it said and when. Who did it is not carried (see the import). */
export interface ArchivedEvent {
  stream: string;
  type: string;
  v: number;
  data: Record<string, unknown>;
  at: string;
}

/** What the archive holds, as counted from its events at export time. */
export interface ProjectSummary {
  images: number;
  labels: number;
  regions: number;
  iterations: number;
  deployments: number;
}

export interface ProjectArchiveManifest {
  format: typeof PROJECT_ARCHIVE_FORMAT;
  version: typeof PROJECT_ARCHIVE_VERSION;
  exportedAt: string;
  project: { id: string; name: string; type: string };
  summary: ProjectSummary;
  events: number;
  /** Blobs the archive carries. */
  blobs: string[];
  /** Blobs the events reference that the exporting installation no longer had: an import refuses such an archive. */
  missingBlobs: string[];
}

const SHA256 = /^[0-9a-f]{64}$/;
/** Event fields that hold blob addresses: `sha256`, `modelSha256`, `embeddingsSha256` (a list) … */
const BLOB_FIELD = /sha256$/i;

/** The sha256 of every blob an event's data references, wherever it is nested. */
export function referencedBlobs(data: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(data)) {
    for (const item of data) referencedBlobs(item, found);
  } else if (typeof data === 'object' && data !== null) {
    for (const [key, value] of Object.entries(data)) {
      if (BLOB_FIELD.test(key)) {
        for (const candidate of Array.isArray(value) ? value : [value]) {
          if (typeof candidate === 'string' && SHA256.test(candidate)) found.add(candidate);
        }
      } else {
        referencedBlobs(value, found);
      }
    }
  }
  return found;
}

/** Images, labels, regions, iterations and deployments the project has at the end of its events. */
export function summarize(events: readonly Pick<ArchivedEvent, 'type' | 'data'>[]): ProjectSummary {
  const images = new Map<string, number>();
  const labels = new Set<string>();
  const deployments = new Set<string>();
  let iterations = 0;
  for (const { type, data } of events) {
    const id = (key: string) => String(data[key]);
    switch (type) {
      case 'ImageUploaded':
        images.set(id('imageId'), 0);
        break;
      case 'ImageRegionsSet':
        if (images.has(id('imageId'))) images.set(id('imageId'), (data.regions as unknown[]).length);
        break;
      case 'ImageRemoved':
        images.delete(id('imageId'));
        break;
      case 'LabelAdded':
        labels.add(id('labelId'));
        break;
      case 'LabelRemoved':
        labels.delete(id('labelId'));
        break;
      case 'IterationQueued':
      case 'ModelImported':
        iterations += 1;
        break;
      case 'ModelDeployed':
        deployments.add(id('deploymentId'));
        break;
      case 'ModelUndeployed':
        deployments.delete(id('deploymentId'));
        break;
    }
  }
  let regions = 0;
  for (const count of images.values()) regions += count;
  return { images: images.size, labels: labels.size, regions, iterations, deployments: deployments.size };
}

/** Events of a stored prediction that name its image: once the prediction is deleted, the image is erased (privacy). */
const STORED_PREDICTION_IMAGE_EVENTS = new Set(['PredictionStored', 'StoredPredictionDeleted']);

/**
 * The blobs an archive of these events must carry: every one they reference, except the images of stored
 * predictions that were deleted, which the installation erases (unless something else, such as a promoted image,
 * still uses the same bytes) and which an archive therefore neither needs nor should hold.
 */
export function requiredBlobs(events: readonly { type: string; data: Record<string, unknown> }[]): Set<string> {
  const deleted = new Set(
    events.filter((event) => event.type === 'StoredPredictionDeleted').map((event) => event.data.predictionId),
  );
  const required = new Set<string>();
  for (const event of events) {
    const erasable =
      STORED_PREDICTION_IMAGE_EVENTS.has(event.type) && deleted.has(event.data.predictionId)
        ? event.data.imageSha256
        : undefined;
    for (const sha256 of referencedBlobs(event.data)) if (sha256 !== erasable) required.add(sha256);
  }
  return required;
}
