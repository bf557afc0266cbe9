import { describe, expect, it } from 'vitest';
import type { Connection } from 'mongoose';
import { MongoReadStore } from './mongo-read-store.js';

type Doc = Record<string, unknown> & { _id: string };

/**
 * Plays a MongoDB server started with `notablescan` (documented: a query no index can serve fails instead of
 * scanning the collection). An index serves a query when its leading keys are the equality fields, then the
 * sort field; `_deleted` (a negation, $ne) is checked on the documents the index finds.
 */
class NoTableScanCollection {
  readonly docs = new Map<string, Doc>();
  readonly indexes: string[][] = [['_id']];
  createdIndexes = 0;

  async createIndex(keys: Record<string, 1>) {
    this.createdIndexes += 1;
    this.indexes.push(Object.keys(keys));
  }

  private plan(filter: Record<string, unknown>, sortKeys: string[]) {
    // $in is a list of equalities: an index serves it as it serves one.
    const anyOf = (field: string) => (filter[field] as { $in?: unknown[] } | null)?.$in;
    const equality = Object.keys(filter).filter(
      (field) =>
        field !== '_deleted' && field !== '$or' && (typeof filter[field] !== 'object' || anyOf(field) !== undefined),
    );
    const served = this.indexes.some((index) => {
      const prefix = index.slice(0, equality.length);
      if (!equality.every((field) => prefix.includes(field))) return false;
      const rest = index.slice(equality.length);
      return sortKeys.every((key, i) => rest[i] === key || (key === '_id' && i === rest.length));
    });
    if (!served)
      throw new Error(`No query solutions (notablescan): filter ${equality.join(',')} sort ${sortKeys.join(',')}`);
    return [...this.docs.values()].filter(
      (doc) =>
        doc._deleted !== true && equality.every((field) => (anyOf(field) ?? [filter[field]]).includes(doc[field])),
    );
  }

  find(filter: Record<string, unknown>) {
    let sortKeys: string[] = ['_id'];
    const cursor = {
      sort: (sort: Record<string, number>) => ((sortKeys = Object.keys(sort)), cursor),
      limit: () => cursor,
      toArray: async () => this.plan(filter, sortKeys),
    };
    return cursor;
  }

  async countDocuments(filter: Record<string, unknown>) {
    return this.plan(filter, []).length;
  }

  async findOne(filter: { _id: string }) {
    return this.docs.get(filter._id) ?? null;
  }

  async replaceOne(filter: { _id: string }, replacement: Record<string, unknown>) {
    this.docs.set(filter._id, { ...replacement, _id: filter._id });
  }
}

function connectionWith(collections: Map<string, NoTableScanCollection>): Connection {
  return {
    collection(name: string) {
      if (!collections.has(name)) collections.set(name, new NoTableScanCollection());
      return collections.get(name);
    },
  } as unknown as Connection;
}

describe('MongoReadStore indexes', () => {
  it('creates the indexes its queries need, once, so none scans a collection', async () => {
    const collections = new Map<string, NoTableScanCollection>();
    const store = MongoReadStore.on(connectionWith(collections));
    const images = store.collection<{ id: string; projectId: string; createdAt: string; labelId: string | null }>(
      'images',
    );
    for (let i = 0; i < 5; i += 1) {
      await images.apply(`image-${i}`, i, () => ({
        id: `image-${i}`,
        projectId: i < 3 ? 'p1' : 'p2',
        createdAt: `2026-01-0${i + 1}`,
        labelId: null,
      }));
    }
    const page = await images.find({ where: { projectId: 'p1' }, orderBy: 'createdAt', limit: 2 });
    expect(page.items.map((image) => image.id)).toEqual(['image-0', 'image-1']);
    expect((await images.findAll({ projectId: 'p2' })).map((image) => image.id)).toEqual(['image-3', 'image-4']);
    expect(await images.count({ projectId: 'p1', labelId: null })).toBe(3);
    await images.findAll({ projectId: 'p1' });
    await images.find({ where: { projectId: 'p2' }, orderBy: 'createdAt', limit: 10 });
    const native = collections.get('rm_images')!;
    expect(native.indexes).toEqual([
      ['_id'],
      ['projectId', 'createdAt', '_id'],
      ['projectId', '_id'],
      ['labelId', 'projectId', '_id'],
    ]);
    expect(native.createdIndexes).toBe(3);
  });

  it('sends { in: [...] } as $in and serves it from the index of an equality on the same fields', async () => {
    const collections = new Map<string, NoTableScanCollection>();
    const store = MongoReadStore.on(connectionWith(collections));
    const entries = store.collection<{ id: string; projectId: string; stream: string }>('history');
    for (let i = 0; i < 4; i += 1)
      await entries.apply(`e${i}`, i, () => ({ id: `e${i}`, projectId: 'p1', stream: `image-${i}` }));
    const found = await entries.findAll({ projectId: 'p1', stream: { in: ['image-3', 'image-1', 'image-9'] } });
    expect(found.map((entry) => entry.id)).toEqual(['e1', 'e3']);
    expect(collections.get('rm_history')!.indexes).toEqual([['_id'], ['projectId', 'stream', '_id']]);
  });
});
