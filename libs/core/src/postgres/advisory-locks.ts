/**
 * Keys of the PostgreSQL advisory locks diyml takes, in one place so no two uses collide. Each lock is the
 * pair (DIYML_LOCK_SPACE, key) of `pg_advisory_lock(int, int)`.
 */
export const DIYML_LOCK_SPACE = 0x64_69_79; // 'diy'

export const AdvisoryLock = {
  /** Held while a process applies schema migrations, so two processes starting at once do not both migrate. */
  migrations: 1,
  /** Held by each event append until it commits, so global positions become visible in order, never skipped. */
  eventAppends: 2,
} as const;
