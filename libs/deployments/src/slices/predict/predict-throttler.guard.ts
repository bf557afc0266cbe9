import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerStorageService } from '@nestjs/throttler';
import { hashDeploymentKey } from '../../domain/api-key.js';
import { DeploymentSettings } from '../../deployment-settings.js';
import { presentedKey } from './deployment-key.guard.js';

export const PREDICT_THROTTLER = 'predict';

/**
 * Rate limit of the prediction route, per API key (by its hash; per client address without one):
 * PREDICT_RATE_LIMIT requests per PREDICT_RATE_WINDOW_SECONDS, then 429 with Retry-After. Its own options
 * and storage, so no other route is throttled by it. Counts are kept per api process.
 */
@Injectable()
export class PredictThrottlerGuard extends ThrottlerGuard {
  constructor(settings: DeploymentSettings, storage: PredictThrottlerStorage, reflector: Reflector) {
    super(
      {
        throttlers: [
          { name: PREDICT_THROTTLER, limit: settings.PREDICT_RATE_LIMIT, ttl: settings.PREDICT_RATE_WINDOW_SECONDS * 1000 },
        ],
        errorMessage: 'Too many predictions with this API key: wait for the time in Retry-After-predict and retry.',
      },
      storage,
      reflector,
    );
  }

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const key = presentedKey(request as never);
    return key ? `key:${hashDeploymentKey(key)}` : `ip:${String(request.ip)}`;
  }
}

/** The prediction throttler's own hit counts. */
@Injectable()
export class PredictThrottlerStorage extends ThrottlerStorageService {}
