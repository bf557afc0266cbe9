/**
 * What one batch of read-model writes costs on PostgreSQL, by hand: a projection's held document changes and the
 * checkpoints after them, written as the PostgreSQL read store writes them (one call of write_read_models(), with
 * the fencing check of the process that claimed the read models, and without it), beside the sequence the store
 * sent before (a transaction of BEGIN, the fencing check, the documents and COMMIT, then one more for the
 * checkpoints). Batches of 1 and 100 documents, rounds interleaved so that all variants see the same load;
 * medians in ms. Synchronous commit off, as the read store's pool sets it.
 *
 * Run: POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/postgres-read-model-writes.ts
 */
import pg from 'pg';
import { PostgresReadStore } from '@diyml/read-store';
import { benchDatabase } from './support/postgres.js';

const ROUNDS = 5;
const CALLS = 60;
const database = await benchDatabase();
// Creates the tables and functions (migrations), then gets out of the way.
await (await PostgresReadStore.connect(database.url)).close();
const client = new pg.Client({ connectionString: database.url });
await client.connect();
await client.query('SET synchronous_commit = off');
const { rows } = await client.query<{ token: string }>(
  'UPDATE read_model_writer SET token = token + 1 RETURNING token',
);
const token = rows[0].token;

let position = 0;
const batchOf = (size: number) => {
  position += 1;
  const ids = Array.from({ length: size }, (_, index) => `doc-${index}`);
  return {
    collections: ids.map(() => 'bench'),
    ids,
    // Inserted on the first call of each size, compare-and-set updates after: the expected version is the last one.
    expected: ids.map(() => (position > 1 ? position - 1 : null)),
    positions: ids.map(() => position),
    documents: ids.map((id) => JSON.stringify({ id, position, labels: ['a', 'b'], note: 'x'.repeat(200) })),
  };
};

const variants: Record<string, (size: number) => Promise<unknown>> = {
  'one statement, fenced': async (size) => {
    const b = batchOf(size);
    await client.query({
      name: 'fenced',
      text: 'SELECT write_read_models($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      values: [token, b.collections, b.ids, b.expected, b.positions, b.documents, ['bench'], [position], [1]],
    });
  },
  'one statement, not fenced': async (size) => {
    const b = batchOf(size);
    await client.query({
      name: 'unfenced',
      text: 'SELECT write_read_models($1, $2, $3, $4, $5, $6, $7, $8, $9)',
      values: [null, b.collections, b.ids, b.expected, b.positions, b.documents, ['bench'], [position], [1]],
    });
  },
  'before: two fenced transactions (8 statements)': async (size) => {
    const b = batchOf(size);
    await client.query('BEGIN');
    await client.query('SELECT token FROM read_model_writer FOR SHARE');
    await client.query({
      name: 'old-documents',
      text: `
        WITH v AS (
          SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[])
            AS v(collection, id, expected, position, document)
        ), inserted AS (
          INSERT INTO read_models (collection, id, position, document)
          SELECT collection, id, position, document::jsonb FROM v WHERE expected IS NULL
          ON CONFLICT (collection, id) DO NOTHING
          RETURNING collection, id
        ), updated AS (
          UPDATE read_models r SET position = v.position, document = v.document::jsonb
          FROM v WHERE v.expected IS NOT NULL AND r.collection = v.collection AND r.id = v.id AND r.position = v.expected
          RETURNING r.collection, r.id
        )
        SELECT collection, id FROM inserted UNION ALL SELECT collection, id FROM updated`,
      values: [b.collections, b.ids, b.expected, b.positions, b.documents],
    });
    await client.query('COMMIT');
    await client.query('BEGIN');
    await client.query('SELECT token FROM read_model_writer FOR SHARE');
    await client.query({
      name: 'old-checkpoints',
      text: `INSERT INTO read_model_checkpoints (name, position, version)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::integer[])
             ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, version = EXCLUDED.version`,
      values: [['bench'], [position], [1]],
    });
    await client.query('COMMIT');
  },
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const size of [1, 100]) {
  // Separate documents per size, all inserted by a first write.
  await client.query('DELETE FROM read_models');
  position = 0;
  await variants['one statement, not fenced'](size);
  await variants['one statement, not fenced'](size);
  const times = new Map<string, number[]>(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, write] of Object.entries(variants)) {
      for (let call = 0; call < CALLS; call += 1) {
        const started = performance.now();
        await write(size);
        times.get(name)!.push(performance.now() - started);
      }
    }
  }
  for (const [name, values] of times)
    console.log(`${size} document(s) per batch, ${name}: ${median(values).toFixed(2)} ms`);
}
const load = (await import('node:os')).loadavg().map((value) => value.toFixed(1));
console.log(`load average ${load.join(' / ')}`);
await client.end();
await database.drop();
