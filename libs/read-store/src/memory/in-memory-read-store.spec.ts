import { readStoreContract } from '../testing/read-store.contract.js';
import { InMemoryReadStore } from './in-memory-read-store.js';

readStoreContract('in-memory', async () => new InMemoryReadStore());
