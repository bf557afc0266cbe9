import type { DomainEvent } from '@diyml/core/pure';

export const userStream = (userId: string) => `user-${userId}`;
/** One stream per lower-cased username: creating it with no_stream makes usernames unique. */
export const usernameStream = (username: string) => `username-${username.toLowerCase()}`;

export type UsernameClaimed = DomainEvent<'UsernameClaimed', { username: string; userId: string }>;

/** How a password is checked; naming the algorithm lets the hashing change without rewriting history. */
export interface PasswordCredentials {
  algorithm: 'argon2id';
  hash: string;
}

/** v2: `credentials` replaces v1's bare `passwordHash` (see user.upcasters.ts). */
export type UserRegistered = DomainEvent<
  'UserRegistered',
  { userId: string; username: string; credentials: PasswordCredentials; registeredAt: string }
>;
export type ApiTokenIssued = DomainEvent<
  'ApiTokenIssued',
  { userId: string; tokenId: string; name: string; tokenHash: string; prefix: string; issuedAt: string }
>;
export type ApiTokenRevoked = DomainEvent<'ApiTokenRevoked', { userId: string; tokenId: string; revokedAt: string }>;

export type UserEvent = UserRegistered | ApiTokenIssued | ApiTokenRevoked;

export const USER_EVENT_TYPES = ['UserRegistered', 'ApiTokenIssued', 'ApiTokenRevoked'] as const;
