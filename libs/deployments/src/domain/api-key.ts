import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const DEPLOYMENT_KEY_PREFIX = 'dpk_';

/** A deployment key: 256 random bits. Only its sha256 is stored, so it is shown once. */
export function generateDeploymentKey(): { key: string; keyHash: string; keyPrefix: string } {
  const key = DEPLOYMENT_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, keyHash: hashDeploymentKey(key), keyPrefix: key.slice(0, DEPLOYMENT_KEY_PREFIX.length + 6) };
}

export function hashDeploymentKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Compares the hash of a presented key with the stored hash in constant time. */
export function deploymentKeyMatches(presented: string, storedHash: string): boolean {
  const given = createHash('sha256').update(presented).digest();
  const stored = Buffer.from(storedHash, 'hex');
  return stored.length === given.length && timingSafeEqual(given, stored);
}
