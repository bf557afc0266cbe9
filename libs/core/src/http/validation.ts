import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError } from '../domain/domain-error.js';

export interface FieldError {
  field: string;
  errors: string[];
}

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, errors: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/** Validation for every body, query and param: 400 VALIDATION_FAILED naming each bad field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      const summary = details.map((detail) => detail.errors.join('; ')).join('; ');
      return DomainError.validation('VALIDATION_FAILED', `Invalid request: ${summary}`, details);
    },
  });
}
