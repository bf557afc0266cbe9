import type { Migration } from '../../../core/src/index.js';

export const EVENT_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'events: the log, unique (stream_id, revision), gapless global positions',
    // data and metadata are json, not jsonb: the log keeps each event's text exactly as it was written.
    sql: `
      CREATE TABLE events (
        position bigint PRIMARY KEY,
        stream_id text NOT NULL,
        revision integer NOT NULL,
        type text NOT NULL,
        v integer NOT NULL,
        data json NOT NULL,
        metadata json NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (stream_id, revision)
      )`,
  },
];
