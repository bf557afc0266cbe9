/**
 * What naming a history page costs on PostgreSQL, by hand: `namesAsOfEntries` for the newest 100 ImageUploaded
 * entries of a project with 2,000 uploads (and 2,000 entries of another project beside them), in the read store
 * the api uses with POSTGRES_URL. Reports the read-store queries one page sends and the median of 30 calls in ms.
 *
 * Run: POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/history-names.ts
 */
import os from 'node:os';
import pg from 'pg';
import { PostgresReadStore, type ReadModelCollection, type ReadStore } from '@diyml/read-store';
import { historyEntryId, namesAsOfEntries, PROJECT_HISTORY, type ProjectHistoryEntry } from '@diyml/projects';
import { benchDatabase } from './support/postgres.js';

const UPLOADS = 2000;
const PAGE = 100;
const CALLS = 30;

const database = await benchDatabase();
const store = await PostgresReadStore.connect(database.url);
const history = store.collection<ProjectHistoryEntry>(PROJECT_HISTORY);
let position = 0;
const record = (projectId: string, stream: string, type: string, data: Record<string, unknown>) => {
  position += 1;
  const entry: ProjectHistoryEntry = {
    id: historyEntryId(position),
    position,
    projectId,
    stream,
    type,
    v: 1,
    data: { projectId, ...data },
    metadata: { userId: 'u', correlationId: 'c', at: '2026-12-05T00:00:00.000Z' },
  };
  return history.apply(entry.id, position, () => entry);
};
for (const projectId of ['p-other', 'p-bench']) {
  await record(projectId, `project-${projectId}`, 'LabelAdded', { labelId: `${projectId}-red`, name: 'red' });
  for (let index = 0; index < UPLOADS; index += 1) {
    const imageId = `${projectId}-image-${index}`;
    await record(projectId, `image-${imageId}`, 'ImageUploaded', { imageId, filename: `photo-${index}.png` });
  }
}
await store.flush();
// As autovacuum would: moves the new entries from the GIN pending list into the index and gathers statistics.
const client = new pg.Client({ connectionString: database.url });
await client.connect();
await client.query('VACUUM ANALYZE read_models');
await client.end();

/** The store, counting the queries (find, findAll, count) its collections are asked. */
let queries = 0;
const counted =
  <Args extends unknown[], Result>(query: (...args: Args) => Result) =>
  (...args: Args) => {
    queries += 1;
    return query(...args);
  };
const counting = new Proxy(store, {
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

const page = (
  await history.find({
    where: { projectId: 'p-bench', type: 'ImageUploaded' },
    orderBy: 'position',
    direction: 'desc',
    limit: PAGE,
  })
).items;
const names = await namesAsOfEntries(counting, 'p-bench', page);
if (Object.keys(names[0].images).length !== 1) throw new Error('the page names no image');
const perPage = queries;
const times: number[] = [];
for (let call = 0; call < CALLS; call += 1) {
  const started = performance.now();
  await namesAsOfEntries(store, 'p-bench', page);
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
console.log(
  `${PAGE}-entry ImageUploaded page: ${perPage} read-store queries, median ${times[CALLS >> 1].toFixed(1)} ms ` +
    `(min ${times[0].toFixed(1)}, max ${times[CALLS - 1].toFixed(1)}; load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')})`,
);
await store.close();
await database.drop();
