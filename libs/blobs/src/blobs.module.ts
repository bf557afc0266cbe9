import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { join } from 'node:path';
import { Settings } from '@diyml/core';
import { BlobStore } from './blob-store.port.js';
import { FsBlobStore, TEMPORARY_FILE_GRACE_MS } from './fs/fs-blob-store.js';
import { PostgresBlobStore } from './postgres/postgres-blob-store.js';

/**
 * Binds the BlobStore port: GridFS when MONGODB_URI is set, else PostgreSQL when POSTGRES_URL is set, else files
 * under DATA_DIR/blobs (each fsynced before it is renamed into place, unless BLOB_FSYNC=false; temporary files a
 * crash left are deleted at start, and those too young then once they are old enough).
 */
@Global()
@Module({
  providers: [
    {
      provide: BlobStore,
      inject: [Settings, ConfigService],
      useFactory: async (settings: Settings, config: ConfigService): Promise<BlobStore> => {
        const logger = new Logger('BlobStore');
        if (settings.MONGODB_URI) {
          logger.log('Using GridFS blobs');
          // Loaded here, not at import: only this mode needs mongoose.
          const { GridFsBlobStore } = await import('./gridfs/gridfs-blob-store.js');
          return GridFsBlobStore.connect(settings.MONGODB_URI);
        }
        if (settings.POSTGRES_URL) {
          logger.log('Using PostgreSQL blobs');
          return PostgresBlobStore.connect(settings.POSTGRES_URL, {
            synchronousCommit: settings.POSTGRES_SYNCHRONOUS_COMMIT === 'on',
          });
        }
        const directory = join(settings.DATA_DIR, 'blobs');
        // BLOB_FSYNC=false trades durability across a power cut for upload speed (about 1.5x on small images).
        const fsync = String(config.get('BLOB_FSYNC') ?? 'true').toLowerCase() !== 'false';
        logger.log(`Using the embedded blob store under ${directory}${fsync ? '' : ' (no fsync)'}`);
        const store = new FsBlobStore({ directory, fsync });
        const reportRemoved = (removed: number) =>
          logger.warn(`Removed ${removed} temporary blob file(s) left by interrupted writes`);
        const removed = await store.removeLeftovers();
        if (removed) reportRemoved(removed);
        store.sweepLeftoversEvery(TEMPORARY_FILE_GRACE_MS, (outcome) =>
          'removed' in outcome
            ? reportRemoved(outcome.removed)
            : logger.error(`Could not remove temporary blob files: ${String(outcome.error)}`),
        );
        return store;
      },
    },
  ],
  exports: [BlobStore],
})
export class BlobsModule implements OnApplicationShutdown {
  constructor(@Inject(BlobStore) private readonly blobs: BlobStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.blobs.close();
  }
}
