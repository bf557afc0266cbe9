import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard } from '@nestjs/throttler';
import { DomainError } from '@diyml/core/pure';
import { DeploymentSettings } from '../../deployment-settings.js';
import type { PredictRequest } from './deployment-key.guard.js';
import { PredictionRateCounts } from './prediction-rate-counts.js';

export const PREDICT_THROTTLER = 'predict';

/**
 * Rate limit of predictions, per deployment (whose key let the request in): PREDICT_RATE_LIMIT requests per
 * PREDICT_RATE_WINDOW_SECONDS over every prediction route (native, video, Custom Vision), then 429 with
 * Retry-After. Its own options, so no other route is throttled by it; counted across api replicas when Redis is
 * configured (PredictionRateCounts).
 */
@Injectable()
export class PredictThrottlerGuard extends ThrottlerGuard {
  // Explicit tokens: ThrottlerGuard's own @Inject()s (module options, storage) would otherwise be inherited.
  constructor(
    @Inject(DeploymentSettings) settings: DeploymentSettings,
    @Inject(PredictionRateCounts) counts: PredictionRateCounts,
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
      counts,
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

  /** One count per deployment over every prediction route, not one per route. */
  protected override generateKey(_context: ExecutionContext, tracker: string, name: string): string {
    return tracker + ':' + name;
  }

  /** The deployment a prediction was let in for (its key guard names it), so every route counts it once. */
  protected override async getTracker(request: PredictRequest): Promise<string> {
    return request.deployment ? `deployment:${request.deployment.id}` : `ip:${String(request.ip)}`;
  }
}
