import type { Response } from 'express';
import { DomainError } from '../domain/domain-error.js';

/** Weak ETag of a stream revision, e.g. `W/"3"`. */
export function etagOf(revision: number): string {
  return `W/"${revision}"`;
}

export function setEtag(response: Response, revision: number): void {
  response.setHeader('ETag', etagOf(revision));
}

/**
 * Reads an `If-Match` header into an expected revision. Absent: undefined (the handler uses what it read).
 * Accepts `W/"3"`, `"3"` and `3`.
 */
export function expectedRevisionFromIfMatch(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch === '*') return undefined;
  const match = /^(?:W\/)?"?(\d+)"?$/.exec(ifMatch.trim());
  if (!match) {
    throw DomainError.validation('INVALID_IF_MATCH', 'If-Match must be an ETag returned by this API, e.g. W/"3".');
  }
  return Number(match[1]);
}

/** 412 when the client's If-Match does not name the current revision. */
export function assertRevisionMatches(expected: number | undefined, current: number): void {
  if (expected !== undefined && expected !== current) {
    throw new DomainError(
      'precondition-failed',
      'REVISION_MISMATCH',
      `The resource is at revision ${current}, not ${expected}: read it again and retry with its ETag.`,
      { currentRevision: current },
    );
  }
}
