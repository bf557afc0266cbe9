import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DiscoveryService } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { BlobStore, sha256Of } from '@diyml/blobs';
import {
  archiveLimitsOf,
  Clock,
  commandMetadata,
  IdGenerator,
  type RequestContext,
  Settings,
  unzipSafely,
} from '@diyml/core';
import { DeploymentQueries } from '@diyml/deployments';
import type { RotatedKeyDto } from '@diyml/deployments';
import { RotateDeploymentKey } from '@diyml/deployments';
import { decideAndAppend, EventStore } from '@diyml/event-store';
import { ProjectAccess, toProjectDto } from '@diyml/projects';
import { UpdateProject } from '@diyml/projects';
import { EventReactor, ProjectionRunner, type Reactor } from '@diyml/read-store';
import { projectImportDecider } from '../../domain/project-import.decider.js';
import { projectImportStream } from '../../domain/project-import.events.js';
import type { ImportedProjectDto } from './import-project.dto.js';
import { PROJECT_ARCHIVE_ENTRIES, readProjectArchive } from './project-archive-reader.js';
import { appendBatches, remapProject } from './project-remap.js';

/** How long the answer waits for the read models to hold a big import (the import itself is written by then). */
const READ_MODELS_WAIT_MS = 120_000;

export class ImportProject extends Command<ImportedProjectDto> {
  constructor(
    readonly archive: Uint8Array,
    readonly name: string | undefined,
    readonly context: RequestContext & { userId: string },
  ) {
    super();
  }
}

/**
 * Creates a project from an exported archive, with new ids, owned by the importing user:
 * 1. checks everything before writing anything: unzipped off the event loop within the ARCHIVE_* limits, then
 *    readProjectArchive (ours, a version we read, well-formed, complete, every blob hashing to its name);
 * 2. stores the blobs (content-addressed: a refused or failed import leaves at most unreferenced blobs);
 * 3. records ProjectImported, then appends the events with their original times, the importing user as their
 *    user and this request's correlation id (all streams are new, so nothing can conflict);
 * 4. renames the project if asked, and gives every active deployment a new key (returned once).
 */
@CommandHandler(ImportProject)
export class ImportProjectHandler implements ICommandHandler<ImportProject> {
  constructor(
    private readonly events: EventStore,
    private readonly blobs: BlobStore,
    private readonly projections: ProjectionRunner,
    private readonly access: ProjectAccess,
    private readonly deployments: DeploymentQueries,
    private readonly commands: CommandBus,
    private readonly discovery: DiscoveryService,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly settings: Settings,
  ) {}

  async execute({ archive, name, context }: ImportProject): Promise<ImportedProjectDto> {
    const inflated = await unzipSafely(archive, {
      limits: archiveLimitsOf(this.settings),
      rules: [{ pattern: PROJECT_ARCHIVE_ENTRIES }],
    });
    const read = await readProjectArchive(inflated.entries);
    const project = remapProject(read, {
      newId: () => this.ids.newId(),
      importerId: context.userId,
      unusableKeyHash: () => sha256Of(randomBytes(32)),
    });
    const batches = appendBatches(project.events, this.reactorEventTypes());

    for (const bytes of project.blobs) await this.blobs.put(bytes);
    const metadata = commandMetadata(context, this.clock.now());
    let { position } = await decideAndAppend(
      this.events,
      projectImportStream(project.projectId),
      projectImportDecider,
      {
        type: 'ImportProject',
        projectId: project.projectId,
        sourceProjectId: read.manifest.project.id,
        sourceName: read.manifest.project.name,
        exportedAt: read.manifest.exportedAt,
        eventCount: project.events.length,
        blobCount: project.blobs.length,
        metadata,
      },
      metadata,
    );
    // A project imported before carries its own ProjectImported events, which follow this one in that stream.
    const revisions = new Map<string, number>([[projectImportStream(project.projectId), 0]]);
    for (const batch of batches) {
      const appended = await this.events.append(
        batch.stream,
        batch.events.map(({ type, v, data }) => ({ type, v, data })),
        {
          expectedRevision: revisions.get(batch.stream) ?? 'no_stream',
          metadata: { userId: context.userId, correlationId: context.correlationId, causationId: null, at: batch.at },
        },
      );
      revisions.set(batch.stream, appended.revision);
      position = appended.position;
    }
    await this.projections.waitFor(position, Math.max(READ_MODELS_WAIT_MS, this.settings.READ_YOUR_WRITES_TIMEOUT_MS));

    if (name !== undefined && name !== read.manifest.project.name) {
      await this.commands.execute(new UpdateProject(project.projectId, { name }, undefined, context));
    }
    const deployments = [];
    for (const deployment of (await this.deployments.list(project.projectId, { limit: 1000 })).items) {
      const rotated: RotatedKeyDto = await this.commands.execute(
        new RotateDeploymentKey(project.projectId, deployment.id, context),
      );
      deployments.push({
        id: deployment.id,
        name: deployment.name,
        apiKey: rotated.apiKey,
        keyPrefix: rotated.keyPrefix,
      });
    }
    return {
      project: toProjectDto(await this.access.getOwned(project.projectId, context.userId)),
      sourceProjectId: read.manifest.project.id,
      exportedAt: read.manifest.exportedAt,
      events: project.events.length,
      blobs: project.blobs.length,
      deployments,
    };
  }

  /** Event types some reactor starts work on: their streams are appended whole (see appendBatches). */
  private reactorEventTypes(): Set<string> {
    const reactors = this.discovery
      .getProviders({ metadataKey: EventReactor.KEY })
      .map((wrapper) => wrapper.instance as Reactor | undefined)
      .filter((reactor): reactor is Reactor => Boolean(reactor));
    return new Set(reactors.flatMap((reactor) => reactor.eventTypes));
  }
}
