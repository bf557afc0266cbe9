import { Injectable } from '@nestjs/common';
import { type CommandMetadata, type Decider, DomainError, type RequestContext } from '@diyml/core';
import { CommandPipeline } from '@diyml/event-store';
import { ProjectAccess } from '@diyml/projects';
import type { ProjectView } from '@diyml/projects';
import { DatasetErrors } from '../domain/dataset-errors.js';
import { type ImageCommand, imageDecider, type ImageState, type ProjectContext } from '../domain/image.decider.js';
import { type ImageEvent, imageStream } from '../domain/image.events.js';
import { projectContextOf } from '../upload/image-intake.js';

/** Several commands on one image decided in turn, each on the state the previous ones left, and appended together. */
const imageCommandsDecider: Decider<ImageState, ImageCommand[], ImageEvent> = {
  initialState: imageDecider.initialState,
  evolve: imageDecider.evolve,
  decide(commands, state) {
    const decided: ImageEvent[] = [];
    let current = state;
    for (const command of commands) {
      const events = imageDecider.decide(command, current);
      current = events.reduce(imageDecider.evolve, current);
      decided.push(...events);
    }
    return decided;
  },
};

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
    private readonly pipeline: CommandPipeline,
    private readonly access: ProjectAccess,
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
    return this.pipeline.on(imageStream(imageId), imageCommandsDecider).run({
      context,
      command: (current) => {
        if (current.status !== 'active' || current.projectId !== project.id) {
          throw DomainError.notFound(DatasetErrors.IMAGE_NOT_FOUND, `Image ${imageId} does not exist in this project.`);
        }
        return commands(projectContextOf(project), current);
      },
      expectedRevision: options.expectedRevision,
      waitForReadModels: options.wait ?? true,
    });
  }

  async waitFor(position: number): Promise<void> {
    await this.pipeline.waitFor(position);
  }
}
