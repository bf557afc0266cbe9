/**
 * What kind of failure a domain error is. The HTTP layer maps kinds to status codes in one place
 * (DomainExceptionFilter); the domain never speaks HTTP.
 */
export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'precondition-failed'
  | 'too-large'
  | 'unsupported-media-type'
  | 'unprocessable'
  | 'rate-limited'
  | 'unavailable';

/** A refused command or a failed lookup, with a stable `code` clients can switch on. */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  static notFound(code: string, message: string, details?: unknown): DomainError {
    return new DomainError('not-found', code, message, details);
  }

  static conflict(code: string, message: string, details?: unknown): DomainError {
    return new DomainError('conflict', code, message, details);
  }

  static validation(code: string, message: string, details?: unknown): DomainError {
    return new DomainError('validation', code, message, details);
  }

  static unprocessable(code: string, message: string, details?: unknown): DomainError {
    return new DomainError('unprocessable', code, message, details);
  }

  static unauthenticated(code: string, message: string): DomainError {
    return new DomainError('unauthenticated', code, message);
  }
}

export function isDomainError(error: unknown, code?: string): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}
