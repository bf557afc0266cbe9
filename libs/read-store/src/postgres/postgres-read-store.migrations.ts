import type { Migration } from '@diyml/core';

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
];
