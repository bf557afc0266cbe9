import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthThrottle, Clock, DomainError, invalidIdError, isUuid } from '@diyml/core';
import { deploymentKeyMatches } from '../../domain/api-key.js';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { DEPLOYMENT_KEY_CALLER } from '../../domain/usage.events.js';
import { DeploymentQueries } from '../../read-models/deployments/deployment-queries.js';
import type { DeploymentView } from '../../read-models/deployments/deployment.view.js';
import { trackUsage } from '../usage-reports/track-usage.js';
import { UsageRecorder } from '../usage-reports/usage-recorder.js';

export type PredictRequest = Request & { deployment?: DeploymentView; predictionImage?: Buffer };

/** The deployment key of a prediction: `X-Api-Key`, or `Prediction-Key` as Custom Vision clients send it. */
export function presentedKey(request: Request): string | undefined {
  const header = request.headers['x-api-key'] ?? request.headers['prediction-key'];
  const key = Array.isArray(header) ? header[0] : header;
  return key ? key.trim() : undefined;
}

/**
 * Authenticates a prediction with the deployment's own key: 400 INVALID_ID for an id that is not a UUID, 404
 * for an unknown or undeployed deployment (whatever key is sent), 401 INVALID_API_KEY for a missing or wrong key. The key's hash is compared in
 * constant time with the hash the deployment holds now, so a rotated key fails from the next request on.
 * Wrong keys count as failed sign-ins of the client address (429 TOO_MANY_FAILED_ATTEMPTS past
 * AUTH_FAILURES_PER_SOURCE; a right key always passes). They are not counted per deployment: keys are 256
 * random bits, and a per-deployment lock would let anyone, or clients still holding a rotated key, shut a
 * live endpoint. Every call to an existing deployment counts in its usage report, refused ones by their code.
 */
@Injectable()
export class DeploymentKeyGuard implements CanActivate {
  constructor(
    private readonly deployments: DeploymentQueries,
    private readonly throttle: AuthThrottle,
    private readonly usage: UsageRecorder,
    private readonly clock: Clock,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<PredictRequest>();
    const deploymentId = String(request.params.deploymentId ?? '');
    // Refused here, not by the route's UuidParam: pipes run after the interceptor that reads the image or video.
    if (!isUuid(deploymentId)) throw invalidIdError('deploymentId');
    const deployment = await this.deployments.findActive(deploymentId);
    if (!deployment) {
      throw DomainError.notFound(DeploymentErrors.DEPLOYMENT_NOT_FOUND, `Deployment ${deploymentId} does not exist.`);
    }
    trackUsage(this.usage, this.clock, context.switchToHttp().getResponse<Response>(), {
      projectId: deployment.projectId,
      deploymentId: deployment.id,
      callerId: DEPLOYMENT_KEY_CALLER,
    });
    const key = presentedKey(request);
    if (!key)
      throw DomainError.unauthenticated(
        DeploymentErrors.INVALID_API_KEY,
        'Send the deployment key in the X-Api-Key header.',
      );
    if (!deploymentKeyMatches(key, deployment.keyHash)) {
      const refusal = DomainError.unauthenticated(
        DeploymentErrors.INVALID_API_KEY,
        'The API key is not valid for this deployment.',
      );
      throw await this.throttle.refuse({ source: String(request.ip) }, refusal);
    }
    request.deployment = deployment;
    return true;
  }
}
