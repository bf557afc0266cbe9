import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Clock, DomainError, DomainExceptionFilter, IdGenerator, Settings } from '@diyml/core';
import { removeLeftoverArchives, temporaryArchiveDirectory } from './archive-upload.interceptor.js';
import type { ImportedProjectDto, ProjectImportStatusDto } from './import-project.dto.js';

/** How long a finished import's status stays readable. */
const FINISHED_KEPT_MS = 24 * 60 * 60 * 1000;

interface ImportRecord {
  status: ProjectImportStatusDto;
  userId: string;
  /** The answer with the new deployment keys, until the first read that reports done takes it. */
  unseen?: ImportedProjectDto;
  finishedAtMs?: number;
}

/**
 * Imports that run after their request answered 202, and their status (GET /v1/projects/imports/{importId}). The
 * status lives in this api process, which runs the import: a restart forgets it (an import cut short by one is
 * recognisable in the history: its ProjectImported counts more events than follow). Temporary archives a crash
 * left are removed at start.
 */
@Injectable()
export class ProjectImports implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ProjectImports.name);
  private readonly imports = new Map<string, ImportRecord>();
  private readonly running = new Set<Promise<void>>();
  private readonly errors = new DomainExceptionFilter();

  constructor(
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly settings: Settings,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const removed = await removeLeftoverArchives(temporaryArchiveDirectory(this.settings));
    if (removed) this.logger.warn(`Removed ${removed} temporary archive(s) of imports a stop interrupted.`);
  }

  /** Lets running imports finish before the stores they write to close. */
  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Runs `work` in the background for `userId`; `cleanUp` runs once it is over, whatever the outcome. */
  start(
    userId: string,
    archiveBytes: number,
    work: () => Promise<ImportedProjectDto>,
    cleanUp: () => Promise<void>,
  ): ProjectImportStatusDto {
    this.forgetOld();
    const status: ProjectImportStatusDto = {
      id: this.ids.newId(),
      status: 'pending',
      archiveBytes,
      startedAt: this.clock.now().toISOString(),
    };
    const record: ImportRecord = { status, userId };
    this.imports.set(status.id, record);
    const run: Promise<void> = (async () => {
      let finished: ProjectImportStatusDto;
      let imported: ImportedProjectDto | undefined;
      try {
        imported = await work();
        finished = { ...status, status: 'done', projectId: imported.project.id };
      } catch (error) {
        const { code, message, details } = this.errors.toBody(error);
        finished = {
          ...status,
          status: 'failed',
          error: details === undefined ? { code, message } : { code, message, details },
        };
      }
      // The file is gone by the time the status says the import is over.
      await cleanUp().catch((error: Error) =>
        this.logger.warn(`Could not remove an import's temporary archive: ${error.message}`),
      );
      record.finishedAtMs = this.clock.now().getTime();
      record.unseen = imported;
      record.status = { ...finished, finishedAt: this.clock.now().toISOString() };
    })().finally(() => this.running.delete(run));
    this.running.add(run);
    return { ...status };
  }

  /** The status of one of the user's imports; the first read that reports done carries the new keys. 404 otherwise. */
  read(importId: string, userId: string): ProjectImportStatusDto {
    const record = this.imports.get(importId);
    if (!record || record.userId !== userId) {
      throw DomainError.notFound(
        'PROJECT_IMPORT_NOT_FOUND',
        `No import ${importId} of yours is known here (statuses are kept a day after the import ends).`,
      );
    }
    const imported = record.unseen;
    record.unseen = undefined;
    return imported ? { ...record.status, imported } : { ...record.status };
  }

  private forgetOld(): void {
    const before = this.clock.now().getTime() - FINISHED_KEPT_MS;
    for (const [id, record] of this.imports)
      if (record.finishedAtMs !== undefined && record.finishedAtMs < before) this.imports.delete(id);
  }
}
