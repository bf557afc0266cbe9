import { Injectable } from '@nestjs/common';
import { DomainError, type Page } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { ITERATIONS, type IterationView } from './iteration.view.js';

@Injectable()
export class IterationQueries {
  constructor(private readonly readStore: ReadStore) {}

  /** ITERATION_NOT_FOUND (404) for an unknown id or one of another project. */
  async get(projectId: string, iterationId: string): Promise<IterationView> {
    const iteration = await this.find(projectId, iterationId);
    if (!iteration) {
      throw DomainError.notFound('ITERATION_NOT_FOUND', `Iteration ${iterationId} does not exist in this project.`);
    }
    return iteration;
  }

  /** The iteration, or undefined for an unknown id or one of another project. */
  async find(projectId: string, iterationId: string): Promise<IterationView | undefined> {
    const iteration = await this.readStore.collection<IterationView>(ITERATIONS).get(iterationId);
    return iteration?.projectId === projectId ? iteration : undefined;
  }

  /** Every iteration of the project, newest first. */
  async listAll(projectId: string): Promise<IterationView[]> {
    const all = await this.readStore.collection<IterationView>(ITERATIONS).findAll({ projectId });
    return all.sort((a, b) => b.number - a.number);
  }

  /** How many iterations the project lists (deleted ones are not). */
  count(projectId: string): Promise<number> {
    return this.readStore.collection<IterationView>(ITERATIONS).count({ projectId });
  }

  /** Newest first. */
  list(projectId: string, page: { limit: number; cursor?: string }): Promise<Page<IterationView>> {
    return this.readStore
      .collection<IterationView>(ITERATIONS)
      .find({ where: { projectId }, orderBy: 'number', direction: 'desc', ...page });
  }
}
