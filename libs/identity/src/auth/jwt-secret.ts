import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '@diyml/core';

/** JWT_SECRET, or for the embedded mode a random secret created once under DATA_DIR and kept there. */
export function resolveJwtSecret(settings: Settings): string {
  if (settings.JWT_SECRET) return settings.JWT_SECRET;
  const file = join(settings.DATA_DIR, 'jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(settings.DATA_DIR, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}
