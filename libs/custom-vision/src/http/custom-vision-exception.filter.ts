import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { DomainExceptionFilter, type FieldError, ValidationFailedError } from '@diyml/core';
import {
  CODE_BY_DOMAIN_CODE,
  CODE_BY_STATUS,
  codeOfInvalidField,
  CustomVisionError,
  type FieldProblem,
  statusOfCode,
} from '../domain/custom-vision-error.js';

export interface CustomVisionErrorBody {
  code: string;
  message: string;
}

/** The input decorators (http/input.ts) word a missing field "… is required", a list over its limit "… at most N". */
function problemOf(field: FieldError): FieldProblem {
  if (field.errors.some((error) => error.endsWith(' is required'))) return 'missing';
  if (field.errors.some((error) => / at most \d+$/.test(error))) return 'too-many';
  return 'invalid';
}

/**
 * Scoped to the Custom Vision controllers only: answers every error with Custom Vision's `{code, message}`
 * body. Errors of the other contexts are first put in our own shape by the core filter (so the mapping of
 * kinds to statuses stays in one place), then renamed to Custom Vision's codes. A request the global validation
 * refused (its DTOs are Azure's request models) gets the code Azure gives its first bad field.
 */
@Catch()
export class CustomVisionExceptionFilter implements ExceptionFilter {
  private readonly core = new DomainExceptionFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { status, body } = this.toBody(exception);
    if (response.headersSent) {
      response.end();
      return;
    }
    if (status === 429) {
      const retryAfter = (this.core.toBody(exception).details as { retryAfterSeconds?: unknown } | undefined)
        ?.retryAfterSeconds;
      if (typeof retryAfter === 'number') response.setHeader('Retry-After', String(retryAfter));
    }
    response.locals.errorCode = body.code;
    response.status(status).json(body);
  }

  toBody(exception: unknown): { status: number; body: CustomVisionErrorBody } {
    if (exception instanceof CustomVisionError) {
      return { status: exception.status, body: { code: exception.code, message: exception.message } };
    }
    const ours = this.core.toBody(exception);
    if (exception instanceof ValidationFailedError) {
      const [first] = ours.details as FieldError[];
      const code = first ? codeOfInvalidField(first.field, problemOf(first)) : 'BadRequest';
      return { status: 400, body: { code, message: ours.message } };
    }
    const code =
      CODE_BY_DOMAIN_CODE[ours.code] ??
      CODE_BY_STATUS[ours.statusCode] ??
      (ours.statusCode >= 500 ? 'ErrorUnknown' : 'BadRequest');
    return { status: statusOfCode(code, ours.statusCode), body: { code, message: ours.message } };
  }
}
