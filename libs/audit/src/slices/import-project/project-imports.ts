import { CommandBus } from '@nestjs/cqrs';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import {
  Clock,
  DomainError,
  DomainExceptionFilter,
  IdGenerator,
  READ_ONLY_PROCESS,
  type RequestContext,
  Settings,
} from '@diyml/core';
import { removeLeftoverFiles } from '@diyml/datasets';
import { CommandPipeline, EventStore } from '@diyml/event-store';
import { ProjectionRunner, ReadStore } from '@diyml/read-store';
import { importRunDecider, type ImportRunCommand } from '../../domain/import-run.decider.js';
import { type ImportProgress, importRunStream } from '../../domain/import-run.events.js';
import {
  PROJECT_IMPORTS,
  type ProjectImportView,
} from '../../read-models/project-imports/project-imports.projection.js';
import { temporaryArchiveDirectory } from './archive-upload.interceptor.js';
import { deleteIncompleteProject } from './incomplete-project.js';
import type { ImportedProjectDto, ProjectImportStatusDto } from './import-project.dto.js';

/** A running import records its progress at least this often: the heartbeat other replicas judge it by. */
export const IMPORT_HEARTBEAT_MS = 10_000;
/** A pending import of a shared deployment not heard of for this long belongs to an api that stopped. */
export const IMPORT_SILENT_MS = 60_000;
export const IMPORT_INTERRUPTED = 'IMPORT_INTERRUPTED';
/** How long the answer of a finished import, with its new deployment keys, waits in memory for its first read. */
const UNSEEN_KEPT_MS = 24 * 60 * 60 * 1000;

type ImportContext = RequestContext & { userId: string };
type Outcome =
  | { type: 'CompleteImportRun'; imported: ImportedProjectDto }
  | { type: 'FailImportRun'; code: string; message: string; details: unknown };

/**
 * Imports that run after their request answered 202. Each is recorded on its own stream (started, progress at
 * every phase and every IMPORT_HEARTBEAT_MS, then completed or failed with the error), projected into the read
 * store: the status reads the same from any api replica and after a restart. An import its api never finished
 * (killed, restarted) is recorded as failed, IMPORT_INTERRUPTED: at start when the read store is this process's
 * own (embedded: no other process can be running it), else by any replica once it has been silent IMPORT_SILENT_MS.
 * The new deployment keys are never recorded (no secrets in events): the api that ran the import gives them with
 * the first status read that reports done. Temporary archives a crash left are removed at start.
 */
@Injectable()
export class ProjectImports implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly logger = new Logger(ProjectImports.name);
  private readonly running = new Map<string, Promise<void>>();
  private readonly unseen = new Map<string, { imported: ImportedProjectDto; finishedAtMs: number }>();
  private readonly errors = new DomainExceptionFilter();
  private sweeper?: NodeJS.Timeout;

  constructor(
    private readonly pipeline: CommandPipeline,
    private readonly events: EventStore,
    private readonly readStore: ReadStore,
    private readonly projections: ProjectionRunner,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly settings: Settings,
    private readonly commands: CommandBus,
    @Optional() @Inject(READ_ONLY_PROCESS) private readonly readOnly = false,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const removed = await removeLeftoverFiles(temporaryArchiveDirectory(this.settings));
    if (removed) this.logger.warn(`Removed ${removed} temporary archive(s) of imports a stop interrupted.`);
    if (this.readOnly) return;
    await this.projections.waitFor(await this.events.headPosition(), Number.POSITIVE_INFINITY);
    await this.sweep();
    if (this.readStore.sharedBetweenProcesses) {
      this.sweeper = setInterval(
        () => void this.sweep().catch((error: Error) => this.logger.error(`Sweeping imports failed: ${error.message}`)),
        IMPORT_SILENT_MS / 2,
      );
      this.sweeper.unref();
    }
  }

  /** Lets running imports finish before the stores they write to close. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.running.values()]);
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /**
   * Records the import as started, runs `work` in the background (it reports its progress through the callback),
   * then records how it ended; `cleanUp` runs before that, whatever the outcome. Resolves with the first status.
   */
  async start(
    context: ImportContext,
    archiveBytes: number,
    work: (onProgress: (progress: ImportProgress) => void) => Promise<ImportedProjectDto>,
    cleanUp: () => Promise<void>,
  ): Promise<ProjectImportStatusDto> {
    this.forgetUnseen();
    const importId = this.ids.newId();
    await this.pipeline.on(importRunStream(importId), importRunDecider).run({
      context,
      command: (_state, metadata) => ({ type: 'StartImportRun', importId, archiveBytes, metadata }),
    });
    const run = this.run(importId, context, work, cleanUp).finally(() => this.running.delete(importId));
    this.running.set(importId, run);
    return this.read(importId, context.userId);
  }

  /** The status of one of the user's imports; the first read that reports done here carries the new keys. 404 otherwise. */
  async read(importId: string, userId: string): Promise<ProjectImportStatusDto> {
    const imports = this.readStore.collection<ProjectImportView>(PROJECT_IMPORTS);
    let view = await imports.get(importId);
    if (!view) {
      // Started by another api moments ago: its first event may not be projected here yet.
      await this.projections.waitFor(await this.events.headPosition());
      view = await imports.get(importId);
    }
    if (!view || view.userId !== userId) {
      throw DomainError.notFound('PROJECT_IMPORT_NOT_FOUND', `No import ${importId} of yours is known.`);
    }
    const status = toStatusDto(view);
    const unseen = view.status === 'done' ? this.unseen.get(importId) : undefined;
    if (!unseen) return status;
    this.unseen.delete(importId);
    return { ...status, imported: unseen.imported };
  }

  /**
   * Records as failed (IMPORT_INTERRUPTED) the pending imports no process runs any more: every one this process
   * does not run when no other process shares the read store, else those silent for IMPORT_SILENT_MS. Returns how many.
   */
  async sweep(): Promise<number> {
    const now = this.clock.now().getTime();
    let interrupted = 0;
    for (const view of await this.readStore
      .collection<ProjectImportView>(PROJECT_IMPORTS)
      .findAll({ status: 'pending' })) {
      if (this.running.has(view.id)) continue;
      if (this.readStore.sharedBetweenProcesses && now - Date.parse(view.lastSeenAt) < IMPORT_SILENT_MS) continue;
      const partial = view.progress?.phase === 'writing-events' || view.progress?.phase === 'finishing';
      const begun = view.progress?.importedProjectId;
      const correlationId = this.ids.newId();
      // What the stopped api wrote of the project is deleted, as a failed import's is (its owner acts here).
      const rolledBack =
        partial && begun && view.userId
          ? (await deleteIncompleteProject(this.commands, begun, { userId: view.userId, correlationId })).outcome
          : 'nothing';
      await this.record(
        view.id,
        { userId: null, correlationId },
        {
          type: 'FailImportRun',
          code: IMPORT_INTERRUPTED,
          message:
            'The import was interrupted: the api running it stopped (a restart or a crash) before it finished. ' +
            'Send the archive again' +
            (rolledBack === 'deleted'
              ? `; the incomplete project ${begun} it had begun was deleted.`
              : rolledBack === 'kept'
                ? `; the incomplete project ${begun} it had begun can be deleted.`
                : '.'),
          details: {
            phase: view.progress?.phase ?? 'checking',
            importedProjectId: view.progress?.importedProjectId ?? null,
          },
        },
      );
      interrupted += 1;
    }
    if (interrupted) this.logger.warn(`Recorded ${interrupted} import(s) a stop interrupted as failed.`);
    return interrupted;
  }

  private async run(
    importId: string,
    context: ImportContext,
    work: (onProgress: (progress: ImportProgress) => void) => Promise<ImportedProjectDto>,
    cleanUp: () => Promise<void>,
  ): Promise<void> {
    let latest: ImportProgress = {
      phase: 'checking',
      blobsStored: 0,
      blobCount: 0,
      eventsWritten: 0,
      eventCount: 0,
      importedProjectId: null,
    };
    // Progress is appended in order, one at a time, and never holds the import up.
    let appending = Promise.resolve();
    const append = (progress: ImportProgress) => {
      appending = appending.then(() =>
        this.record(importId, context, { type: 'RecordImportProgress', progress }).catch((error: Error) =>
          this.logger.warn(`Could not record the progress of import ${importId}: ${error.message}`),
        ),
      );
    };
    const heartbeat = setInterval(() => append({ ...latest }), IMPORT_HEARTBEAT_MS);
    heartbeat.unref();
    let outcome: Outcome;
    try {
      const imported = await work((progress) => {
        const phaseChanged = progress.phase !== latest.phase;
        latest = { ...progress };
        if (phaseChanged) append({ ...latest });
      });
      outcome = { type: 'CompleteImportRun', imported };
    } catch (error) {
      const { code, message, details } = this.errors.toBody(error);
      outcome = { type: 'FailImportRun', code, message, details: details ?? null };
    } finally {
      clearInterval(heartbeat);
    }
    // The file is gone by the time the status says the import is over.
    await cleanUp().catch((error: Error) =>
      this.logger.warn(`Could not remove an import's temporary archive: ${error.message}`),
    );
    await appending;
    try {
      if (outcome.type === 'CompleteImportRun') {
        const { imported } = outcome;
        this.unseen.set(importId, { imported, finishedAtMs: this.clock.now().getTime() });
        await this.record(importId, context, {
          type: 'CompleteImportRun',
          importedProjectId: imported.project.id,
          sourceProjectId: imported.sourceProjectId,
          eventCount: imported.events,
          blobCount: imported.blobs,
        });
      } else {
        await this.record(importId, context, outcome);
      }
    } catch (error) {
      this.logger.error(`Could not record the end of import ${importId}: ${(error as Error).message}`);
    }
  }

  private async record(
    importId: string,
    context: RequestContext,
    command: DistributiveOmit<ImportRunCommand, 'importId' | 'metadata'>,
  ): Promise<void> {
    await this.pipeline.on(importRunStream(importId), importRunDecider).run({
      context,
      command: (_state, metadata) => ({ ...command, importId, metadata }) as ImportRunCommand,
      // Progress is for others to poll; the end is read at once by whoever polls this api.
      waitForReadModels: command.type !== 'RecordImportProgress',
    });
  }

  private forgetUnseen(): void {
    const before = this.clock.now().getTime() - UNSEEN_KEPT_MS;
    for (const [id, { finishedAtMs }] of this.unseen) if (finishedAtMs < before) this.unseen.delete(id);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function toStatusDto(view: ProjectImportView): ProjectImportStatusDto {
  const status: ProjectImportStatusDto = {
    id: view.id,
    status: view.status,
    archiveBytes: view.archiveBytes,
    startedAt: view.startedAt,
  };
  if (view.progress) status.progress = view.progress;
  if (view.finishedAt) status.finishedAt = view.finishedAt;
  if (view.projectId) status.projectId = view.projectId;
  if (view.error) {
    const { code, message, details } = view.error;
    status.error = details === null || details === undefined ? { code, message } : { code, message, details };
  }
  return status;
}
