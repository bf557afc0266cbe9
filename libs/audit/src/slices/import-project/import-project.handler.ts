import { Logger } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DiscoveryService } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { BlobStore, sha256Of } from '@diyml/blobs';
import { ZipArchive } from '@diyml/core/pure';
import { archiveLimitsOf, IdGenerator, type RequestContext, Settings } from '@diyml/core';
import { DatasetQueries, ImageQuota } from '@diyml/datasets';
import { DeploymentQueries } from '@diyml/deployments';
import type { RotatedKeyDto } from '@diyml/deployments';
import { RotateDeploymentKey } from '@diyml/deployments';
import { CommandPipeline, EventStore } from '@diyml/event-store';
import { ProjectAccess, toProjectDto } from '@diyml/projects';
import { UpdateProject } from '@diyml/projects';
import { EventReactor, ProjectionRunner, type Reactor } from '@diyml/read-store';
import { IterationQueries } from '@diyml/training';
import { EMBEDDING_CACHE_EVENT_TYPES } from '@diyml/training/pure';
import type { ImportProgress } from '../../domain/import-run.events.js';
import { projectImportDecider } from '../../domain/project-import.decider.js';
import { projectImportStream } from '../../domain/project-import.events.js';
import type { ImportedProjectDto } from './import-project.dto.js';
import { type ProjectArchive, readBlobs, readProjectArchive } from './project-archive-reader.js';
import { deleteIncompleteProject } from './incomplete-project.js';
import { countImportedContents } from './imported-contents.js';
import { appendBatches, ProjectRemap } from './project-remap.js';

/**
 * Event types a reactor follows whose streams are appended event by event all the same: their reactors queue work
 * from the read models (embedding a project's photos, reclaiming a deleted prediction's image) that never continues
 * the stream, whole or not. Appended whole, the project stream put a label's rename and removal and a change of type
 * before the images labeled earlier (an imported multilabel project's images kept a single label, an asOf showed
 * today's label names), and every event of an image or project stream took its first event's time.
 */
const ORDER_KEPT_REACTOR_TYPES: ReadonlySet<string> = new Set([
  'ImageUploaded',
  'TrainingConfigured',
  'StoredPredictionDeleted',
]);

/** How long the answer waits for the read models to hold a big import (the import itself is written by then). */
const READ_MODELS_WAIT_MS = 120_000;

export class ImportProject extends Command<ImportedProjectDto> {
  constructor(
    /** The zip: its bytes, or the file it was uploaded to (which the caller removes afterwards). */
    readonly archive: Uint8Array | { path: string },
    readonly name: string | undefined,
    readonly context: RequestContext & { userId: string },
    /** Told at every blob and event written (an import in the background records it now and then). */
    readonly onProgress: (progress: ImportProgress) => void = () => undefined,
  ) {
    super();
  }
}

/**
 * Creates a project from an exported archive, with new ids, owned by the importing user:
 * 1. reads the zip through its central directory (ZIP64 included) within the ARCHIVE_* limits, and checks the
 *    manifest and events (ours, a version we read, well-formed, every referenced blob present) before anything is
 *    stored; events are read line by line, blobs are not read yet;
 * 2. streams the blobs one at a time into the blob store (BlobStore.putStream), each checked against its sha256
 *    before it is stored: a blob that does not match its name stops the import before any event is written, and is
 *    not stored. Blobs stored before that are content-addressed and referenced by nothing: harmless, and never
 *    reachable through this import. Only blobs that may be JSON naming ids (manifests) are held in memory;
 * 3. records ProjectImported, then appends the events with their original times, the importing user as their
 *    user and this request's correlation id (all streams are new, so nothing can conflict);
 * 4. renames the project if asked, and gives every active deployment a new key (returned once).
 */
@CommandHandler(ImportProject)
export class ImportProjectHandler implements ICommandHandler<ImportProject> {
  private readonly logger = new Logger(ImportProjectHandler.name);
  constructor(
    private readonly events: EventStore,
    private readonly pipeline: CommandPipeline,
    private readonly blobs: BlobStore,
    private readonly projections: ProjectionRunner,
    private readonly access: ProjectAccess,
    private readonly deployments: DeploymentQueries,
    private readonly commands: CommandBus,
    private readonly discovery: DiscoveryService,
    private readonly ids: IdGenerator,
    private readonly settings: Settings,
    private readonly quota: ImageQuota,
    private readonly datasets: DatasetQueries,
    private readonly iterations: IterationQueries,
  ) {}

  async execute({ archive, name, context, onProgress }: ImportProject): Promise<ImportedProjectDto> {
    const zip = await ZipArchive.open(
      archive instanceof Uint8Array ? archive : archive.path,
      archiveLimitsOf(this.settings),
    );
    try {
      return await this.importFrom(zip, name, context, onProgress);
    } finally {
      await zip.close();
    }
  }

  private async importFrom(
    zip: ZipArchive,
    name: string | undefined,
    context: ImportProject['context'],
    onProgress: ImportProject['onProgress'],
  ): Promise<ImportedProjectDto> {
    await this.access.assertRoomForProject(context.userId);
    const read = await readProjectArchive(zip);
    // The images the project will hold, within the importing user's quota (422 IMAGE_QUOTA_EXCEEDED) before anything is stored.
    const imagesOf = (type: string) => read.events.filter((event) => event.type === type).length;
    // Reserved until the read models hold the imported images, so imports and uploads of the user at the same time
    // cannot pass the quota together.
    return this.quota.hold(
      { projectId: null, ownerId: context.userId },
      imagesOf('ImageUploaded') - imagesOf('ImageRemoved'),
      () => this.store(zip, read, name, context, onProgress),
    );
  }

  /** Stores the blobs and writes the events of a read archive as a new project of the importing user. */
  private async store(
    zip: ZipArchive,
    read: ProjectArchive,
    name: string | undefined,
    context: ImportProject['context'],
    onProgress: ImportProject['onProgress'],
  ): Promise<ImportedProjectDto> {
    const remap = new ProjectRemap(read, {
      newId: () => this.ids.newId(),
      importerId: context.userId,
      unusableKeyHash: () => sha256Of(randomBytes(32)),
    });
    const progress: ImportProgress = {
      phase: 'storing-blobs',
      blobsStored: 0,
      blobCount: read.requiredBlobs.size,
      eventsWritten: 0,
      eventCount: read.events.length,
      importedProjectId: remap.projectId,
    };
    const report = (change: Partial<ImportProgress>) => onProgress(Object.assign(progress, change));
    report({});
    const blobCount = await readBlobs(zip, read.requiredBlobs, {
      whole: async (sha256, bytes) => {
        await this.blobs.put(remap.blob(sha256, bytes));
        report({ blobsStored: progress.blobsStored + 1 });
      },
      streamed: async (sha256, content) => {
        await this.blobs.putStream(content, { sha256 });
        report({ blobsStored: progress.blobsStored + 1 });
      },
    });
    const project = { projectId: remap.projectId, events: remap.events() };
    const batches = appendBatches(project.events, this.reactorEventTypes(), new Set(EMBEDDING_CACHE_EVENT_TYPES));
    report({ phase: 'writing-events' });

    // Nothing of the project is visible until its first events are written; a failure after that (the store went
    // away, a write refused) deletes what was written, so a failed import never leaves half a project behind.
    let position: number | undefined;
    try {
      const recorded = await this.pipeline.on(projectImportStream(project.projectId), projectImportDecider).run({
        context,
        command: (_state, metadata) => ({
          type: 'ImportProject',
          projectId: project.projectId,
          sourceProjectId: read.manifest.project.id,
          sourceName: read.manifest.project.name,
          exportedAt: read.manifest.exportedAt,
          eventCount: project.events.length,
          blobCount,
          metadata,
        }),
        waitForReadModels: false,
      });
      position = recorded.position;
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
        report({ eventsWritten: progress.eventsWritten + batch.events.length });
      }
    } catch (error) {
      await this.rollBack(project.projectId, position, context);
      throw error;
    }
    report({ phase: 'finishing' });
    await this.projections.waitFor(position!, Math.max(READ_MODELS_WAIT_MS, this.settings.READ_YOUR_WRITES_TIMEOUT_MS));

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
    const imported = await this.access.getOwned(project.projectId, context.userId);
    return {
      project: toProjectDto(imported),
      sourceProjectId: read.manifest.project.id,
      exportedAt: read.manifest.exportedAt,
      events: project.events.length,
      blobs: blobCount,
      deployments,
      contents: countImportedContents(await this.datasets.listAll(project.projectId), {
        labels: imported.labels,
        iterations: await this.iterations.count(project.projectId),
        deployments: deployments.length,
      }),
      skipped: { unreferencedBlobs: read.unreferencedBlobs },
    };
  }

  /** Deletes what a failed import wrote of the project (see deleteIncompleteProject), once the read models hold it. */
  private async rollBack(
    projectId: string,
    writtenUpTo: number | undefined,
    context: ImportProject['context'],
  ): Promise<void> {
    if (writtenUpTo === undefined) return;
    const rolledBack = await this.projections
      .waitFor(writtenUpTo, this.settings.READ_YOUR_WRITES_TIMEOUT_MS)
      .then(() => deleteIncompleteProject(this.commands, projectId, context))
      .catch((error: unknown) => ({ outcome: 'kept', error }));
    if (rolledBack.outcome === 'kept')
      this.logger.warn(
        `Could not delete the incomplete project ${projectId} of a failed import: ${String(rolledBack.error)}`,
      );
  }

  /** Event types some reactor starts a job on that continues their stream: those streams are appended whole (see appendBatches). */
  private reactorEventTypes(): Set<string> {
    const reactors = this.discovery
      .getProviders({ metadataKey: EventReactor.KEY })
      .map((wrapper) => wrapper.instance as Reactor | undefined)
      .filter((reactor): reactor is Reactor => Boolean(reactor));
    return new Set(
      reactors.flatMap((reactor) => reactor.eventTypes).filter((type) => !ORDER_KEPT_REACTOR_TYPES.has(type)),
    );
  }
}
