import { describe, expect, it } from 'vitest';
import { projectionSpecification, TestEventLog } from '@diyml/read-store/testing/projection-specification.js';
import { importRunStream } from '../../domain/import-run.events.js';
import { PROJECT_IMPORTS, ProjectImportsProjection, type ProjectImportView } from './project-imports.projection.js';

const importId = '7d1c2a4e-1b2c-4d3e-8f90-0a1b2c3d4e5f';
const progress = {
  phase: 'storing-blobs' as const,
  blobsStored: 2,
  blobCount: 5,
  eventsWritten: 0,
  eventCount: 30,
  importedProjectId: 'p2',
};

function started(log: TestEventLog) {
  return log.record(importRunStream(importId), {
    type: 'ProjectImportStarted',
    v: 1,
    data: { importId, archiveBytes: 2048, startedAt: '2026-12-02T10:00:00.000Z' },
  });
}

describe('project imports projection', () => {
  it('shows a started import as pending, owned by who sent it, with its last progress and when it was last heard of', async () => {
    const log = new TestEventLog({
      userId: 'u1',
      correlationId: 'c1',
      causationId: null,
      at: '2026-12-02T10:00:10.000Z',
    });
    await projectionSpecification(new ProjectImportsProjection())
      .given([
        started(log),
        log.record(importRunStream(importId), {
          type: 'ProjectImportProgressed',
          v: 1,
          data: { importId, ...progress },
        }),
      ])
      .then(async (store) => {
        expect(await store.collection<ProjectImportView>(PROJECT_IMPORTS).get(importId)).toEqual({
          id: importId,
          userId: 'u1',
          status: 'pending',
          archiveBytes: 2048,
          startedAt: '2026-12-02T10:00:00.000Z',
          finishedAt: null,
          lastSeenAt: '2026-12-02T10:00:10.000Z',
          progress,
          projectId: null,
          sourceProjectId: null,
          error: null,
          revision: 1,
        });
      });
  });

  it('shows a completed import as done with the new project, and a failed one with its error', async () => {
    const log = new TestEventLog();
    const otherId = '8e2d3b5f-2c3d-4e4f-9a01-1b2c3d4e5f60';
    await projectionSpecification(new ProjectImportsProjection())
      .given([
        started(log),
        log.record(importRunStream(importId), {
          type: 'ProjectImportCompleted',
          v: 1,
          data: {
            importId,
            importedProjectId: 'p2',
            sourceProjectId: 'p1',
            eventCount: 30,
            blobCount: 5,
            completedAt: '2026-12-02T10:01:00.000Z',
          },
        }),
        log.record(importRunStream(otherId), {
          type: 'ProjectImportStarted',
          v: 1,
          data: { importId: otherId, archiveBytes: 10, startedAt: '2026-12-02T10:02:00.000Z' },
        }),
        log.record(importRunStream(otherId), {
          type: 'ProjectImportFailed',
          v: 1,
          data: {
            importId: otherId,
            code: 'IMPORT_INTERRUPTED',
            message: 'Send the archive again.',
            details: { phase: 'checking', importedProjectId: null },
            failedAt: '2026-12-02T10:03:00.000Z',
          },
        }),
      ])
      .then(async (store) => {
        const imports = store.collection<ProjectImportView>(PROJECT_IMPORTS);
        expect(await imports.get(importId)).toMatchObject({
          status: 'done',
          projectId: 'p2',
          sourceProjectId: 'p1',
          finishedAt: '2026-12-02T10:01:00.000Z',
          error: null,
        });
        expect(await imports.get(otherId)).toMatchObject({
          status: 'failed',
          finishedAt: '2026-12-02T10:03:00.000Z',
          error: {
            code: 'IMPORT_INTERRUPTED',
            message: 'Send the archive again.',
            details: { phase: 'checking', importedProjectId: null },
          },
        });
        expect(await imports.count({ status: 'pending' })).toBe(0);
      });
  });
});
