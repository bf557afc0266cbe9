import { Injectable } from '@nestjs/common';
import { Settings } from '@diyml/core';
import { DomainError } from '@diyml/core/pure';
import { ReadStore } from '@diyml/read-store';
import { PROJECTS, type ProjectView } from './read-models/projects/project.view.js';

/**
 * The one tenancy check every project route goes through: a project that does not exist, was deleted or
 * belongs to someone else is the same 404, so ids of other users' projects cannot be probed.
 */
@Injectable()
export class ProjectAccess {
  constructor(
    private readonly readStore: ReadStore,
    private readonly settings: Settings,
  ) {}

  async getOwned(projectId: string, userId: string): Promise<ProjectView> {
    const project = await this.readStore.collection<ProjectView>(PROJECTS).get(projectId);
    if (!project || project.ownerId !== userId) {
      throw DomainError.notFound('PROJECT_NOT_FOUND', `Project ${projectId} does not exist.`);
    }
    return project;
  }

  /**
   * A user may own MAX_PROJECTS_PER_USER projects (created or imported): 422 PROJECT_LIMIT_REACHED beyond, so one
   * account cannot grow the read models (and the api's memory, in embedded mode) without end.
   */
  async assertRoomForProject(userId: string): Promise<void> {
    const limit = this.settings.MAX_PROJECTS_PER_USER;
    const owned = await this.readStore.collection<ProjectView>(PROJECTS).count({ ownerId: userId });
    if (owned < limit) return;
    throw DomainError.unprocessable(
      'PROJECT_LIMIT_REACHED',
      `You have ${owned} projects, the most one user may have (MAX_PROJECTS_PER_USER): delete one first.`,
      { projects: owned, maxProjects: limit },
    );
  }
}
