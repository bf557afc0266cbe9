import { it } from '@jest/globals';
import { readStoreContract } from '../testing/read-store.contract.js';
import { MongoReadStore } from './mongo-read-store.js';

const uri = process.env.MONGODB_URI;

if (uri) {
  readStoreContract('MongoDB', async () => {
    const store = await MongoReadStore.connect(uri);
    await store.dropAll();
    return store;
  });
} else {
  it.skip('ReadStore contract: MongoDB (skipped: set MONGODB_URI to run it)', () => {});
}
