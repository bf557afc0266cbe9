import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import { USER_EVENT_TYPES, type UserEvent } from '../../domain/user.events.js';

export const USERS = 'users';
export const USERNAMES = 'usernames';
export const API_TOKENS = 'api-tokens';
export const API_TOKENS_BY_HASH = 'api-tokens-by-hash';

export interface UserView {
  id: string;
  username: string;
  passwordHash: string;
  createdAt: string;
}

/** Lower-cased username → user id, for login. */
export interface UsernameView {
  id: string;
  userId: string;
}

export interface ApiTokenView {
  id: string;
  userId: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

/** sha256 of a personal token → its owner, for authentication in one lookup. */
export interface ApiTokenHashView {
  id: string;
  tokenId: string;
  userId: string;
  revoked: boolean;
}

@ReadModelProjection()
@Injectable()
export class UsersProjection implements Projection<UserEvent> {
  readonly name = 'users';
  readonly version = 1;
  readonly collections = [USERS, USERNAMES, API_TOKENS, API_TOKENS_BY_HASH];
  readonly eventTypes = USER_EVENT_TYPES;

  async apply(event: Recorded<UserEvent>, store: ReadStore): Promise<void> {
    const position = event.position;
    switch (event.type) {
      case 'UserRegistered': {
        const { userId, username, credentials, registeredAt } = event.data;
        await store.collection<UserView>(USERS).apply(userId, position, () => ({
          id: userId,
          username,
          passwordHash: credentials.hash,
          createdAt: registeredAt,
        }));
        await store
          .collection<UsernameView>(USERNAMES)
          .apply(username.toLowerCase(), position, () => ({ id: username.toLowerCase(), userId }));
        return;
      }
      case 'ApiTokenIssued': {
        const { userId, tokenId, name, prefix, tokenHash, issuedAt } = event.data;
        await store.collection<ApiTokenView>(API_TOKENS).apply(tokenId, position, () => ({
          id: tokenId,
          userId,
          name,
          prefix,
          createdAt: issuedAt,
          revokedAt: null,
        }));
        await store
          .collection<ApiTokenHashView>(API_TOKENS_BY_HASH)
          .apply(tokenHash, position, () => ({ id: tokenHash, tokenId, userId, revoked: false }));
        return;
      }
      case 'ApiTokenRevoked': {
        const { tokenId, revokedAt } = event.data;
        const tokens = store.collection<ApiTokenView>(API_TOKENS);
        await tokens.apply(tokenId, position, (token) => (token ? { ...token, revokedAt } : null));
        const byHash = store.collection<ApiTokenHashView>(API_TOKENS_BY_HASH);
        for (const entry of await byHash.findAll({ tokenId })) {
          await byHash.apply(entry.id, position, (current) => (current ? { ...current, revoked: true } : null));
        }
        return;
      }
    }
  }
}
