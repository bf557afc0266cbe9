import { DomainError } from '@diyml/core/pure';
import type { ExpectedRevision } from './event-store.port.js';

export const WRONG_EXPECTED_REVISION = 'WRONG_EXPECTED_REVISION';

export function wrongExpectedRevision(
  streamId: string,
  expected: ExpectedRevision,
  actual: number | 'no_stream',
): DomainError {
  return DomainError.conflict(
    WRONG_EXPECTED_REVISION,
    `Someone else changed this resource meanwhile (expected revision ${expected}, found ${actual}): read it again and retry.`,
    { streamId, expectedRevision: expected, actualRevision: actual },
  );
}
