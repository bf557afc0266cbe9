import type { Migration } from '@diyml/core';

/** SQLSTATE of write_read_models() when another store claimed the read models after the caller. */
export const CLAIMED_ELSEWHERE_STATE = 'DY001';
/** SQLSTATE of write_read_models() when a compare-and-set missed: nothing of the batch was written. */
export const STALE_BASE_STATE = 'DY002';

export const READ_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'read_models: JSONB documents per collection with their position; projection checkpoints',
    // document NULL is a tombstone: the document was deleted at `position`, and an older repeated event must
    // not bring it back. The GIN index serves every equality filter (document @> {...}); ids sort bytewise,
    // as they do in the other adapters.
    sql: `
      CREATE TABLE read_models (
        collection text NOT NULL,
        id text COLLATE "C" NOT NULL,
        position bigint NOT NULL,
        document jsonb,
        PRIMARY KEY (collection, id)
      );
      CREATE INDEX read_models_document ON read_models USING gin (document jsonb_path_ops);
      CREATE TABLE read_model_checkpoints (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        version integer NOT NULL
      )`,
  },
  {
    version: 2,
    description: 'read_model_writer: the fencing token of the process that projects the shared read models',
    // One row. A process that takes the projections lease increments the token; every batch of document or
    // checkpoint writes reads it FOR SHARE in its transaction and is refused when it is no longer its own, so a
    // process that lost the lease writes nothing more, and a claim waits for the batch in flight to commit.
    sql: `
      CREATE TABLE read_model_writer (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        token bigint NOT NULL
      );
      INSERT INTO read_model_writer (token) VALUES (0)`,
  },
  {
    version: 3,
    description: 'write_read_models(): a batch of document writes and the checkpoints after them in one statement',
    // One round trip and one implicit transaction per batch: the claim check (FOR SHARE, skipped for a store that
    // never claimed), the inserts (p_expected NULL) and compare-and-set updates, then the checkpoints. When a write
    // finds another version than p_expected it raises STALE_BASE_STATE and nothing is written: the caller
    // applies those changes again on what the table holds, in a transaction of its own.
    sql: `
      CREATE FUNCTION write_read_models(
        p_token bigint, p_collections text[], p_ids text[], p_expected bigint[], p_positions bigint[],
        p_documents text[], p_checkpoints text[], p_checkpoint_positions bigint[], p_checkpoint_versions integer[]
      ) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        v_token bigint;
        v_inserted integer;
        v_updated integer;
      BEGIN
        IF p_token IS NOT NULL THEN
          SELECT w.token INTO v_token FROM read_model_writer w FOR SHARE;
          IF v_token <> p_token THEN
            RAISE EXCEPTION 'another process claimed the read models' USING ERRCODE = '${CLAIMED_ELSEWHERE_STATE}';
          END IF;
        END IF;
        INSERT INTO read_models (collection, id, position, document)
          SELECT v.collection, v.id, v.position, v.document::jsonb
          FROM unnest(p_collections, p_ids, p_expected, p_positions, p_documents)
            AS v(collection, id, expected, position, document)
          WHERE v.expected IS NULL
          ON CONFLICT (collection, id) DO NOTHING;
        GET DIAGNOSTICS v_inserted = ROW_COUNT;
        UPDATE read_models r SET position = v.position, document = v.document::jsonb
          FROM unnest(p_collections, p_ids, p_expected, p_positions, p_documents)
            AS v(collection, id, expected, position, document)
          WHERE v.expected IS NOT NULL AND r.collection = v.collection AND r.id = v.id AND r.position = v.expected;
        GET DIAGNOSTICS v_updated = ROW_COUNT;
        IF v_inserted + v_updated < coalesce(array_length(p_ids, 1), 0) THEN
          RAISE EXCEPTION 'a document changed since this process read it' USING ERRCODE = '${STALE_BASE_STATE}';
        END IF;
        INSERT INTO read_model_checkpoints (name, position, version)
          SELECT * FROM unnest(p_checkpoints, p_checkpoint_positions, p_checkpoint_versions)
          ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, version = EXCLUDED.version;
      END
      $$`,
  },
];
