import { ParseUUIDPipe } from '@nestjs/common';
import { DomainError } from '../domain/domain-error.js';

/** Path ids are UUIDs: anything else is a 400 INVALID_ID naming the parameter. */
export function UuidParam(name: string): ParseUUIDPipe {
  return new ParseUUIDPipe({
    exceptionFactory: () =>
      DomainError.validation('INVALID_ID', `${name} must be a UUID.`, [{ field: name, errors: ['must be a UUID'] }]),
  });
}
