import { beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection } from '@diyml/read-store/pure';
import type { ImageEvent } from '../../domain/image.events.js';
import { DatasetQueries } from './dataset-queries.js';
import { IMAGES, type ImageView, LABEL_STATS, type LabelStatsView } from './image.view.js';
import { ImagesProjection } from './images.projection.js';

const metadata = { userId: 'u1', correlationId: 'c1', causationId: null, at: '2026-02-01T12:00:00.000Z' };

class Log {
  position = 0;
  revisions = new Map<string, number>();

  record(streamId: string, event: { type: string; v: number; data: unknown }): RecordedEvent {
    const revision = (this.revisions.get(streamId) ?? -1) + 1;
    this.revisions.set(streamId, revision);
    this.position += 1;
    return {
      id: randomUUID(),
      streamId,
      revision,
      position: this.position,
      type: event.type,
      v: event.v,
      data: event.data,
      metadata,
    };
  }
}

const uploaded = (imageId: string, labelId: string | null = null): ImageEvent => ({
  type: 'ImageUploaded',
  v: 2,
  data: {
    projectId: 'p1',
    imageId,
    filename: `${imageId}.png`,
    sha256: imageId.padEnd(64, '0'),
    width: 10,
    height: 20,
    format: 'png',
    bytes: 123,
    dhash: '0'.repeat(16),
    labelId,
    split: 'train',
    source: null,
  },
});

describe('images projection', () => {
  let store: InMemoryReadStore;
  let log: Log;
  const projection: Projection = new ImagesProjection();
  const apply = (event: RecordedEvent) => projection.apply(event, store);
  const image = (id: string) => store.collection<ImageView>(IMAGES).get(id);
  const counts = async () =>
    Object.fromEntries(
      (await store.collection<LabelStatsView>(LABEL_STATS).findAll()).map((s) => [s.id, s.imageCount]),
    );
  const snapshot = async () => ({
    images: await store.collection(IMAGES).findAll(),
    stats: await store.collection(LABEL_STATS).findAll(),
  });

  beforeEach(() => {
    store = new InMemoryReadStore();
    log = new Log();
  });

  it('builds an image document from the upload, with the time and order of the log', async () => {
    await apply(log.record('image-i1', uploaded('i1', 'cat')));
    expect(await image('i1')).toEqual({
      id: 'i1',
      projectId: 'p1',
      filename: 'i1.png',
      width: 10,
      height: 20,
      format: 'png',
      bytes: 123,
      sha256: 'i1'.padEnd(64, '0'),
      dhash: '0'.repeat(16),
      labelId: 'cat',
      labelSet: [],
      regions: [],
      labeled: true,
      labelIds: ['cat'],
      split: 'train',
      metadata: {},
      metadataEntries: [],
      included: true,
      uploadedAt: metadata.at,
      seq: 1,
      revision: 0,
    });
    expect(await counts()).toEqual({ cat: 1 });
  });

  it('follows labels, boxes, training points and removal, counting images per label', async () => {
    await apply(log.record('image-i1', uploaded('i1', 'cat')));
    await apply(log.record('image-i2', uploaded('i2', 'cat')));
    await apply(
      log.record('image-i1', { type: 'ImageLabeled', v: 1, data: { projectId: 'p1', imageId: 'i1', labelId: 'dog' } }),
    );
    expect(await counts()).toEqual({ cat: 1, dog: 1 });
    await apply(
      log.record('image-i2', { type: 'ImageLabeled', v: 1, data: { projectId: 'p1', imageId: 'i2', labelId: null } }),
    );
    expect(await image('i2')).toMatchObject({ labelId: null, labeled: false });
    expect(await counts()).toEqual({ cat: 0, dog: 1 });
    await apply(
      log.record('image-i1', { type: 'ImageExcludedFromTraining', v: 1, data: { projectId: 'p1', imageId: 'i1' } }),
    );
    await apply(
      log.record('image-i1', {
        type: 'ImageSplitAssigned',
        v: 1,
        data: { projectId: 'p1', imageId: 'i1', split: 'test' },
      }),
    );
    expect(await image('i1')).toMatchObject({ included: false, split: 'test', revision: 3 });
    await apply(
      log.record('image-i1', { type: 'ImageRemoved', v: 1, data: { projectId: 'p1', imageId: 'i1', sha256: 'x' } }),
    );
    expect(await image('i1')).toBeUndefined();
    expect(await counts()).toEqual({ cat: 0, dog: 0 });
  });

  it('follows a multilabel label set: counted per label, filtered by any of them, trimmed when a label is removed', async () => {
    const labelsSet = (labelIds: string[]) =>
      log.record('image-i1', {
        type: 'ImageLabelsSet',
        v: 1,
        data: { projectId: 'p1', imageId: 'i1', labelIds, source: null },
      });
    await apply(log.record('image-i1', uploaded('i1')));
    await apply(log.record('image-i2', uploaded('i2')));
    await apply(labelsSet(['dog', 'night']));
    expect(await image('i1')).toMatchObject({ labelId: null, labelSet: ['dog', 'night'], labeled: true });
    expect(await counts()).toEqual({ dog: 1, night: 1 });
    const queries = new DatasetQueries(store);
    const listed = async (labelId: string) =>
      (await queries.list('p1', { labelId }, { limit: 10 })).items.map((item) => item.id);
    expect(await listed('night')).toEqual(['i1']);
    expect(await queries.count('p1', { unlabeled: true })).toBe(1);

    const repeated = labelsSet(['outdoor', 'night']);
    await apply(repeated);
    await apply(repeated);
    expect(await counts()).toEqual({ dog: 0, night: 1, outdoor: 1 });
    await apply(log.record('project-p1', { type: 'LabelRemoved', v: 1, data: { projectId: 'p1', labelId: 'night' } }));
    expect(await image('i1')).toMatchObject({ labelSet: ['outdoor'], labelIds: ['outdoor'] });
    await apply(labelsSet([]));
    expect(await image('i1')).toMatchObject({ labelSet: [], labeled: false });
  });

  it("moves a project's image labels between labelId and labelSet when the project changes type", async () => {
    const typeChanged = (type: string, previousType: string) =>
      log.record('project-p1', {
        type: 'ProjectTypeChanged',
        v: 1,
        data: { projectId: 'p1', type, previousType, changedAt: 'x' },
      });
    await apply(log.record('image-i1', uploaded('i1', 'dog')));
    await apply(log.record('image-i2', uploaded('i2')));
    await apply(typeChanged('multilabel', 'classification'));
    expect(await image('i1')).toMatchObject({ labelId: null, labelSet: ['dog'], labelIds: ['dog'], labeled: true });
    expect(await image('i2')).toMatchObject({ labelId: null, labelSet: [], labeled: false });
    // Labels set since replace the moved ones; back to classification, the one label is the image's label.
    await apply(
      log.record('image-i1', {
        type: 'ImageLabelsSet',
        v: 1,
        data: { projectId: 'p1', imageId: 'i1', labelIds: ['cat'], source: null },
      }),
    );
    await apply(typeChanged('classification', 'multilabel'));
    expect(await image('i1')).toMatchObject({ labelId: 'cat', labelSet: [], labelIds: ['cat'] });
    expect(await counts()).toEqual({ dog: 0, cat: 1 });
    await apply(
      log.record('image-i1', {
        type: 'ImageLabeled',
        v: 2,
        data: { projectId: 'p1', imageId: 'i1', labelId: null, source: null },
      }),
    );
    expect(await image('i1')).toMatchObject({ labelId: null, labelSet: [], labeled: false });
  });

  it("keeps metadata and its key=value entries, the metadata filter's index", async () => {
    await apply(log.record('image-i1', uploaded('i1', 'cat')));
    const set = {
      type: 'ImageMetadataSet',
      v: 1,
      data: { projectId: 'p1', imageId: 'i1', metadata: { camera: 'north', shift: '' } },
    } as const;
    await apply(log.record('image-i1', set));
    expect(await image('i1')).toMatchObject({
      metadata: { camera: 'north', shift: '' },
      metadataEntries: ['camera=north', 'shift='],
      revision: 1,
    });
    const found = await store
      .collection<ImageView>(IMAGES)
      .find({ where: { projectId: 'p1', metadataEntries: 'camera=north' }, limit: 5 });
    expect(found.items.map((item) => item.id)).toEqual(['i1']);
  });

  it('counts an image once per label however many boxes use it', async () => {
    await apply(log.record('image-i1', uploaded('i1')));
    const box = (labelId: string) => ({ labelId, x: 0, y: 0, width: 0.5, height: 0.5 });
    await apply(
      log.record('image-i1', {
        type: 'ImageRegionsSet',
        v: 1,
        data: { projectId: 'p1', imageId: 'i1', regions: [box('car'), box('car'), box('bus')] },
      }),
    );
    expect(await counts()).toEqual({ car: 1, bus: 1 });
    await apply(
      log.record('image-i1', {
        type: 'ImageRegionsSet',
        v: 1,
        data: { projectId: 'p1', imageId: 'i1', regions: [box('bus')] },
      }),
    );
    expect(await counts()).toEqual({ car: 0, bus: 1 });
    expect(await image('i1')).toMatchObject({ labeled: true, regions: [box('bus')], labelIds: ['bus'] });
  });

  it('changes nothing when the same events are applied again', async () => {
    const events = [
      log.record('image-i1', uploaded('i1', 'cat')),
      log.record('image-i2', uploaded('i2', 'cat')),
      log.record('image-i1', { type: 'ImageLabeled', v: 1, data: { projectId: 'p1', imageId: 'i1', labelId: 'dog' } }),
      log.record('image-i2', { type: 'ImageRemoved', v: 1, data: { projectId: 'p1', imageId: 'i2', sha256: 'x' } }),
      log.record('project-p1', { type: 'LabelRemoved', v: 1, data: { projectId: 'p1', labelId: 'dog' } }),
    ];
    for (const event of events) await apply(event);
    const once = await snapshot();
    for (const event of events) await apply(event);
    await apply(events[2]);
    expect(await snapshot()).toEqual(once);
  });

  it('shows a removed label as no label, drops its boxes and its count', async () => {
    await apply(log.record('image-i1', uploaded('i1', 'cat')));
    await apply(log.record('image-i2', uploaded('i2', 'dog')));
    await apply(
      log.record('project-p1', {
        type: 'LabelRemoved',
        v: 1,
        data: { projectId: 'p1', labelId: 'cat', name: 'cat', removedAt: 'x' },
      }),
    );
    expect(await image('i1')).toMatchObject({ labelId: null, labeled: false });
    expect(await image('i2')).toMatchObject({ labelId: 'dog' });
    expect(await counts()).toEqual({ dog: 1 });
  });

  it('drops a removed label from a labeling recorded after its removal (a batch that read the labels before)', async () => {
    await apply(log.record('image-i1', uploaded('i1')));
    await apply(log.record('image-i2', uploaded('i2')));
    await apply(
      log.record('project-p1', {
        type: 'LabelRemoved',
        v: 1,
        data: { projectId: 'p1', labelId: 'cat', name: 'cat', removedAt: 'x' },
      }),
    );
    await apply(
      log.record('image-i1', {
        type: 'ImageLabeled',
        v: 2,
        data: { projectId: 'p1', imageId: 'i1', labelId: 'cat', source: null },
      }),
    );
    await apply(
      log.record('image-i2', {
        type: 'ImageLabelsSet',
        v: 1,
        data: { projectId: 'p1', imageId: 'i2', labelIds: ['cat', 'dog'], source: null },
      }),
    );
    expect(await image('i1')).toMatchObject({ labelId: null, labeled: false, labelIds: [] });
    expect(await image('i2')).toMatchObject({ labelSet: ['dog'], labeled: true, labelIds: ['dog'] });
    expect(await counts()).toEqual({ dog: 1 });
  });

  it('forgets every image of a deleted project', async () => {
    await apply(log.record('image-i1', uploaded('i1', 'cat')));
    await apply(log.record('project-p1', { type: 'ProjectDeleted', v: 1, data: { projectId: 'p1' } }));
    expect(await store.collection(IMAGES).count()).toBe(0);
    expect(await counts()).toEqual({});
  });

  it('lists with filters and pages in upload order, a label matching boxes too', async () => {
    for (const id of ['a', 'b', 'c', 'd'])
      await apply(log.record(`image-${id}`, uploaded(id, id === 'd' ? null : 'cat')));
    await apply(
      log.record('image-b', { type: 'ImageExcludedFromTraining', v: 1, data: { projectId: 'p1', imageId: 'b' } }),
    );
    const queries = new DatasetQueries(store);
    const first = await queries.list('p1', { labelId: 'cat' }, { limit: 2 });
    expect(first.items.map((i) => i.id)).toEqual(['a', 'b']);
    const second = await queries.list('p1', { labelId: 'cat' }, { limit: 2, cursor: first.nextCursor! });
    expect(second).toEqual({ items: [expect.objectContaining({ id: 'c' })], nextCursor: null });
    expect((await queries.list('p1', { unlabeled: true }, { limit: 10 })).items.map((i) => i.id)).toEqual(['d']);
    expect((await queries.list('p1', { included: false }, { limit: 10 })).items.map((i) => i.id)).toEqual(['b']);
    expect((await queries.listAll('p1')).map((i) => i.id)).toEqual(['a', 'b', 'c', 'd']);
    await expect(queries.get('p2', 'a')).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });
});
