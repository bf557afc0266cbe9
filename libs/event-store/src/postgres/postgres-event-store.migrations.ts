import { AdvisoryLock, DIYML_LOCK_SPACE, type Migration } from '@diyml/core';

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
  {
    version: 3,
    description: 'event ids (unique) and append_batch(): several appends in one transaction, repeats answered',
    // Old events get ids of their own. append_batch() takes the appends lock once for all the appends a process
    // has waiting, so they share one round trip and one WAL flush. Per append, in order, it answers one row:
    // 'appended' (current_revision before, last_revision and last_position after), 'conflict' (the expected
    // revision did not match: current_revision), 'repeat' (these very ids are already this stream's events
    // right after the expected revision: the original last_revision and last_position) or 'id_reused'.
    sql: `
      ALTER TABLE events ADD COLUMN event_id uuid;
      UPDATE events SET event_id = gen_random_uuid();
      ALTER TABLE events ALTER COLUMN event_id SET NOT NULL;
      CREATE UNIQUE INDEX events_event_id ON events (event_id);
      DROP FUNCTION append_events(text, integer, text[], integer[], json[], json);
      CREATE FUNCTION append_batch(
        p_streams text[], p_expected integer[], p_counts integer[], p_metadata json[],
        p_ids uuid[], p_types text[], p_versions integer[], p_data json[]
      ) RETURNS TABLE (outcome text, current_revision integer, last_revision integer, last_position bigint)
      LANGUAGE plpgsql AS $$
      DECLARE
        v_start bigint;
        v_head bigint;
        v_offset integer := 0;
        v_count integer;
        v_current integer;
        v_first_stream text;
        v_first_revision integer;
        v_matched integer;
        v_repeat_revision integer;
        v_repeat_position bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(${DIYML_LOCK_SPACE}, ${AdvisoryLock.eventAppends});
        SELECT coalesce(max(e.position), 0) INTO v_start FROM events e;
        v_head := v_start;
        FOR a IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
          v_count := p_counts[a];
          v_first_stream := NULL;
          IF v_count > 0 THEN
            SELECT e.stream_id, e.revision INTO v_first_stream, v_first_revision
              FROM events e WHERE e.event_id = p_ids[v_offset + 1];
          END IF;
          IF v_first_stream IS NOT NULL THEN
            SELECT count(*), max(e.revision), max(e.position) INTO v_matched, v_repeat_revision, v_repeat_position
              FROM unnest(p_ids[v_offset + 1 : v_offset + v_count]) WITH ORDINALITY AS i(id, n)
              JOIN events e ON e.event_id = i.id
              WHERE e.stream_id = p_streams[a] AND e.revision = v_first_revision + i.n - 1;
            IF v_matched = v_count AND coalesce(p_expected[a], v_first_revision - 1) = v_first_revision - 1 THEN
              RETURN QUERY SELECT 'repeat'::text, NULL::integer, v_repeat_revision, v_repeat_position;
            ELSE
              RETURN QUERY SELECT 'id_reused'::text, NULL::integer, NULL::integer, NULL::bigint;
            END IF;
          ELSE
            SELECT max(e.revision) INTO v_current FROM events e WHERE e.stream_id = p_streams[a];
            IF p_expected[a] IS NOT NULL AND coalesce(v_current, -1) <> p_expected[a] THEN
              RETURN QUERY SELECT 'conflict'::text, v_current, NULL::integer, NULL::bigint;
            ELSE
              INSERT INTO events (position, event_id, stream_id, revision, type, v, data, metadata)
                SELECT v_head + e.n, e.id, p_streams[a], coalesce(v_current, -1) + e.n::integer, e.type, e.v, e.data,
                       p_metadata[a]
                FROM unnest(
                  p_ids[v_offset + 1 : v_offset + v_count], p_types[v_offset + 1 : v_offset + v_count],
                  p_versions[v_offset + 1 : v_offset + v_count], p_data[v_offset + 1 : v_offset + v_count]
                ) WITH ORDINALITY AS e(id, type, v, data, n);
              v_head := v_head + v_count;
              RETURN QUERY SELECT 'appended'::text, v_current, coalesce(v_current, -1) + v_count, v_head;
            END IF;
          END IF;
          v_offset := v_offset + v_count;
        END LOOP;
        IF v_head > v_start THEN
          PERFORM pg_notify('${EVENTS_CHANNEL}', v_head::text);
        END IF;
      END
      $$`,
  },
];
