import { Injectable } from '@nestjs/common';
import { DatasetQueries, type ImageFilter as DatasetImageFilter, type ImageView } from '@diyml/datasets';
import { DEPLOYMENTS, type DeploymentView } from '@diyml/deployments/pure';
import { ProjectAccess, type ProjectView } from '@diyml/projects';
import { ReadStore } from '@diyml/read-store';
import { IterationQueries, type IterationView } from '@diyml/training';
import { CustomVisionError } from '../domain/custom-vision-error.js';

/**
 * The reads the Custom Vision translation needs, all from the other contexts' read models: a publish name
 * is the name of an active deployment of the project.
 */
@Injectable()
export class CustomVisionReads {
  constructor(
    private readonly projects: ProjectAccess,
    private readonly datasets: DatasetQueries,
    private readonly iterations: IterationQueries,
    private readonly readStore: ReadStore,
  ) {}

  project(projectId: string, userId: string): Promise<ProjectView> {
    return this.projects.getOwned(projectId, userId);
  }

  images(projectId: string): Promise<ImageView[]> {
    return this.datasets.listAll(projectId);
  }

  /** The first `limit` images passing `filter`, oldest or newest first, from the images' index. */
  async indexedImages(
    projectId: string,
    filter: DatasetImageFilter,
    limit: number,
    direction: 'asc' | 'desc',
  ): Promise<ImageView[]> {
    return (await this.datasets.list(projectId, filter, { limit, direction })).items;
  }

  indexedCount(projectId: string, filter: DatasetImageFilter): Promise<number> {
    return this.datasets.count(projectId, filter);
  }

  imagesByIds(projectId: string, imageIds: readonly string[]): Promise<ImageView[]> {
    return this.datasets.byIds(projectId, imageIds);
  }

  image(projectId: string, imageId: string): Promise<ImageView> {
    return this.datasets.get(projectId, imageId);
  }

  labelImageCounts(projectId: string): Promise<Map<string, number>> {
    return this.datasets.labelImageCounts(projectId);
  }

  iteration(projectId: string, iterationId: string): Promise<IterationView> {
    return this.iterations.get(projectId, iterationId);
  }

  /** Every iteration of the project, newest first. */
  allIterations(projectId: string): Promise<IterationView[]> {
    return this.iterations.listAll(projectId);
  }

  /** The project's active deployments, newest first. */
  async activeDeployments(projectId: string): Promise<DeploymentView[]> {
    const found = await this.readStore.collection<DeploymentView>(DEPLOYMENTS).findAll({ projectId, status: 'active' });
    return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
  }

  /** iteration id → the name it is published under (its newest active deployment). */
  async publishNames(projectId: string): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    for (const deployment of await this.activeDeployments(projectId)) {
      if (!names.has(deployment.iterationId)) names.set(deployment.iterationId, deployment.name);
    }
    return names;
  }

  /** The active deployment published under `publishName` (the newest, should two share it). */
  async deploymentByPublishName(projectId: string, publishName: string): Promise<DeploymentView> {
    const found = (await this.activeDeployments(projectId)).find((deployment) => deployment.name === publishName);
    if (!found) {
      throw CustomVisionError.notFound(
        'NotFound',
        `No iteration of project ${projectId} is published as "${publishName}".`,
      );
    }
    return found;
  }
}
