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
 * Reads an `If-Match` header into an expected revision. Absent or `*`: undefined (the handler uses what it read).
 * Accepts `W/"3"`, `"3"` and `3`. An entity tag this API never issued (e.g. `"abc"`) cannot match any revision:
 * 412, as RFC 9110 says; a header that is not an entity tag at all, or names several revisions, is 400.
 */
export function expectedRevisionFromIfMatch(ifMatch: string | undefined): number | undefined {
  if (ifMatch === undefined || ifMatch.trim() === '*') return undefined;
  const tags = ifMatch.split(',').map((tag) => tag.trim());
  if (!tags.every((tag) => /^(?:W\/)?"[\x21\x23-\x7e]*"$|^\d+$/.test(tag))) {
    throw DomainError.validation('INVALID_IF_MATCH', 'If-Match must be an ETag returned by this API, e.g. W/"3".');
  }
  const revisions = new Set(tags.flatMap((tag) => /^(?:W\/)?"?(\d+)"?$/.exec(tag)?.[1] ?? []).map(Number));
  if (revisions.size > 1) {
    throw DomainError.validation('INVALID_IF_MATCH', 'If-Match must name one revision: send the ETag you last read.');
  }
  const [revision] = revisions;
  if (revision === undefined) {
    throw new DomainError(
      'precondition-failed',
      'REVISION_MISMATCH',
      `If-Match ${ifMatch} is not an ETag of this resource: read it again and retry with its ETag.`,
    );
  }
  return revision;
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
