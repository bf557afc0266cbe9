import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { Settings } from '../../core/src/index.js';
import { BlobStore } from './blob-store.port.js';
import { FsBlobStore } from './fs/fs-blob-store.js';
import { GridFsBlobStore } from './gridfs/gridfs-blob-store.js';

/** Binds the BlobStore port: GridFS when MONGODB_URI is set, else files under DATA_DIR/blobs. */
@Global()
@Module({
  providers: [
    {
      provide: BlobStore,
      inject: [Settings],
      useFactory: async (settings: Settings): Promise<BlobStore> => {
        const logger = new Logger('BlobStore');
        if (settings.MONGODB_URI) {
          logger.log('Using GridFS blobs');
          return GridFsBlobStore.connect(settings.MONGODB_URI);
        }
        const directory = join(settings.DATA_DIR, 'blobs');
        logger.log(`Using the embedded blob store under ${directory}`);
        return new FsBlobStore({ directory });
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
