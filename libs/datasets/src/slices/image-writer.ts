import { Injectable } from '@nestjs/common';
import {
  assertRevisionMatches,
  Clock,
  type CommandMetadata,
  commandMetadata,
  DomainError,
  type RequestContext,
  Settings,
  toEventMetadata,
} from '@diyml/core';
import { EventStore, loadStream } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import type { ProjectView } from '@diyml/projects';
import { ProjectionRunner } from '@diyml/read-store';
import { DatasetErrors } from '../domain/dataset-errors.js';
import { type ImageCommand, imageDecider, type ImageState, type ProjectContext } from '../domain/image.decider.js';
import { type ImageEvent, imageStream } from '../domain/image.events.js';
import { projectContextOf } from '../upload/image-intake.js';

export type UserContext = RequestContext & { userId: string };

export interface ImageWritten {
  events: ImageEvent[];
  /** Stream revision after the write. */
  revision: number;
  /** Log position of the last event appended; -1 when nothing changed. */
  position: number;
  /** The state the commands were decided on. */
  before: ImageState;
  metadata: CommandMetadata;
}

/**
 * What every command on an existing image does: the project tenancy check, load the image stream, decide
 * one or more commands in turn, append them together with the revision read (412 when If-Match names
 * another, 409 on a concurrent write), and optionally wait for the read models.
 */
@Injectable()
export class ImageWriter {
  constructor(
    private readonly events: EventStore,
    private readonly access: ProjectAccess,
    private readonly projections: ProjectionRunner,
    private readonly clock: Clock,
    private readonly settings: Settings,
  ) {}

  async project(projectId: string, context: UserContext): Promise<ProjectView> {
    return this.access.getOwned(projectId, context.userId);
  }

  async execute(
    project: ProjectView,
    imageId: string,
    context: UserContext,
    commands: (project: ProjectContext, current: ImageState) => ImageCommand[],
    options: { expectedRevision?: number; wait?: boolean } = {},
  ): Promise<ImageWritten> {
    const metadata = commandMetadata(context, this.clock.now());
    const stream = imageStream(imageId);
    const loaded = await loadStream(this.events, stream, imageDecider);
    if (loaded.state.status !== 'active' || loaded.state.projectId !== project.id) {
      throw DomainError.notFound(DatasetErrors.IMAGE_NOT_FOUND, `Image ${imageId} does not exist in this project.`);
    }
    assertRevisionMatches(options.expectedRevision, loaded.revision);
    let state = loaded.state;
    const decided: ImageEvent[] = [];
    for (const command of commands(projectContextOf(project), loaded.state)) {
      const events = imageDecider.decide(command, state);
      state = events.reduce(imageDecider.evolve, state);
      decided.push(...events);
    }
    if (decided.length === 0) {
      return { events: [], revision: loaded.revision, position: -1, before: loaded.state, metadata };
    }
    const appended = await this.events.append(stream, decided, {
      expectedRevision: loaded.revision,
      metadata: toEventMetadata(metadata),
    });
    if (options.wait ?? true) await this.waitFor(appended.position);
    return {
      events: decided,
      revision: appended.revision,
      position: appended.position,
      before: loaded.state,
      metadata,
    };
  }

  async waitFor(position: number): Promise<void> {
    await this.projections.waitFor(position, this.settings.READ_YOUR_WRITES_TIMEOUT_MS);
  }
}
