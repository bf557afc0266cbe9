import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { AuthThrottle, type HttpRequest } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { CustomVisionError } from '../domain/custom-vision-error.js';
import { INVALID_KEY_MESSAGE, takeKeyHeader, userOfPersonalToken } from './keys.js';

/** The Training API versions served (the SDK 5.2.0 speaks v3.4-preview; older clients v3.0 to v3.3). */
export const TRAINING_API_VERSIONS = ['v3.0', 'v3.1', 'v3.2', 'v3.3', 'v3.4-preview'] as const;

/** Answers 404 for a version of the API that is not served, as for any unknown path. */
export function assertVersion(request: HttpRequest, versions: readonly string[]): void {
  const version = String(request.params.version ?? '');
  if (!versions.includes(version)) {
    throw CustomVisionError.notFound(
      'NotFound',
      `Custom Vision API version ${version} is not served here: use one of ${versions.join(', ')}.`,
    );
  }
}

/**
 * `Training-Key: dml_…`: Custom Vision's training key is one of the caller's personal API tokens. The routes
 * are public to the global bearer guard; this guard authenticates them and sets `request.user` as it would.
 * Wrong keys count as failed sign-ins of the client address (AuthThrottle.refuse: 429 past the limit).
 */
@Injectable()
export class TrainingKeyGuard implements CanActivate {
  constructor(
    private readonly readStore: ReadStore,
    private readonly throttle: AuthThrottle,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<HttpRequest>();
    assertVersion(request, TRAINING_API_VERSIONS);
    const key = takeKeyHeader(request, 'training-key');
    if (!key) throw CustomVisionError.unauthorized(INVALID_KEY_MESSAGE);
    const user = await userOfPersonalToken(this.readStore, key);
    if (!user)
      throw await this.throttle.refuse(
        { source: String(request.ip) },
        CustomVisionError.unauthorized(INVALID_KEY_MESSAGE),
      );
    request.user = user;
    return true;
  }
}
