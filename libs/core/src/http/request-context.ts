import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { CommandMetadata } from '../domain/metadata.js';

export interface AuthenticatedUser {
  id: string;
  username: string;
}

/** An Express request after authentication (the bearer guard sets `user`) and logging (pino-http sets `id`). */
export type HttpRequest = Request & { user?: AuthenticatedUser; id?: unknown };

/** Who is calling and in which request: everything command metadata needs but the time. */
export interface RequestContext {
  readonly userId: string | null;
  readonly correlationId: string;
}

export function requestContextOf(request: HttpRequest): RequestContext {
  const user = request.user;
  return { userId: user?.id ?? null, correlationId: String(request.id ?? '') };
}

export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext =>
  requestContextOf(context.switchToHttp().getRequest<HttpRequest>()),
);

/** The authenticated user of the request (routes behind the auth guard always have one). */
export const CurrentUser = createParamDecorator(
  (_: unknown, context: ExecutionContext): AuthenticatedUser =>
    context.switchToHttp().getRequest<HttpRequest>().user as AuthenticatedUser,
);

export function commandMetadata(context: RequestContext, now: Date, causationId?: string): CommandMetadata {
  return { userId: context.userId, correlationId: context.correlationId, now, causationId };
}
