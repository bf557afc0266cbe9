import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@diyml/core/pure';
import { hashDeploymentKey } from '../../domain/api-key.js';
import { DeploymentSettings } from '../../deployment-settings.js';
import { presentedKey } from './deployment-key.guard.js';
import { ThrottlerGuard, ThrottlerStorageService } from './throttler.js';

export const PREDICT_THROTTLER = 'predict';

/** The prediction throttler's own hit counts. */
@Injectable()
export class PredictThrottlerStorage extends ThrottlerStorageService {}

/**
 * Rate limit of the prediction route, per API key (by its hash; per client address without one):
 * PREDICT_RATE_LIMIT requests per PREDICT_RATE_WINDOW_SECONDS, then 429 with Retry-After. Its own options
 * and storage, so no other route is throttled by it. Counts are kept per api process.
 */
@Injectable()
export class PredictThrottlerGuard extends ThrottlerGuard {
  // Explicit tokens: ThrottlerGuard's own @Inject()s (module options, storage) would otherwise be inherited.
  constructor(
    @Inject(DeploymentSettings) settings: DeploymentSettings,
    @Inject(PredictThrottlerStorage) storage: PredictThrottlerStorage,
    @Inject(Reflector) reflector: Reflector,
  ) {
    super(
      {
        throttlers: [
          {
            name: PREDICT_THROTTLER,
            limit: settings.PREDICT_RATE_LIMIT,
            ttl: settings.PREDICT_RATE_WINDOW_SECONDS * 1000,
          },
        ],
      },
      storage,
      reflector,
    );
  }

  /** 429 TOO_MANY_REQUESTS in the API's error body (Retry-After-predict is set before this is called). */
  protected override async throwThrottlingException(
    context: ExecutionContext,
    detail: { timeToBlockExpire: number },
  ): Promise<void> {
    context
      .switchToHttp()
      .getResponse<{ setHeader(name: string, value: string): void }>()
      .setHeader('Retry-After', String(detail.timeToBlockExpire));
    throw new DomainError(
      'rate-limited',
      'TOO_MANY_REQUESTS',
      `Too many predictions with this API key: retry in ${detail.timeToBlockExpire} s.`,
      { retryAfterSeconds: detail.timeToBlockExpire },
    );
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const key = presentedKey(request as never);
    return key ? `key:${hashDeploymentKey(key)}` : `ip:${String(request.ip)}`;
  }
}
