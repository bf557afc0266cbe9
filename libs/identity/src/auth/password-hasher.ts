import { hash, verify } from '@node-rs/argon2';
import { Injectable } from '@nestjs/common';
import { ConcurrencyGate } from '@diyml/core';

/** argon2id (the library's default algorithm) with the OWASP-recommended minimum cost: 19 MiB, 2 passes. */
const OPTIONS = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

/**
 * Hashes running at once. argon2 runs on libuv's thread pool (4 threads), which the api's file reads and writes and
 * zlib share: 40 anonymous logins at once held an fs.stat for 2.4 s, 300 for about 15 s. Two leave the other threads
 * to them; further sign-ins wait their turn in memory.
 */
const HASHES_AT_ONCE = 2;

@Injectable()
export class PasswordHasher {
  private dummyHash?: Promise<string>;
  private readonly hashing = new ConcurrencyGate(HASHES_AT_ONCE);

  hash(password: string): Promise<string> {
    return this.hashing.run(() => hash(password, OPTIONS));
  }

  verify(passwordHash: string, password: string): Promise<boolean> {
    return this.hashing.run(() => verify(passwordHash, password));
  }

  /** Spends the same time as a real check, so unknown usernames cannot be told apart by timing. */
  async verifyAgainstNothing(password: string): Promise<false> {
    this.dummyHash ??= this.hash('not-a-password-anyone-has');
    await this.verify(await this.dummyHash, password);
    return false;
  }
}
