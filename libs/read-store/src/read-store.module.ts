import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Settings } from '@diyml/core';
import { ReadModelsProgress } from '@diyml/event-store';
import { InMemoryReadStore } from './memory/in-memory-read-store.js';
import { PostgresReadStore } from './postgres/postgres-read-store.js';
import { ProjectionRunner } from './projection-runner.js';
import { ReadStore } from './read-store.port.js';

/**
 * Binds the ReadStore port (MongoDB when MONGODB_URI is set, else PostgreSQL when POSTGRES_URL is set, else memory)
 * and runs the projections.
 */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: ReadStore,
      inject: [Settings],
      useFactory: async (settings: Settings): Promise<ReadStore> => {
        const logger = new Logger('ReadStore');
        if (settings.MONGODB_URI) {
          logger.log('Using MongoDB read models');
          // Loaded here, not at import: only this mode needs mongoose.
          const { MongoReadStore } = await import('./mongo/mongo-read-store.js');
          return MongoReadStore.connect(settings.MONGODB_URI);
        }
        if (settings.POSTGRES_URL) {
          logger.log('Using PostgreSQL read models');
          return PostgresReadStore.connect(settings.POSTGRES_URL);
        }
        logger.log('Using in-memory read models, rebuilt from the log at start');
        return new InMemoryReadStore();
      },
    },
    ProjectionRunner,
    { provide: ReadModelsProgress, useExisting: ProjectionRunner },
  ],
  exports: [ReadStore, ProjectionRunner, ReadModelsProgress],
})
export class ReadStoreModule implements OnApplicationShutdown {
  constructor(@Inject(ReadStore) private readonly readStore: ReadStore) {}

  /** A module's own hook runs after its providers', so the ProjectionRunner has saved its checkpoints. */
  async onApplicationShutdown(): Promise<void> {
    await this.readStore.close();
  }
}
