import { Injectable } from '@nestjs/common';
import { Settings } from '../config/settings.js';
import { DomainError } from '../domain/domain-error.js';
import { type WindowCount, WindowCounts, WindowCountsUnavailableError } from '../window-counts/window-counts.port.js';

/** Who a sign-in attempt is counted against: always its client address, and the account when one is named. */
export interface AttemptSubjects {
  /** The client address (`request.ip`). */
  source: string;
  /** The account the attempt names, e.g. `user:ada` (a login); absent where the secret itself names it. */
  account?: string;
}

/**
 * Brakes on guessing: failed sign-ins (passwords, personal tokens, deployment keys) are counted per account
 * and per client address; past AUTH_FAILURES_PER_ACCOUNT / AUTH_FAILURES_PER_SOURCE in the window they are
 * answered 429 TOO_MANY_FAILED_ATTEMPTS with Retry-After. Passwords can be guessed and are costly to check, so
 * logins are refused before the password is checked (`assertAllowed`); tokens and keys are 256 random bits
 * and cheap to check, so a right one always passes and only wrong ones are answered 429 (`refuse`). A
 * successful sign-in is never slowed, and clears its account's count.
 */
@Injectable()
export class AuthThrottle {
  constructor(
    private readonly counts: WindowCounts,
    private readonly settings: Settings,
  ) {}

  async assertAllowed(subjects: AttemptSubjects): Promise<void> {
    const source = await this.peek(sourceKey(subjects));
    if (source.count >= this.settings.AUTH_FAILURES_PER_SOURCE) throw blocked('this address', source.secondsLeft);
    if (subjects.account === undefined) return;
    const account = await this.peek(accountKey(subjects));
    if (account.count >= this.settings.AUTH_FAILURES_PER_ACCOUNT) throw blocked('this account', account.secondsLeft);
  }

  async recordFailure(subjects: AttemptSubjects): Promise<void> {
    const window = this.settings.AUTH_FAILURE_WINDOW_SECONDS;
    await this.record(sourceKey(subjects), window);
    if (subjects.account !== undefined) await this.record(accountKey(subjects), window);
  }

  /** Counts a wrong token or key and answers what to throw: `refusal`, or 429 once the address is over its limit. */
  async refuse(subjects: AttemptSubjects, refusal: Error): Promise<Error> {
    const source = await this.record(sourceKey(subjects), this.settings.AUTH_FAILURE_WINDOW_SECONDS);
    return source.count > this.settings.AUTH_FAILURES_PER_SOURCE
      ? blocked('this address', source.secondsLeft)
      : refusal;
  }

  async recordSuccess(subjects: AttemptSubjects): Promise<void> {
    if (subjects.account !== undefined) await this.unlessUnavailable(this.counts.reset(accountKey(subjects)));
  }

  /**
   * Counts a registration from `source` before its password is hashed; 429 TOO_MANY_REGISTRATIONS past
   * REGISTRATIONS_PER_SOURCE in REGISTRATION_WINDOW_SECONDS. 200 registrations sent at once by one anonymous
   * client were all taken, and held the built api's /health for 6.5 s.
   */
  async countRegistration(source: string): Promise<void> {
    const counted = await this.record(`registration:${source}`, this.settings.REGISTRATION_WINDOW_SECONDS);
    if (counted.count <= this.settings.REGISTRATIONS_PER_SOURCE) return;
    const retryAfterSeconds = Math.max(counted.secondsLeft, 1);
    throw new DomainError(
      'rate-limited',
      'TOO_MANY_REGISTRATIONS',
      `Too many accounts were registered from this address: retry in ${retryAfterSeconds} s.`,
      { retryAfterSeconds },
    );
  }

  private peek(key: string): Promise<WindowCount> {
    return this.unlessUnavailable(this.counts.peek(key));
  }

  private record(key: string, windowSeconds: number): Promise<WindowCount> {
    return this.unlessUnavailable(this.counts.record(key, windowSeconds));
  }

  /**
   * Redis not answering is an outage to name (503), not an internal error: sign-ins are refused rather than let
   * through uncounted, and the client is told to retry.
   */
  private async unlessUnavailable<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      if (!(error instanceof WindowCountsUnavailableError)) throw error;
      throw new DomainError(
        'unavailable',
        'AUTH_THROTTLE_UNAVAILABLE',
        `Signing in is unavailable: ${error.message}. Retry shortly.`,
      );
    }
  }
}

const sourceKey = (subjects: AttemptSubjects) => `source:${subjects.source}`;
const accountKey = (subjects: AttemptSubjects) => `account:${subjects.account}`;

function blocked(whom: string, secondsLeft: number): DomainError {
  const retryAfterSeconds = Math.max(secondsLeft, 1);
  return new DomainError(
    'rate-limited',
    'TOO_MANY_FAILED_ATTEMPTS',
    `Too many failed sign-in attempts from ${whom}: retry in ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );
}
