import { type ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';

const IS_PUBLIC = 'diyml:public';

/** Opens a route to anonymous callers (registration, login, health, prediction with its own key). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Global guard: every route needs a login JWT or a personal API token unless marked @Public(). */
@Injectable()
export class BearerAuthGuard extends AuthGuard(['jwt', 'api-token']) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    return isPublic ? true : super.canActivate(context);
  }
}
