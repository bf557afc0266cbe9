import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DomainError } from '@diyml/core/pure';
import { DeploymentSettings } from '../../deployment-settings.js';
import { ThrottlerGuard, ThrottlerStorageService } from '../predict/throttler.js';

/** The shared-model throttler's own hit counts. */
@Injectable()
export class SharedPredictThrottlerStorage extends ThrottlerStorageService {}

/**
 * Rate limit of shared-model predictions per calling user (all shared models together): SHARED_PREDICT_RATE_LIMIT
 * per SHARED_PREDICT_RATE_WINDOW_SECONDS, then 429 TOO_MANY_REQUESTS with Retry-After. One user cannot use up
 * an owner's machine for the others. Counts are kept per api process.
 */
@Injectable()
export class SharedPredictThrottlerGuard extends ThrottlerGuard {
  constructor(
    @Inject(DeploymentSettings) settings: DeploymentSettings,
    @Inject(SharedPredictThrottlerStorage) storage: SharedPredictThrottlerStorage,
    @Inject(Reflector) reflector: Reflector,
  ) {
    super(
      {
        throttlers: [
          {
            name: 'shared-predict',
            limit: settings.SHARED_PREDICT_RATE_LIMIT,
            ttl: settings.SHARED_PREDICT_RATE_WINDOW_SECONDS * 1000,
          },
        ],
      },
      storage,
      reflector,
    );
  }

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
      `Too many predictions with shared models: retry in ${detail.timeToBlockExpire} s.`,
      {
        retryAfterSeconds: detail.timeToBlockExpire,
      },
    );
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const user = request.user as { id?: string } | undefined;
    return `user:${user?.id ?? String(request.ip)}`;
  }
}
