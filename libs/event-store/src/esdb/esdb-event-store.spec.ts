import { it } from 'vitest';
import { eventStoreContract } from '../testing/event-store.contract.js';
import { EsdbEventStore } from './esdb-event-store.js';

const connectionString = process.env.EVENTSTORE_CONNECTION_STRING;

if (connectionString) {
  eventStoreContract('EventStoreDB', async () => new EsdbEventStore(connectionString));
} else {
  it.skip('EventStore contract: EventStoreDB (skipped: set EVENTSTORE_CONNECTION_STRING to run it)', () => {});
}
