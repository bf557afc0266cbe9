import { beforeAll, describe, expect, it } from 'vitest';
import type { EventMetadata } from '@diyml/core/pure';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type ReadModelCollection, type ReadStore } from '@diyml/read-store/pure';
import { MAX_NAMED_PER_ENTRY, MIN_LOOKED_UP_PER_PAGE, namesAsOfEntries } from './history-names.js';
import { PROJECT_HISTORY, type ProjectHistoryEntry, ProjectHistoryProjection } from './project-history.projection.js';

const metadata: EventMetadata = {
  userId: 'u1',
  correlationId: 'c1',
  causationId: null,
  at: '2026-02-01T00:00:00.000Z',
};
/** The longest page the API serves (MAX_PAGE_SIZE). */
const PAGE = 1000;
const LISTED = 30;
/** The images the k-th rejection lists: its own first, then others no other rejection lists. */
const listedBy = (k: number) => [`img-${k}`, ...Array.from({ length: LISTED - 1 }, (_, j) => `img-${k}-${j}`)];

/** The store, counting the queries its collections are asked (find, findAll, count). */
function counting(store: ReadStore): { store: ReadStore; queries: () => number } {
  let queries = 0;
  const counted =
    <Args extends unknown[], Result>(query: (...args: Args) => Result) =>
    (...args: Args) => {
      queries += 1;
      return query(...args);
    };
  const wrapped = new Proxy(store, {
    get(target, key, receiver) {
      if (key !== 'collection') return Reflect.get(target, key, receiver) as unknown;
      return <T extends { id: string }>(name: string): ReadModelCollection<T> => {
        const collection = target.collection<T>(name);
        return {
          get: (id) => collection.get(id),
          apply: (id, position, update) => collection.apply(id, position, update),
          clear: () => collection.clear(),
          find: counted((query) => collection.find(query)),
          findAll: counted((where) => collection.findAll(where)),
          count: counted((where) => collection.count(where)),
        };
      };
    },
  }) as ReadStore;
  return { store: wrapped, queries: () => queries };
}

describe('history names of ids nested in lists, bounded', () => {
  const store = new InMemoryReadStore();
  let rejections: ProjectHistoryEntry[];

  beforeAll(async () => {
    const projection = new ProjectHistoryProjection();
    let position = 0;
    const record = (streamId: string, type: string, data: Record<string, unknown>) => {
      position += 1;
      const event = { streamId, type, v: 1, data: { projectId: 'p1', ...data }, revision: 0, position, metadata };
      return projection.apply(event as RecordedEvent, store);
    };
    for (let k = 0; k < PAGE; k += 1)
      for (const imageId of k < 100 ? listedBy(k) : [`img-${k}`])
        await record(`image-${imageId}`, 'ImageUploaded', { imageId, filename: `${imageId}.png` });
    await record('iteration-it1', 'IterationQueued', { iterationId: 'it1', number: 1 });
    for (let k = 0; k < PAGE; k += 1)
      await record('label-suggestions-it1', 'LabelSuggestionsRejected', { iterationId: 'it1', imageIds: listedBy(k) });
    rejections = await store
      .collection<ProjectHistoryEntry>(PROJECT_HISTORY)
      .findAll({ projectId: 'p1', type: 'LabelSuggestionsRejected' });
  });

  it(`names the first ${MAX_NAMED_PER_ENTRY} images a short page's rejection lists, in one query per kind`, async () => {
    const { store: counted, queries } = counting(store);
    const [first] = await namesAsOfEntries(counted, 'p1', rejections.slice(0, 2));
    expect(Object.keys(first.images)).toEqual(listedBy(0).slice(0, MAX_NAMED_PER_ENTRY));
    expect(first.images['img-0-3']).toBe('img-0-3.png');
    expect(first.iterations).toEqual({ it1: 1 });
    // Labels, images, iterations; none for deployments, which no entry refers to.
    expect(queries()).toBe(3);
  });

  it(`names each rejection of a 100-entry page by its first images, looking up ${MIN_LOOKED_UP_PER_PAGE} of the 3000`, async () => {
    const { store: counted, queries } = counting(store);
    const names = await namesAsOfEntries(counted, 'p1', rejections.slice(0, 100));
    const perEntry = MIN_LOOKED_UP_PER_PAGE / 100;
    expect(names.map((named) => Object.keys(named.images))).toEqual(
      rejections.slice(0, 100).map((_, k) => listedBy(k).slice(0, perEntry)),
    );
    expect(queries()).toBe(3);
  });

  it('names each rejection of a full page by its first image, looking up one image an entry', async () => {
    const { store: counted, queries } = counting(store);
    const names = await namesAsOfEntries(counted, 'p1', rejections);
    expect(names).toHaveLength(PAGE);
    // 30 000 images listed: every entry's first is looked up before any entry's second, and those fill the budget.
    expect(names.map((named) => Object.keys(named.images))).toEqual(rejections.map((_, k) => [`img-${k}`]));
    expect(names.every((named) => named.iterations.it1 === 1)).toBe(true);
    expect(queries()).toBe(3);
  });
});
