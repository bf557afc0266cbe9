import { DomainError } from '../domain/domain-error.js';
import { siblingModule, startWorkerThread, WorkerThreadPool } from '../worker-thread.js';
import type { InflatedArchive, InflationRequest, ZipSource } from './archive-inflation.js';
import type { FromInflationThread, ToInflationThread } from './archive-inflation.protocol.js';
import type { ArchiveLimits } from './zip-archive.js';

/** Stable codes of archive refusals, shared by every import that takes a zip. */
export const ArchiveErrors = {
  INVALID_ARCHIVE: 'INVALID_ARCHIVE',
  ARCHIVE_TOO_LARGE: 'ARCHIVE_TOO_LARGE',
  ARCHIVE_ENTRY_TOO_LARGE: 'ARCHIVE_ENTRY_TOO_LARGE',
  ARCHIVE_RATIO_EXCEEDED: 'ARCHIVE_RATIO_EXCEEDED',
  ARCHIVE_TOO_MANY_ENTRIES: 'ARCHIVE_TOO_MANY_ENTRIES',
} as const;

/** The archive limits of the settings (ARCHIVE_MAX_*). */
export function archiveLimitsOf(settings: {
  ARCHIVE_MAX_INFLATED_BYTES: number;
  ARCHIVE_MAX_ENTRY_BYTES: number;
  ARCHIVE_MAX_ENTRIES: number;
  ARCHIVE_MAX_RATIO: number;
}): ArchiveLimits {
  return {
    maxTotalBytes: settings.ARCHIVE_MAX_INFLATED_BYTES,
    maxEntryBytes: settings.ARCHIVE_MAX_ENTRY_BYTES,
    maxEntries: settings.ARCHIVE_MAX_ENTRIES,
    maxRatio: settings.ARCHIVE_MAX_RATIO,
  };
}

/**
 * The process's archive threads: one kept warm after an archive it unpacked (or found not to be a zip), so the next
 * import skips starting a thread. A thread that stopped an archive at a limit is closed, which frees at once what it
 * inflated (a zip bomb stops with megabytes inflated, dead but not yet collected: kept, the thread grew by ~20 MiB
 * per bomb); so is one that failed or stopped.
 */
export const archiveThreads = new WorkerThreadPool(
  () => startWorkerThread(siblingModule(import.meta.url, 'archive-inflation.worker')),
  { maxIdle: 1, maxRunsPerThread: 100 },
);

/**
 * Unzips on a worker thread, so a large or hostile archive never blocks the event loop, with every limit
 * enforced on the bytes really inflated as they come (a zip bomb stops at the first limit it passes). Given a file's
 * path, the thread reads the zip from the file a piece at a time: only what is inflated is held in memory.
 * Refusals are DomainErrors: 413 ARCHIVE_TOO_LARGE / ARCHIVE_ENTRY_TOO_LARGE / ARCHIVE_RATIO_EXCEEDED /
 * ARCHIVE_TOO_MANY_ENTRIES, 400 INVALID_ARCHIVE for a file that is not a readable zip.
 */
export async function unzipSafely(zip: ZipSource, request: InflationRequest): Promise<InflatedArchive> {
  const answer = await archiveThreads.request<FromInflationThread>({ zip, request } satisfies ToInflationThread, {
    reusable: (answer) => answer.type === 'inflated' || (answer.type === 'refused' && answer.kind === 'validation'),
    stopped: (code) => new Error(`the archive thread stopped (exit code ${code})`),
  });
  switch (answer.type) {
    case 'inflated':
      return answer.archive;
    case 'refused':
      throw new DomainError(answer.kind, answer.code, answer.message, answer.details);
    case 'failed':
      throw new Error(`Unzipping failed: ${answer.message}`);
  }
}
