import { leaseContract } from '../testing/lease.contract.js';
import { InProcessLease } from './in-process-lease.js';

leaseContract('in-process', async () => {
  const lease = new InProcessLease();
  return { open: async () => lease, crash: async () => {}, close: () => lease.close() };
});
