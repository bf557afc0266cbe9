import { Global, Logger, Module } from '@nestjs/common';
import { join } from 'node:path';
import { Settings } from '../../core/src/index.js';
import { EsdbEventStore } from './esdb/esdb-event-store.js';
import { EventStore } from './event-store.port.js';
import { SqliteEventStore } from './sqlite/sqlite-event-store.js';
import { Upcasters } from './upcasters.js';

/** Binds the EventStore port: EventStoreDB when a connection string is set, else the SQLite file. */
@Global()
@Module({
  providers: [
    Upcasters,
    {
      provide: EventStore,
      inject: [Settings, Upcasters],
      useFactory: (settings: Settings, upcasters: Upcasters): EventStore => {
        const logger = new Logger('EventStore');
        if (settings.EVENTSTORE_CONNECTION_STRING) {
          logger.log('Using EventStoreDB');
          return new EsdbEventStore(settings.EVENTSTORE_CONNECTION_STRING, upcasters);
        }
        const filename = join(settings.DATA_DIR, 'events.sqlite');
        logger.log(`Using the embedded SQLite event store at ${filename}`);
        return new SqliteEventStore({ filename, upcasters });
      },
    },
  ],
  exports: [EventStore, Upcasters],
})
export class EventStoreModule {}
