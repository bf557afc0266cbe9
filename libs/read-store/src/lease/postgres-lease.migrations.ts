import type { Migration } from '@diyml/core';

export const LEASE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'leases: holder, expiry and log position of each named lease (replaces lease_positions)',
    // holder_pid is the holder's session (pg_backend_pid): a lease whose session ended is free before its expiry.
    // The positions recorded while leases were advisory locks carry over; lease_positions may not exist yet.
    sql: `
      CREATE TABLE leases (
        name text PRIMARY KEY,
        holder uuid,
        holder_pid integer,
        expires_at timestamptz NOT NULL,
        position bigint NOT NULL DEFAULT -1
      );
      CREATE TABLE IF NOT EXISTS lease_positions (name text PRIMARY KEY, position bigint NOT NULL);
      INSERT INTO leases (name, expires_at, position) SELECT name, now(), position FROM lease_positions;
      DROP TABLE lease_positions`,
  },
];
