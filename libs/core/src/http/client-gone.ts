import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Response } from 'express';
import { DomainError } from '../domain/domain-error.js';

export const CLIENT_CLOSED_REQUEST = 'CLIENT_CLOSED_REQUEST';

/**
 * Aborted when the client goes away before its answer is sent (the connection closed with the response unfinished),
 * so costly work nobody will read (an `asOf` snapshot, an export) can be dropped from its queue or stopped. The
 * reason is a DomainError, in case anything still tries to answer.
 */
export function clientGoneSignal(response: Response): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (response.writableFinished) return;
    controller.abort(
      new DomainError('unavailable', CLIENT_CLOSED_REQUEST, 'The client closed the request before its answer.'),
    );
  });
  return controller.signal;
}

/** The request's `clientGoneSignal`. */
export const ClientGone = createParamDecorator((_: unknown, context: ExecutionContext): AbortSignal =>
  clientGoneSignal(context.switchToHttp().getResponse()),
);
