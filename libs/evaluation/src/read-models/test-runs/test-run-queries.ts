import { Injectable } from '@nestjs/common';
import { DomainError, type Page } from '@diyml/core';
import { ReadStore } from '@diyml/read-store';
import { TEST_RUNS, type TestRunView } from './test-run.view.js';

@Injectable()
export class TestRunQueries {
  constructor(private readonly readStore: ReadStore) {}

  /** TEST_RUN_NOT_FOUND (404) for an unknown id or one of another iteration. */
  async get(projectId: string, iterationId: string, testRunId: string): Promise<TestRunView> {
    const run = await this.readStore.collection<TestRunView>(TEST_RUNS).get(testRunId);
    if (!run || run.projectId !== projectId || run.iterationId !== iterationId) {
      throw DomainError.notFound('TEST_RUN_NOT_FOUND', `Test run ${testRunId} does not exist for this iteration.`);
    }
    return run;
  }

  /** Newest first. */
  list(projectId: string, iterationId: string, page: { limit: number; cursor?: string }): Promise<Page<TestRunView>> {
    return this.readStore
      .collection<TestRunView>(TEST_RUNS)
      .find({ where: { projectId, iterationId }, orderBy: 'requestedAt', direction: 'desc', ...page });
  }
}
