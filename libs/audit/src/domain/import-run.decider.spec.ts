import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { importRunDecider } from './import-run.decider.js';
import type { ImportRunEvent } from './import-run.events.js';

const now = new Date('2026-12-02T10:00:00.000Z');
const metadata = { userId: 'u1', correlationId: 'c1', now };
const spec = deciderSpecification(importRunDecider);
const importId = 'i1';
const started: ImportRunEvent = {
  type: 'ProjectImportStarted',
  v: 1,
  data: { importId, archiveBytes: 1024, startedAt: '2026-12-02T09:59:00.000Z' },
};
const progress = {
  phase: 'storing-blobs' as const,
  blobsStored: 3,
  blobCount: 10,
  eventsWritten: 0,
  eventCount: 40,
  importedProjectId: 'p2',
};
const completed: ImportRunEvent = {
  type: 'ProjectImportCompleted',
  v: 1,
  data: {
    importId,
    importedProjectId: 'p2',
    sourceProjectId: 'p1',
    eventCount: 40,
    blobCount: 10,
    completedAt: now.toISOString(),
  },
};
const failed: ImportRunEvent = {
  type: 'ProjectImportFailed',
  v: 1,
  data: {
    importId,
    code: 'IMPORT_INTERRUPTED',
    message: 'send it again',
    details: null,
    failedAt: now.toISOString(),
  },
};
const complete = {
  type: 'CompleteImportRun' as const,
  importId,
  importedProjectId: 'p2',
  sourceProjectId: 'p1',
  eventCount: 40,
  blobCount: 10,
  metadata,
};
const fail = {
  type: 'FailImportRun' as const,
  importId,
  code: 'IMPORT_INTERRUPTED',
  message: 'send it again',
  details: undefined,
  metadata,
};

describe('import run decider', () => {
  it('starts an import once, at the time of the command', () => {
    spec
      .given([])
      .when({ type: 'StartImportRun', importId, archiveBytes: 1024, metadata })
      .then([{ ...started, data: { ...started.data, startedAt: now.toISOString() } }]);
    spec
      .given([started])
      .when({ type: 'StartImportRun', importId, archiveBytes: 1024, metadata })
      .thenThrows('PROJECT_IMPORT_ALREADY_STARTED');
  });

  it('records progress while running, and drops a heartbeat that comes after the end', () => {
    spec
      .given([started])
      .when({ type: 'RecordImportProgress', importId, progress, metadata })
      .then([{ type: 'ProjectImportProgressed', v: 1, data: { importId, ...progress } }]);
    spec
      .given([started, completed])
      .when({ type: 'RecordImportProgress', importId, progress, metadata })
      .thenNothingHappens();
  });

  it('completes a running import; completing it again changes nothing', () => {
    spec.given([started]).when(complete).then([completed]);
    spec.given([started, completed]).when(complete).thenNothingHappens();
  });

  it('refuses to complete an import already recorded as failed (declared interrupted meanwhile)', () => {
    spec.given([started, failed]).when(complete).thenThrows('PROJECT_IMPORT_ALREADY_FAILED');
  });

  it('fails a running import with its reason, once: a second sweeper changes nothing', () => {
    spec.given([started]).when(fail).then([failed]);
    spec.given([started, failed]).when(fail).thenNothingHappens();
    spec.given([started, completed]).when(fail).thenNothingHappens();
  });

  it('refuses progress, completion or failure of an import never started', () => {
    spec.given([]).when(fail).thenThrows('PROJECT_IMPORT_NOT_FOUND');
  });
});
