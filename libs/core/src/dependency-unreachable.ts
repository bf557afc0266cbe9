/** Node's codes for a server that cannot be reached or went away mid-request. */
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);
/** PostgreSQL's: a shutdown (57P01-57P03), or any connection exception (class 08). */
const UNAVAILABLE_SQLSTATE = /^(57P0[1-3]|08...)$/;

/**
 * An outage rather than a bug: the database or Redis refused the connection, dropped it, or is shutting down
 * (errors of the pg and ioredis clients, recognised by their codes and names, not by which store threw them).
 */
export function isDependencyUnreachable(error: unknown): boolean {
  // Not `instanceof Error`: Node's own socket errors may come from another realm (a test runner's module sandbox).
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNREACHABLE_ERRNOS.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  // ioredis gave up on a command; pg lost a connection it had.
  return (
    name === 'MaxRetriesPerRequestError' || (typeof message === 'string' && /^Connection terminated/.test(message))
  );
}
