import { Injectable } from '@nestjs/common';
import { DomainError, type Page } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { DeploymentErrors } from '../../domain/deployment-errors.js';
import { DEPLOYMENTS, type DeploymentView } from './deployment.view.js';

@Injectable()
export class DeploymentQueries {
  constructor(private readonly readStore: ReadStore) {}

  private get deployments() {
    return this.readStore.collection<DeploymentView>(DEPLOYMENTS);
  }

  /** An active deployment of the project; DEPLOYMENT_NOT_FOUND (404) when unknown, undeployed or another project's. */
  async get(projectId: string, deploymentId: string): Promise<DeploymentView> {
    const deployment = await this.deployments.get(deploymentId);
    if (!deployment || deployment.projectId !== projectId || deployment.status !== 'active') {
      throw DomainError.notFound(DeploymentErrors.DEPLOYMENT_NOT_FOUND, `Deployment ${deploymentId} does not exist.`);
    }
    return deployment;
  }

  /** The active deployment behind a prediction endpoint, or undefined. */
  async findActive(deploymentId: string): Promise<DeploymentView | undefined> {
    const deployment = await this.deployments.get(deploymentId);
    return deployment?.status === 'active' ? deployment : undefined;
  }

  /** A page of the project's active deployments, oldest first. */
  list(projectId: string, page: { limit: number; cursor?: string }): Promise<Page<DeploymentView>> {
    return this.deployments.find({
      where: { projectId, status: 'active' },
      orderBy: 'createdAt',
      direction: 'asc',
      ...page,
    });
  }

  /** The names of the project's active deployments. */
  async activeNames(projectId: string): Promise<string[]> {
    return (await this.deployments.findAll({ projectId, status: 'active' })).map((deployment) => deployment.name);
  }

  /** Whether any active deployment (other than `except`) serves the model. */
  async modelInUse(modelSha256: string, except?: string): Promise<boolean> {
    const users = await this.deployments.findAll({ modelSha256, status: 'active' });
    return users.some((deployment) => deployment.id !== except);
  }
}
