import { AdvisoryLock, DIYML_LOCK_SPACE, type Migration } from '../../../core/src/index.js';

/** The NOTIFY channel an append announces its last position on. */
export const EVENTS_CHANNEL = 'diyml_events';

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
  {
    version: 2,
    description: 'append_events(): an append in one round trip',
    // Takes the appends lock until commit, checks the expected revision (p_expected NULL: any), inserts at the
    // next positions and notifies. On a conflict it inserts nothing and answers the stream's current revision.
    sql: `
      CREATE FUNCTION append_events(
        p_stream text, p_expected integer, p_types text[], p_versions integer[], p_data json[], p_metadata json
      ) RETURNS TABLE (current_revision integer, last_revision integer, last_position bigint)
      LANGUAGE plpgsql AS $$
      DECLARE
        v_current integer;
        v_head bigint;
        v_count integer := coalesce(array_length(p_types, 1), 0);
      BEGIN
        PERFORM pg_advisory_xact_lock(${DIYML_LOCK_SPACE}, ${AdvisoryLock.eventAppends});
        SELECT max(revision) INTO v_current FROM events WHERE stream_id = p_stream;
        IF p_expected IS NOT NULL AND coalesce(v_current, -1) <> p_expected THEN
          RETURN QUERY SELECT v_current, NULL::integer, NULL::bigint;
          RETURN;
        END IF;
        SELECT coalesce(max(position), 0) INTO v_head FROM events;
        INSERT INTO events (position, stream_id, revision, type, v, data, metadata)
          SELECT v_head + e.i, p_stream, coalesce(v_current, -1) + e.i::integer, e.type, e.v, e.data, p_metadata
          FROM unnest(p_types, p_versions, p_data) WITH ORDINALITY AS e(type, v, data, i);
        IF v_count > 0 THEN
          PERFORM pg_notify('${EVENTS_CHANNEL}', (v_head + v_count)::text);
        END IF;
        RETURN QUERY SELECT v_current, coalesce(v_current, -1) + v_count, v_head + v_count;
      END
      $$`,
  },
];
