import { type CanActivate, type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { HttpRequest } from '@diyml/core';
import { BearerAuthenticator } from './bearer-authenticator.js';

const IS_PUBLIC = 'diyml:public';

/** Opens a route to anonymous callers (registration, login, health, prediction with its own key). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Global guard: every route needs a login JWT or a personal API token unless marked @Public(). */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: BearerAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const request = context.switchToHttp().getRequest<HttpRequest>();
    request.user = await this.authenticator.authenticate(request.headers.authorization, String(request.ip));
    return true;
  }
}
