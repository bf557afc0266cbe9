import { Global, Inject, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { Settings } from '@diyml/core';
import { CommandPipeline } from './command-pipeline.js';
import { EventStore } from './event-store.port.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';
import { Upcasters } from './upcasters.js';

/**
 * Binds the EventStore port: EventStoreDB when its connection string is set, else PostgreSQL when POSTGRES_URL is
 * set, else the SQLite file.
 */
@Global()
@Module({
  providers: [
    Upcasters,
    CommandPipeline,
    {
      provide: EventStore,
      inject: [Settings, Upcasters],
      useFactory: async (settings: Settings, upcasters: Upcasters): Promise<EventStore> => {
        const logger = new Logger('EventStore');
        if (settings.EVENTSTORE_CONNECTION_STRING) {
          logger.log('Using EventStoreDB');
          // Loaded here, not at import: only this mode needs the gRPC client.
          const { EsdbEventStore } = await import('./esdb/esdb-event-store.js');
          return new EsdbEventStore(settings.EVENTSTORE_CONNECTION_STRING, upcasters);
        }
        if (settings.POSTGRES_URL) {
          logger.log('Using the PostgreSQL event store');
          return PostgresEventStore.connect({
            url: settings.POSTGRES_URL,
            upcasters,
            synchronousCommit: settings.POSTGRES_SYNCHRONOUS_COMMIT === 'on',
          });
        }
        const filename = join(settings.DATA_DIR, 'events.sqlite');
        logger.log(`Using the embedded SQLite event store at ${filename}`);
        return new SqliteEventStore({ filename, upcasters });
      },
    },
  ],
  exports: [EventStore, Upcasters, CommandPipeline],
})
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EventStore) private readonly events: EventStore) {}

  /** Runs after the modules imported after this one (read models, jobs, contexts) have stopped using the log. */
  async onApplicationShutdown(): Promise<void> {
    await this.events.close();
  }
}
