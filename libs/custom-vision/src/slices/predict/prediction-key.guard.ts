import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { AuthThrottle, type HttpRequest, isUuid } from '@diyml/core';
import { type DeploymentView, deploymentKeyMatches, DEPLOYMENT_KEY_PREFIX } from '@diyml/deployments';
import { PROJECTS, type ProjectView } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { CustomVisionError } from '../../domain/custom-vision-error.js';
import { INVALID_KEY_MESSAGE, takeKeyHeader, userOfPersonalToken } from '../../http/keys.js';
import { assertVersion } from '../../http/training-key.guard.js';
import { CustomVisionReads } from '../../read/custom-vision-reads.js';

export const PREDICTION_API_VERSIONS = ['v3.0', 'v3.1'] as const;

export type PredictionRequest = HttpRequest & {
  published?: { project: ProjectView; deployment: DeploymentView };
  /** The deployment behind the publish name, as the native key guard names it: the prediction rate limit counts it. */
  deployment?: DeploymentView;
};

/**
 * `Prediction-Key`: Azure's prediction key belongs to a resource, not to one published model. Here it is
 * either a personal API token (`dml_…`) of the project's owner, which works for every publish name like a
 * resource key, or the deployment key (`dpk_…`) of the deployment behind that publish name. Wrong keys count
 * as failed sign-ins of the client address (AuthThrottle.refuse: 429 past the limit).
 */
@Injectable()
export class PredictionKeyGuard implements CanActivate {
  constructor(
    private readonly readStore: ReadStore,
    private readonly reads: CustomVisionReads,
    private readonly throttle: AuthThrottle,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<PredictionRequest>();
    assertVersion(request, PREDICTION_API_VERSIONS);
    const projectId = String(request.params.projectId ?? '').toLowerCase();
    const publishName = String(request.params.publishedName ?? '');
    const key = takeKeyHeader(request, 'prediction-key');
    if (!key) throw CustomVisionError.unauthorized(INVALID_KEY_MESSAGE);
    if (!isUuid(projectId)) throw CustomVisionError.badRequest('BadRequestInvalidIds', 'projectId must be a UUID.');
    const wrongKey = () =>
      this.throttle.refuse({ source: String(request.ip) }, CustomVisionError.unauthorized(INVALID_KEY_MESSAGE));
    if (key.startsWith(DEPLOYMENT_KEY_PREFIX)) {
      const project = await this.readStore.collection<ProjectView>(PROJECTS).get(projectId);
      if (!project) throw CustomVisionError.notFound('NotFound', `Project ${projectId} does not exist.`);
      const deployment = await this.reads.deploymentByPublishName(projectId, publishName);
      if (!deploymentKeyMatches(key, deployment.keyHash)) throw await wrongKey();
      request.published = { project, deployment };
      request.deployment = deployment;
      return true;
    }
    const user = await userOfPersonalToken(this.readStore, key);
    if (!user) throw await wrongKey();
    const project = await this.reads.project(projectId, user.id);
    request.user = user;
    const deployment = await this.reads.deploymentByPublishName(projectId, publishName);
    request.published = { project, deployment };
    request.deployment = deployment;
    return true;
  }
}
