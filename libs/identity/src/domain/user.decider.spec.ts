import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { type UserCommand, userDecider } from './user.decider.js';
import type { UserEvent } from './user.events.js';

const metadata = { userId: 'u1', correlationId: 'c1', now: new Date('2026-03-01T10:00:00.000Z') };
const spec = deciderSpecification(userDecider);
const registered: UserEvent = {
  type: 'UserRegistered',
  v: 2,
  data: {
    userId: 'u1',
    username: 'ada',
    credentials: { algorithm: 'argon2id', hash: 'hash' },
    registeredAt: '2026-01-01T00:00:00.000Z',
  },
};
const issued: UserEvent = {
  type: 'ApiTokenIssued',
  v: 1,
  data: {
    userId: 'u1',
    tokenId: 't1',
    name: 'ci',
    tokenHash: 'h',
    prefix: 'dml_abcd',
    issuedAt: '2026-01-02T00:00:00.000Z',
  },
};
const issue: UserCommand = {
  type: 'IssueApiToken',
  tokenId: 't1',
  name: 'ci',
  tokenHash: 'h',
  prefix: 'dml_abcd',
  metadata,
};

describe('user decider', () => {
  it('registers a new user with the time from the metadata', () => {
    spec
      .given([])
      .when({ type: 'RegisterUser', userId: 'u1', username: 'ada', passwordHash: 'hash', metadata })
      .then([
        {
          type: 'UserRegistered',
          v: 2,
          data: {
            userId: 'u1',
            username: 'ada',
            credentials: { algorithm: 'argon2id', hash: 'hash' },
            registeredAt: '2026-03-01T10:00:00.000Z',
          },
        },
      ]);
  });

  it('refuses to register the same user twice', () => {
    spec
      .given([registered])
      .when({ type: 'RegisterUser', userId: 'u1', username: 'ada', passwordHash: 'x', metadata })
      .thenThrows('USER_ALREADY_REGISTERED');
  });

  it('issues a token to a registered user', () => {
    spec
      .given([registered])
      .when(issue)
      .then([{ ...issued, data: { ...issued.data, issuedAt: '2026-03-01T10:00:00.000Z' } }]);
  });

  it('refuses a token for a user that does not exist', () => {
    spec.given([]).when(issue).thenThrows('USER_NOT_FOUND');
  });

  it('revokes an active token', () => {
    spec
      .given([registered, issued])
      .when({ type: 'RevokeApiToken', tokenId: 't1', metadata })
      .then([
        { type: 'ApiTokenRevoked', v: 1, data: { userId: 'u1', tokenId: 't1', revokedAt: '2026-03-01T10:00:00.000Z' } },
      ]);
  });

  it('treats revoking a revoked token as done', () => {
    spec
      .given([
        registered,
        issued,
        { type: 'ApiTokenRevoked', v: 1, data: { userId: 'u1', tokenId: 't1', revokedAt: 'x' } },
      ])
      .when({ type: 'RevokeApiToken', tokenId: 't1', metadata })
      .thenNothingHappens();
  });

  it('refuses to revoke an unknown token', () => {
    spec
      .given([registered])
      .when({ type: 'RevokeApiToken', tokenId: 'nope', metadata })
      .thenThrows('API_TOKEN_NOT_FOUND');
  });
});
