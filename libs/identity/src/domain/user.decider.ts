import { type CommandMetadata, type Decider, DomainError } from '@diyml/core/pure';
import type { UserEvent } from './user.events.js';

export const MAX_ACTIVE_API_TOKENS = 50;

export type UserCommand =
  | { type: 'RegisterUser'; userId: string; username: string; passwordHash: string; metadata: CommandMetadata }
  | {
      type: 'IssueApiToken';
      tokenId: string;
      name: string;
      tokenHash: string;
      prefix: string;
      metadata: CommandMetadata;
    }
  | { type: 'RevokeApiToken'; tokenId: string; metadata: CommandMetadata };

export interface UserState {
  userId: string | null;
  tokens: Map<string, { revoked: boolean }>;
}

export const userDecider: Decider<UserState, UserCommand, UserEvent> = {
  initialState: { userId: null, tokens: new Map() },

  decide(command, state) {
    const at = command.metadata.now.toISOString();
    switch (command.type) {
      case 'RegisterUser':
        if (state.userId !== null) {
          throw DomainError.conflict('USER_ALREADY_REGISTERED', `User ${command.userId} is already registered.`);
        }
        return [
          {
            type: 'UserRegistered',
            v: 2,
            data: {
              userId: command.userId,
              username: command.username,
              credentials: { algorithm: 'argon2id', hash: command.passwordHash },
              registeredAt: at,
            },
          },
        ];
      case 'IssueApiToken': {
        const userId = requireUser(state);
        const active = [...state.tokens.values()].filter((token) => !token.revoked).length;
        if (active >= MAX_ACTIVE_API_TOKENS) {
          throw DomainError.unprocessable(
            'TOO_MANY_API_TOKENS',
            `A user can hold at most ${MAX_ACTIVE_API_TOKENS} active tokens: revoke one first.`,
          );
        }
        return [
          {
            type: 'ApiTokenIssued',
            v: 1,
            data: {
              userId,
              tokenId: command.tokenId,
              name: command.name,
              tokenHash: command.tokenHash,
              prefix: command.prefix,
              issuedAt: at,
            },
          },
        ];
      }
      case 'RevokeApiToken': {
        const userId = requireUser(state);
        const token = state.tokens.get(command.tokenId);
        if (!token) throw DomainError.notFound('API_TOKEN_NOT_FOUND', `Token ${command.tokenId} does not exist.`);
        if (token.revoked) return [];
        return [{ type: 'ApiTokenRevoked', v: 1, data: { userId, tokenId: command.tokenId, revokedAt: at } }];
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'UserRegistered':
        return { ...state, userId: event.data.userId };
      case 'ApiTokenIssued':
        return { ...state, tokens: new Map(state.tokens).set(event.data.tokenId, { revoked: false }) };
      case 'ApiTokenRevoked':
        return { ...state, tokens: new Map(state.tokens).set(event.data.tokenId, { revoked: true }) };
    }
  },
};

function requireUser(state: UserState): string {
  if (state.userId === null) throw DomainError.notFound('USER_NOT_FOUND', 'The user does not exist.');
  return state.userId;
}
