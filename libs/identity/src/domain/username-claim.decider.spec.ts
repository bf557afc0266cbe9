import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { usernameClaimDecider } from './username-claim.decider.js';

const spec = deciderSpecification(usernameClaimDecider);
const claimedBy = (userId: string, username = 'ada') => ({
  type: 'UsernameClaimed' as const,
  v: 1,
  data: { username, userId },
});

describe('usernameClaimDecider', () => {
  it('gives a free username to the user who claims it', () => {
    spec
      .given([])
      .when({ type: 'ClaimUsername', username: 'Ada', userId: 'u1' })
      .then([claimedBy('u1', 'Ada')]);
  });

  it('refuses a username another user holds with USERNAME_TAKEN', () => {
    spec
      .given([claimedBy('u1')])
      .when({ type: 'ClaimUsername', username: 'ADA', userId: 'u2' })
      .thenThrows('USERNAME_TAKEN');
  });

  it('changes nothing when the holder claims it again', () => {
    spec
      .given([claimedBy('u1')])
      .when({ type: 'ClaimUsername', username: 'ada', userId: 'u1' })
      .thenNothingHappens();
  });
});
