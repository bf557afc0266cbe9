import { quotaReservationsContract } from '../../testing/quota-reservations.contract.js';
import { InProcessQuotaReservations } from './in-process-quota-reservations.js';

// One process: every "process" of the contract is the same instance.
quotaReservationsContract('in this process (embedded)', async () => {
  const reservations = new InProcessQuotaReservations();
  return { open: async () => reservations, close: () => reservations.close() };
});
