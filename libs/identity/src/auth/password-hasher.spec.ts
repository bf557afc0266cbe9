import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import { validateSettings } from '@diyml/core';
import { PasswordHasher } from './password-hasher.js';

const hasherWith = (memoryKib: string) => new PasswordHasher(validateSettings({ PASSWORD_HASH_MEMORY_KIB: memoryKib }));

describe('PasswordHasher', () => {
  it('hashes with PASSWORD_HASH_MEMORY_KIB of argon2id memory, and checks a password against it', async () => {
    const hasher = hasherWith('2048');
    const passwordHash = await hasher.hash('correct horse battery');
    expect(passwordHash).toMatch(/^\$argon2id\$v=19\$m=2048,t=2,p=1\$/);
    expect(await hasher.verify(passwordHash, 'correct horse battery')).toBe(true);
    expect(await hasher.verify(passwordHash, 'wrong horse battery')).toBe(false);
  });

  it('still signs in accounts hashed before PASSWORD_HASH_MEMORY_KIB changed: the cost is read from each hash', async () => {
    const before = await hasherWith('19456').hash('correct horse battery');
    expect(await hasherWith('1024').verify(before, 'correct horse battery')).toBe(true);
  });
});
