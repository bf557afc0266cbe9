import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError } from '../domain/domain-error.js';

export interface FieldError {
  field: string;
  errors: string[];
}

/** Problems listed in a 400 VALIDATION_FAILED; the body gives their total count beside them. */
export const MAX_LISTED_PROBLEMS = 20;
/** Longest field name or message quoted back, so a body that names a huge key gets a small answer. */
const MAX_QUOTED_CHARACTERS = 200;

function clip(text: string): string {
  return text.length > MAX_QUOTED_CHARACTERS ? `${text.slice(0, MAX_QUOTED_CHARACTERS)}…` : text;
}

/**
 * The problems of a failed validation, depth first, without recursion: the first `max` in full, and the total.
 * Nested errors (`items.0.label`) are named by their path.
 */
export function collectProblems(errors: ValidationError[], max = MAX_LISTED_PROBLEMS): { listed: FieldError[]; total: number } {
  const listed: FieldError[] = [];
  let total = 0;
  const pending = errors.map((error) => ({ error, parent: '' })).reverse();
  while (pending.length > 0) {
    const { error, parent } = pending.pop()!;
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      total += 1;
      if (listed.length < max) listed.push({ field: clip(field), errors: Object.values(error.constraints).map(clip) });
    }
    const children = error.children ?? [];
    for (let index = children.length - 1; index >= 0; index -= 1) pending.push({ error: children[index], parent: field });
  }
  return { listed, total };
}

/** 400 VALIDATION_FAILED: the first problems in `details`, and how many there are in all. */
export class ValidationFailedError extends DomainError {
  constructor(
    listed: FieldError[],
    readonly problemCount: number,
  ) {
    const summary = listed.map((problem) => problem.errors.join('; ')).join('; ');
    const more = problemCount > listed.length ? ` (and ${problemCount - listed.length} more)` : '';
    super('validation', 'VALIDATION_FAILED', `Invalid request: ${summary}${more}`, listed);
  }
}

/**
 * Validation for every body, query and param: 400 VALIDATION_FAILED naming the first bad fields (at most
 * MAX_LISTED_PROBLEMS, with `problemCount` saying how many there are in all), so the answer stays small.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    exceptionFactory: (errors) => {
      const { listed, total } = collectProblems(errors);
      return new ValidationFailedError(listed, total);
    },
  });
}
