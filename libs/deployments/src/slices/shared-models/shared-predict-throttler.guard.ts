import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard } from '@nestjs/throttler';
import { DomainError } from '@diyml/core/pure';
import { DeploymentSettings } from '../../deployment-settings.js';
import { PredictionRateCounts } from '../predict/prediction-rate-counts.js';

/**
 * Rate limit of shared-model predictions per calling user (all shared models together): SHARED_PREDICT_RATE_LIMIT
 * per SHARED_PREDICT_RATE_WINDOW_SECONDS, then 429 TOO_MANY_REQUESTS with Retry-After. One user cannot use up
 * an owner's machine for the others. Counted across api replicas when Redis is configured (PredictionRateCounts).
 */
@Injectable()
export class SharedPredictThrottlerGuard extends ThrottlerGuard {
  constructor(
    @Inject(DeploymentSettings) settings: DeploymentSettings,
    @Inject(PredictionRateCounts) counts: PredictionRateCounts,
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
      counts,
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

  /** One count per caller over every shared model, not one per route. */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return tracker + ':' + name;
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const user = request.user as { id?: string } | undefined;
    return `user:${user?.id ?? String(request.ip)}`;
  }
}
