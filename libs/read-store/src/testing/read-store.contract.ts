import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReadStore } from '../read-store.port.js';

interface Item {
  id: string;
  owner: string;
  rank: number;
  label?: string | null;
  tags?: string[];
}

/** The behaviour every ReadStore adapter must have. */
export function readStoreContract(name: string, create: () => Promise<ReadStore>): void {
  describe(`ReadStore contract: ${name}`, () => {
    let store: ReadStore;

    beforeEach(async () => {
      store = await create();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores what a projection applies and reads it back', async () => {
      const items = store.collection<Item>('items');
      await items.apply('a', 1, () => ({ id: 'a', owner: 'u1', rank: 1 }));
      expect(await items.get('a')).toEqual({ id: 'a', owner: 'u1', rank: 1 });
      expect(await items.get('missing')).toBeUndefined();
    });

    it('applies an event at most once per document, so a repeated event changes nothing', async () => {
      const items = store.collection<Item>('items');
      const increment = (current: Item | undefined): Item => ({
        id: 'a',
        owner: 'u1',
        rank: (current?.rank ?? 0) + 1,
      });
      await items.apply('a', 5, increment);
      await items.apply('a', 5, increment);
      await items.apply('a', 3, increment);
      expect((await items.get('a'))?.rank).toBe(1);
      await items.apply('a', 6, increment);
      expect((await items.get('a'))?.rank).toBe(2);
    });

    it('deletes with null and does not resurrect on an older repeated event', async () => {
      const items = store.collection<Item>('items');
      await items.apply('a', 1, () => ({ id: 'a', owner: 'u1', rank: 1 }));
      await items.apply('a', 2, () => null);
      await items.apply('a', 1, () => ({ id: 'a', owner: 'u1', rank: 1 }));
      expect(await items.get('a')).toBeUndefined();
      expect(await items.count()).toBe(0);
    });

    it('filters by equality (null matches missing), sorts and pages with a cursor', async () => {
      const items = store.collection<Item>('items');
      const ranks = [5, 3, 9, 1, 7, 3];
      for (const [index, rank] of ranks.entries()) {
        await items.apply(`i${index}`, index + 1, () => ({
          id: `i${index}`,
          owner: index % 2 === 0 ? 'u1' : 'u2',
          rank,
          ...(index < 2 ? { label: 'cat' } : {}),
        }));
      }
      const first = await items.find({ orderBy: 'rank', limit: 4 });
      expect(first.items.map((i) => i.rank)).toEqual([1, 3, 3, 5]);
      expect(first.nextCursor).not.toBeNull();
      const second = await items.find({ orderBy: 'rank', limit: 4, cursor: first.nextCursor! });
      expect(second.items.map((i) => i.rank)).toEqual([7, 9]);
      expect(second.nextCursor).toBeNull();

      const descending = await items.find({ orderBy: 'rank', direction: 'desc', limit: 2 });
      expect(descending.items.map((i) => i.rank)).toEqual([9, 7]);

      expect((await items.findAll({ owner: 'u1' })).map((i) => i.id)).toEqual(['i0', 'i2', 'i4']);
      expect(await items.count({ label: null })).toBe(4);
      expect(await items.count({ owner: 'u2', label: 'cat' })).toBe(1);
    });

    it('answers the same after documents change, move between filters, are deleted, and after a page was read', async () => {
      const items = store.collection<Item>('items');
      const put = (id: string, position: number, item: Omit<Item, 'id'>) =>
        items.apply(id, position, () => ({ id, ...item }));
      for (let index = 0; index < 10; index += 1)
        await put(`d${index}`, index + 1, { owner: index < 5 ? 'u1' : 'u2', rank: index });
      const page = async (owner: string) =>
        (await items.find({ where: { owner }, orderBy: 'rank', limit: 3 })).items.map((i) => i.id);
      expect(await page('u1')).toEqual(['d0', 'd1', 'd2']);
      await put('d1', 20, { owner: 'u2', rank: 1 });
      await items.apply('d0', 21, () => null);
      await put('d2', 22, { owner: 'u1', rank: 50 });
      expect(await page('u1')).toEqual(['d3', 'd4', 'd2']);
      expect(await page('u2')).toEqual(['d1', 'd5', 'd6']);
      expect(await items.count({ owner: 'u2' })).toBe(6);
      const rest = await items.find({
        where: { owner: 'u2' },
        orderBy: 'rank',
        limit: 3,
        cursor: (await items.find({ where: { owner: 'u2' }, orderBy: 'rank', limit: 3 })).nextCursor!,
      });
      expect(rest.items.map((i) => i.id)).toEqual(['d7', 'd8', 'd9']);
    });

    it('matches a value filter on an array field when the array holds the value', async () => {
      const items = store.collection<Item>('items');
      await items.apply('a', 1, () => ({ id: 'a', owner: 'u', rank: 2, tags: ['cat', 'dog'] }));
      await items.apply('b', 2, () => ({ id: 'b', owner: 'u', rank: 1, tags: ['dog'] }));
      await items.apply('c', 3, () => ({ id: 'c', owner: 'u', rank: 3, tags: [] }));
      const tagged = async (tag: string) =>
        (await items.find({ where: { owner: 'u', tags: tag }, orderBy: 'rank', limit: 10 })).items.map((i) => i.id);
      expect(await tagged('dog')).toEqual(['b', 'a']);
      expect(await tagged('cat')).toEqual(['a']);
      await items.apply('a', 4, () => ({ id: 'a', owner: 'u', rank: 2, tags: ['cat'] }));
      expect(await tagged('dog')).toEqual(['b']);
      expect(await items.count({ tags: 'cat' })).toBe(1);
      // The same filter as the pages above, its fields named in another order.
      expect(await items.count({ tags: 'dog', owner: 'u' })).toBe(1);
      expect(await items.count({ tags: 'cat', owner: 'u' })).toBe(1);
    });

    it('matches any of several values with { in: [...] }: null matches missing, an array field any element', async () => {
      const items = store.collection<Item>('items');
      const put = (id: string, position: number, item: Omit<Item, 'id'>) =>
        items.apply(id, position, () => ({ id, ...item }));
      await put('a', 1, { owner: 'u1', rank: 3, label: 'cat', tags: ['x', 'y'] });
      await put('b', 2, { owner: 'u2', rank: 2, label: 'dog', tags: ['y'] });
      await put('c', 3, { owner: 'u3', rank: 1, tags: [] });
      await put('d', 4, { owner: 'u1', rank: 4, label: null });
      await put('e', 5, { owner: 'u1', rank: 5 });
      await items.apply('e', 6, () => null);
      const ids = (found: Item[]) => found.map((item) => item.id);

      expect(ids(await items.findAll({ owner: { in: ['u1', 'u3'] } }))).toEqual(['a', 'c', 'd']);
      expect(ids(await items.findAll({ id: { in: ['d', 'a', 'missing'] } }))).toEqual(['a', 'd']);
      expect(ids(await items.findAll({ owner: { in: [] } }))).toEqual([]);
      expect(await items.count({ label: { in: ['dog', null] } })).toBe(3);
      // A document whose array holds several of the values is found once.
      expect(ids(await items.findAll({ tags: { in: ['x', 'y'] } }))).toEqual(['a', 'b']);
      expect(ids(await items.findAll({ owner: 'u1', label: { in: ['cat', 'dog'] } }))).toEqual(['a']);

      const first = await items.find({
        where: { owner: { in: ['u1', 'u2'] } },
        orderBy: 'rank',
        direction: 'desc',
        limit: 2,
      });
      expect(ids(first.items)).toEqual(['d', 'a']);
      const rest = await items.find({
        where: { owner: { in: ['u1', 'u2'] } },
        orderBy: 'rank',
        direction: 'desc',
        limit: 2,
        cursor: first.nextCursor!,
      });
      expect(ids(rest.items)).toEqual(['b']);
      expect(rest.nextCursor).toBeNull();

      await put('a', 7, { owner: 'u2', rank: 3 });
      expect(ids(await items.findAll({ owner: { in: ['u1', 'u3'] } }))).toEqual(['c', 'd']);
      expect(await items.count({ owner: { in: ['u1', 'u2'] } })).toBe(3);
    });

    it('keeps checkpoints with their version', async () => {
      expect(await store.checkpoints.get('p')).toBeUndefined();
      await store.checkpoints.set('p', { position: 42, version: 2 });
      expect(await store.checkpoints.get('p')).toEqual({ position: 42, version: 2 });
    });

    it('saves several checkpoints in one write, new ones and moved ones', async () => {
      await store.checkpoints.set('p', { position: 42, version: 2 });
      await store.checkpoints.setAll(
        new Map([
          ['p', { position: 50, version: 2 }],
          ['q', { position: 7, version: 1 }],
        ]),
      );
      expect(await store.checkpoints.get('p')).toEqual({ position: 50, version: 2 });
      expect(await store.checkpoints.get('q')).toEqual({ position: 7, version: 1 });
      await store.checkpoints.setAll(new Map());
      expect(await store.checkpoints.get('q')).toEqual({ position: 7, version: 1 });
    });

    it('clears a collection and lists only collections that hold documents', async () => {
      await store.collection<Item>('kept').apply('a', 1, () => ({ id: 'a', owner: 'u', rank: 1 }));
      await store.collection<Item>('cleared').apply('b', 2, () => ({ id: 'b', owner: 'u', rank: 1 }));
      await store.collection('cleared').clear();
      expect(await store.collectionNames()).toEqual(['kept']);
    });
  });
}
