import { DomainError } from '@diyml/core/pure';

/** Opaque page cursor: the sort value and id of the last item of the previous page. */
export function encodeCursor(sortValue: unknown, id: string): string {
  return Buffer.from(JSON.stringify([sortValue, id])).toString('base64url');
}

export function decodeCursor(cursor: string): [unknown, string] {
  try {
    const decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(decoded) && decoded.length === 2 && typeof decoded[1] === 'string') {
      return [decoded[0], decoded[1]];
    }
  } catch {
    // fall through to the validation error below
  }
  throw DomainError.validation(
    'INVALID_CURSOR',
    'cursor is not one this API returned: use nextCursor from the previous page.',
  );
}
