import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { isDependencyUnreachable } from '../dependency-unreachable.js';
import { DomainError, type ErrorKind } from '../domain/domain-error.js';
import { ValidationFailedError } from './validation.js';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  validation: HttpStatus.BAD_REQUEST,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  'not-found': HttpStatus.NOT_FOUND,
  conflict: HttpStatus.CONFLICT,
  'precondition-failed': HttpStatus.PRECONDITION_FAILED,
  'too-large': HttpStatus.PAYLOAD_TOO_LARGE,
  'unsupported-media-type': HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  unprocessable: HttpStatus.UNPROCESSABLE_ENTITY,
  'rate-limited': HttpStatus.TOO_MANY_REQUESTS,
  unavailable: HttpStatus.SERVICE_UNAVAILABLE,
};

/** Codes for errors raised by Nest itself (routing, guards, body parsing, throttling). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'TOO_MANY_REQUESTS',
};

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: unknown;
  /** VALIDATION_FAILED: how many problems there are in all (`details` lists the first ones). */
  problemCount?: number;
}

/** Longest message an error body carries (a message may quote what the client sent). */
const MAX_MESSAGE_CHARACTERS = 2000;

/** A message cut to MAX_MESSAGE_CHARACTERS. */
export function boundedMessage(message: string): string {
  return message.length > MAX_MESSAGE_CHARACTERS ? `${message.slice(0, MAX_MESSAGE_CHARACTERS)}…` : message;
}

export function statusOfKind(kind: ErrorKind): number {
  return STATUS_BY_KIND[kind];
}

/** The one place that turns any error into the stable JSON error body of the API. */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(DomainExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (response.headersSent) {
      response.end();
      return;
    }
    const retryAfter = (body.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    const comeBackLater = [HttpStatus.TOO_MANY_REQUESTS, HttpStatus.SERVICE_UNAVAILABLE].includes(body.statusCode);
    if (comeBackLater && typeof retryAfter === 'number') {
      response.setHeader('Retry-After', String(retryAfter));
    }
    // For whoever counts errors by code once the answer is sent (deployment usage reports).
    response.locals.errorCode = body.code;
    response.status(body.statusCode).json(body);
  }

  toBody(exception: unknown): ErrorBody {
    if (exception instanceof DomainError) {
      const body: ErrorBody = {
        statusCode: STATUS_BY_KIND[exception.kind],
        code: exception.code,
        message: boundedMessage(exception.message),
      };
      if (exception.details !== undefined) body.details = exception.details;
      if (exception instanceof ValidationFailedError) body.problemCount = exception.problemCount;
      return body;
    }
    // A domain error thrown inside a wrapper (an interceptor's HttpException) keeps its own code.
    const cause = exception instanceof HttpException ? exception.cause : undefined;
    if (cause instanceof DomainError) return this.toBody(cause);
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'string'
          ? response
          : String((response as { message?: unknown }).message ?? exception.message);
      return { statusCode, code: CODE_BY_STATUS[statusCode] ?? `HTTP_${statusCode}`, message: boundedMessage(message) };
    }
    if (isDependencyUnreachable(exception)) {
      this.logger.warn(`A dependency does not answer: ${String((exception as { message?: unknown }).message)}`);
      return {
        statusCode: 503,
        code: 'DEPENDENCY_UNAVAILABLE',
        message: 'A service this api depends on (the database or Redis) does not answer: retry shortly.',
      };
    }
    this.logger.error(exception);
    return { statusCode: 500, code: 'INTERNAL_ERROR', message: 'Something went wrong on our side.' };
  }
}
