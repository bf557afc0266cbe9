import { ParseUUIDPipe } from '@nestjs/common';
import { DomainError } from '../domain/domain-error.js';

/** The 400 INVALID_ID of a path id that is not a UUID, naming the parameter. */
export function invalidIdError(name: string): DomainError {
  return DomainError.validation('INVALID_ID', `${name} must be a UUID.`, [{ field: name, errors: ['must be a UUID'] }]);
}

/** Path ids are UUIDs: anything else is a 400 INVALID_ID naming the parameter. */
export function UuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({ exceptionFactory: () => invalidIdError(name) });
}
