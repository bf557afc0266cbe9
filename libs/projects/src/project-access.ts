import { Injectable } from '@nestjs/common';
import { DomainError } from '@diyml/core/pure';
import { ReadStore } from '@diyml/read-store';
import { PROJECTS, type ProjectView } from './read-models/projects/project.view.js';

/**
 * The one tenancy check every project route goes through: a project that does not exist, was deleted or
 * belongs to someone else is the same 404, so ids of other users' projects cannot be probed.
 */
@Injectable()
export class ProjectAccess {
  constructor(private readonly readStore: ReadStore) {}

  async getOwned(projectId: string, userId: string): Promise<ProjectView> {
    const project = await this.readStore.collection<ProjectView>(PROJECTS).get(projectId);
    if (!project || project.ownerId !== userId) {
      throw DomainError.notFound('PROJECT_NOT_FOUND', `Project ${projectId} does not exist.`);
    }
    return project;
  }
}
