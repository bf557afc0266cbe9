import { Injectable } from '@nestjs/common';
import type { Recorded } from '@diyml/event-store';
import { type Projection, ReadModelProjection, type ReadStore } from '@diyml/read-store/pure';
import { PROJECT_EVENT_TYPES, type ProjectEvent } from '../../domain/project.events.js';
import { canonicalTrainingConfig } from '../../domain/training-config.js';
import { nextLabelColorIndex, PROJECTS, type ProjectView } from './project.view.js';

/**
 * One document per live project, with its labels and training configuration. A deleted project's document
 * is removed, so it disappears from lists and from ProjectAccess (its events stay in the log).
 */
@ReadModelProjection()
@Injectable()
export class ProjectsProjection implements Projection<ProjectEvent> {
  readonly name = 'projects';
  /** 3: labels carry `negative` (LabelNegativeSet); the type follows ProjectTypeChanged. */
  readonly version = 3;
  readonly collections = [PROJECTS];
  readonly eventTypes = PROJECT_EVENT_TYPES;

  async apply(event: Recorded<ProjectEvent>, store: ReadStore): Promise<void> {
    await store
      .collection<ProjectView>(PROJECTS)
      .apply(event.data.projectId, event.position, (current) => projectViewAfter(current, event, event.revision));
  }
}

/** The project document after one of its events; `revision` is the event's revision in the project stream. */
export function projectViewAfter(
  current: ProjectView | undefined,
  event: ProjectEvent,
  revision: number,
): ProjectView | null {
  if (event.type === 'ProjectCreated') {
    const { projectId, ownerId, name, type, description, trainingConfig, createdAt } = event.data;
    return {
      id: projectId,
      ownerId,
      name,
      type,
      description,
      labels: [],
      trainingConfig: canonicalTrainingConfig(trainingConfig),
      createdAt,
      updatedAt: createdAt,
      revision,
    };
  }
  if (!current || event.type === 'ProjectDeleted') return null;
  const changed = (fields: Partial<ProjectView>, updatedAt: string): ProjectView => ({
    ...current,
    ...fields,
    updatedAt,
    revision,
  });
  switch (event.type) {
    case 'ProjectRenamed':
      return changed({ name: event.data.name }, event.data.renamedAt);
    case 'ProjectDescribed':
      return changed({ description: event.data.description }, event.data.describedAt);
    case 'LabelAdded':
      return changed(
        {
          labels: [
            ...current.labels,
            {
              id: event.data.labelId,
              name: event.data.name,
              colorIndex: nextLabelColorIndex(current.labels),
              negative: false,
            },
          ],
        },
        event.data.addedAt,
      );
    case 'LabelRenamed':
      return changed(
        {
          labels: current.labels.map((label) =>
            label.id === event.data.labelId ? { ...label, name: event.data.name } : label,
          ),
        },
        event.data.renamedAt,
      );
    case 'LabelRemoved':
      return changed(
        { labels: current.labels.filter((label) => label.id !== event.data.labelId) },
        event.data.removedAt,
      );
    case 'LabelNegativeSet':
      return changed(
        {
          labels: current.labels.map((label) =>
            label.id === event.data.labelId ? { ...label, negative: event.data.negative } : label,
          ),
        },
        event.data.setAt,
      );
    case 'ProjectTypeChanged':
      return changed({ type: event.data.type }, event.data.changedAt);
    case 'TrainingConfigured':
      return changed({ trainingConfig: canonicalTrainingConfig(event.data.trainingConfig) }, event.data.configuredAt);
  }
}
