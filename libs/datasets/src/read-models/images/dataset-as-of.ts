import { Injectable } from '@nestjs/common';
import { parseAsOf, ProjectTimeTravel } from '@diyml/audit/pure';
import { DomainError } from '@diyml/core/pure';
import { PROJECTS, type ProjectView } from '@diyml/projects';
import { ProjectsProjection } from '@diyml/projects';
import { DatasetQueries } from './dataset-queries.js';
import { ImagesProjection } from './images.projection.js';

export interface DatasetSnapshot {
  /** The last log position the snapshot includes. */
  position: number;
  project: ProjectView;
  queries: DatasetQueries;
}

/**
 * The dataset as it was at a log position or time (`asOf`), computed from the log with the same projections
 * that build the live read models.
 */
@Injectable()
export class DatasetAsOf {
  private readonly projections = [new ProjectsProjection(), new ImagesProjection()];

  constructor(private readonly timeTravel: ProjectTimeTravel) {}

  /** `signal`: the request's client left, so the snapshot is dropped (see ProjectTimeTravel.at). */
  async at(projectId: string, asOf: string, signal?: AbortSignal): Promise<DatasetSnapshot> {
    const snapshot = await this.timeTravel.at(projectId, parseAsOf(asOf), this.projections, signal);
    const project = await snapshot.readStore.collection<ProjectView>(PROJECTS).get(projectId);
    if (!project) {
      throw DomainError.notFound('PROJECT_NOT_FOUND', `Project ${projectId} did not exist yet at ${asOf}.`);
    }
    return { position: snapshot.position, project, queries: new DatasetQueries(snapshot.readStore) };
  }
}
