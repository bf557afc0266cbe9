import { type Decider, DomainError } from '@diyml/core/pure';
import type { UsernameClaimed } from './user.events.js';

export type ClaimUsername = { type: 'ClaimUsername'; username: string; userId: string };

export interface UsernameClaimState {
  /** The user holding the name; claims are never given back. */
  holder: string | null;
}

/** A username (lower-cased: the stream is per lower-cased name) belongs to the first user who claims it. */
export const usernameClaimDecider: Decider<UsernameClaimState, ClaimUsername, UsernameClaimed> = {
  initialState: { holder: null },

  decide(command, state) {
    if (state.holder === command.userId) return [];
    if (state.holder !== null) {
      throw DomainError.conflict('USERNAME_TAKEN', `The username "${command.username}" is taken: choose another.`);
    }
    return [{ type: 'UsernameClaimed', v: 1, data: { username: command.username, userId: command.userId } }];
  },

  evolve(state, event) {
    return { holder: state.holder ?? event.data.userId };
  },
};
