import { hash, verify } from '@node-rs/argon2';
import { Injectable } from '@nestjs/common';
import { ConcurrencyGate, DomainError, Settings } from '@diyml/core';

/** argon2id (the library's default algorithm), 2 passes, PASSWORD_HASH_MEMORY_KIB of memory (OWASP's minimum: 19 MiB). */
const PASSES = 2;

/**
 * Hashes running at once. argon2 runs on libuv's thread pool (4 threads), which the api's file reads and writes and
 * zlib share: 40 anonymous logins at once held an fs.stat for 2.4 s, 300 for about 15 s. Two leave the other threads
 * to them; further sign-ins wait their turn in memory, SIGN_IN_MAX_WAITING of them at most.
 */
const HASHES_AT_ONCE = 2;

const SIGN_IN_BUSY = 'SIGN_IN_BUSY';
/** A full queue empties in about a second: a client told to come back after this finds room. */
const BUSY_RETRY_AFTER_SECONDS = 2;

@Injectable()
export class PasswordHasher {
  private dummyHash?: Promise<string>;
  private readonly hashing = new ConcurrencyGate(HASHES_AT_ONCE);
  private readonly options: { memoryCost: number; timeCost: number; parallelism: number };

  constructor(private readonly settings: Settings) {
    this.options = { memoryCost: settings.PASSWORD_HASH_MEMORY_KIB, timeCost: PASSES, parallelism: 1 };
  }

  hash(password: string): Promise<string> {
    return this.inTurn(() => hash(password, this.options));
  }

  verify(passwordHash: string, password: string): Promise<boolean> {
    return this.inTurn(() => verify(passwordHash, password));
  }

  /** Spends the same time as a real check, so unknown usernames cannot be told apart by timing. */
  async verifyAgainstNothing(password: string): Promise<false> {
    // Made once, outside the bound: a refusal must not stay cached as the process's dummy hash.
    this.dummyHash ??= this.hashing.run(() => hash('not-a-password-anyone-has', this.options));
    await this.verify(await this.dummyHash, password);
    return false;
  }

  /** Runs a hash in its turn, or refuses at once (503 SIGN_IN_BUSY, Retry-After) when the queue is full. */
  private async inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.hashing.queued >= this.settings.SIGN_IN_MAX_WAITING) {
      throw new DomainError(
        'unavailable',
        SIGN_IN_BUSY,
        'The server is checking too many sign-ins at once: try again in a few seconds.',
        { retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS },
      );
    }
    return this.hashing.run(work);
  }
}
