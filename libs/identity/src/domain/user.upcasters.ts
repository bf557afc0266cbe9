import type { Upcaster } from '@diyml/event-store';

/** UserRegistered v1 stored `passwordHash`; v2 names the algorithm beside the hash. */
export const userRegisteredV1ToV2: Upcaster = {
  type: 'UserRegistered',
  fromVersion: 1,
  upcast(data) {
    const { passwordHash, ...rest } = data as { passwordHash: string } & Record<string, unknown>;
    return { ...rest, credentials: { algorithm: 'argon2id', hash: passwordHash } };
  },
};

export const identityUpcasters: readonly Upcaster[] = [userRegisteredV1ToV2];
