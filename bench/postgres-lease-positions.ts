/**
 * How fast the reactors of one process record their positions on PostgreSQL, by hand: 8 leases held on one
 * PostgresLease (one session, as in an api or worker), each advanced 100 times, each awaiting its own write
 * before the next (as a reactor does after each reaction while it catches up), all 8 at once. Rounds alternate
 * with one lease alone; medians of the rounds in positions/s.
 *
 * Run: POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/postgres-lease-positions.ts
 */
import { randomUUID } from 'node:crypto';
import { PostgresLease } from '@diyml/read-store';
import { benchDatabase } from './support/postgres.js';

const ROUNDS = 5;
const ADVANCES = 100;
const database = await benchDatabase();
const lease = new PostgresLease(database.url, 'diyml-lease-bench');

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
/** Positions written per second by `reactors` leases advancing at once. */
const rate = async (reactors: number) => {
  const held = await Promise.all(Array.from({ length: reactors }, () => lease.tryAcquire(randomUUID(), 10_000)));
  const started = performance.now();
  await Promise.all(
    held.map(async (one) => {
      for (let position = 0; position < ADVANCES; position += 1) await one!.advance(position);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(held.map((one) => one!.release()));
  return (reactors * ADVANCES) / seconds;
};

const together: number[] = [];
const alone: number[] = [];
for (let round = 0; round < ROUNDS; round += 1) {
  together.push(await rate(8));
  alone.push(await rate(1));
}
await lease.close();
await database.drop();
console.log(`load average ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim()}`);
console.log(
  `8 leases at once: ${median(together).toFixed(0)} positions/s (${together.map((v) => v.toFixed(0)).join(', ')})`,
);
console.log(`1 lease alone:    ${median(alone).toFixed(0)} positions/s (${alone.map((v) => v.toFixed(0)).join(', ')})`);
