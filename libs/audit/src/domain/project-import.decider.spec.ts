import { describe, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { type ImportProjectCommand, projectImportDecider } from './project-import.decider.js';
import type { ProjectImported } from './project-import.events.js';

const now = new Date('2026-12-01T10:00:00.000Z');
const spec = deciderSpecification(projectImportDecider);
const command: ImportProjectCommand = {
  type: 'ImportProject',
  projectId: 'p2',
  sourceProjectId: 'p1',
  sourceName: 'cats',
  exportedAt: '2026-11-30T09:00:00.000Z',
  eventCount: 42,
  blobCount: 7,
  metadata: { userId: 'u1', correlationId: 'c1', now },
};
const imported: ProjectImported = {
  type: 'ProjectImported',
  v: 1,
  data: {
    projectId: 'p2',
    sourceProjectId: 'p1',
    sourceName: 'cats',
    exportedAt: '2026-11-30T09:00:00.000Z',
    eventCount: 42,
    blobCount: 7,
    importedAt: now.toISOString(),
  },
};

describe('project import decider', () => {
  it('records where the project came from and what follows', () => {
    spec.given([]).when(command).then([imported]);
  });

  it('refuses to import into a project id twice', () => {
    spec.given([imported]).when(command).thenThrows('PROJECT_ALREADY_IMPORTED');
  });
});
