import { beforeEach, describe, expect, it } from 'vitest';
import type { EventMetadata } from '@diyml/core/pure';
import type { RecordedEvent } from '@diyml/event-store';
import { InMemoryReadStore, type Projection } from '@diyml/read-store/pure';
import { projectionSpecification } from '@diyml/read-store/testing/projection-specification.js';
import type { ProjectEvent } from '../../domain/project.events.js';
import { defaultTrainingConfig } from '../../domain/training-config.js';
import { PROJECTS, type ProjectView } from './project.view.js';
import { ProjectsProjection } from './projects.projection.js';

const metadata: EventMetadata = {
  userId: 'u1',
  correlationId: 'c1',
  causationId: null,
  at: '2026-02-01T00:00:00.000Z',
};
let position = 0;

function recorded(
  event: ProjectEvent | { type: string; v: number; data: unknown },
  streamId = 'project-p1',
): RecordedEvent {
  position += 1;
  return { ...event, streamId, revision: position - 1, position, metadata } as RecordedEvent;
}

const events = {
  created: {
    type: 'ProjectCreated',
    v: 1,
    data: {
      projectId: 'p1',
      ownerId: 'u1',
      name: 'Cats',
      type: 'classification',
      description: '',
      trainingConfig: defaultTrainingConfig('classification'),
      createdAt: '2026-01-01T00:00:00.000Z',
    },
  },
  labelAdded: (labelId: string, name: string, addedAt: string): ProjectEvent => ({
    type: 'LabelAdded',
    v: 1,
    data: { projectId: 'p1', labelId, name, addedAt },
  }),
} satisfies Record<string, unknown>;

describe('projects projection', () => {
  let store: InMemoryReadStore;
  const projection: Projection = new ProjectsProjection();
  const project = () => store.collection<ProjectView>(PROJECTS).get('p1');

  beforeEach(() => {
    store = new InMemoryReadStore();
    position = 0;
  });

  it('builds the project with its labels, configuration, times from the events and stream revision', async () => {
    const stream = [
      recorded(events.created as ProjectEvent),
      recorded(events.labelAdded('l1', 'cat', '2026-01-02T00:00:00.000Z')),
      recorded(events.labelAdded('l2', 'dog', '2026-01-03T00:00:00.000Z')),
      recorded({
        type: 'LabelRenamed',
        v: 1,
        data: {
          projectId: 'p1',
          labelId: 'l1',
          name: 'Cat',
          previousName: 'cat',
          renamedAt: '2026-01-04T00:00:00.000Z',
        },
      }),
      recorded({
        type: 'LabelRemoved',
        v: 1,
        data: { projectId: 'p1', labelId: 'l2', name: 'dog', removedAt: '2026-01-05T00:00:00.000Z' },
      }),
      recorded({
        type: 'ProjectRenamed',
        v: 1,
        data: { projectId: 'p1', name: 'Felines', previousName: 'Cats', renamedAt: '2026-01-06T00:00:00.000Z' },
      }),
      recorded({
        type: 'ProjectDescribed',
        v: 1,
        data: { projectId: 'p1', description: 'all cats', describedAt: '2026-01-07T00:00:00.000Z' },
      }),
      recorded({
        type: 'TrainingConfigured',
        v: 1,
        data: {
          projectId: 'p1',
          trainingConfig: { ...defaultTrainingConfig('classification'), epochs: 3 },
          configuredAt: '2026-01-08T00:00:00.000Z',
        },
      }),
    ];
    await projectionSpecification(projection)
      .given(stream)
      .then(async (built) =>
        expect(await built.collection<ProjectView>(PROJECTS).get('p1')).toEqual({
          id: 'p1',
          ownerId: 'u1',
          name: 'Felines',
          type: 'classification',
          description: 'all cats',
          labels: [{ id: 'l1', name: 'Cat', colorIndex: 0, negative: false }],
          trainingConfig: { ...defaultTrainingConfig('classification'), epochs: 3 },
          createdAt: '2026-01-01T00:00:00.000Z',
          updatedAt: '2026-01-08T00:00:00.000Z',
          revision: 7,
        }),
      );
  });

  it('reads a configuration recorded before backbone, fineTune and baseIterationId existed with their defaults', async () => {
    const {
      baseIterationId: _base,
      backbone: _backbone,
      fineTune: _fineTune,
      ...recordedBefore
    } = {
      ...defaultTrainingConfig('classification'),
      epochs: 5,
    };
    const created = { ...events.created, data: { ...events.created.data, trainingConfig: recordedBefore } };
    await projectionSpecification(projection)
      .given([recorded(created as ProjectEvent)])
      .then(async (built) =>
        expect((await built.collection<ProjectView>(PROJECTS).get('p1'))?.trainingConfig).toEqual({
          ...defaultTrainingConfig('classification'),
          epochs: 5,
          baseIterationId: null,
          backbone: null,
          fineTune: 0,
        }),
      );
  });

  it("keeps each label's colour when another is removed, and gives the freed one to the next label added", async () => {
    const removed = (labelId: string, name: string): ProjectEvent => ({
      type: 'LabelRemoved',
      v: 1,
      data: { projectId: 'p1', labelId, name, removedAt: '2026-01-05T00:00:00.000Z' },
    });
    await projectionSpecification(projection)
      .given([
        recorded(events.created as ProjectEvent),
        recorded(events.labelAdded('l1', 'cat', '2026-01-02T00:00:00.000Z')),
        recorded(events.labelAdded('l2', 'dog', '2026-01-02T00:00:00.000Z')),
        recorded(events.labelAdded('l3', 'fox', '2026-01-02T00:00:00.000Z')),
        recorded(removed('l1', 'cat')),
        recorded(events.labelAdded('l4', 'owl', '2026-01-06T00:00:00.000Z')),
        recorded(events.labelAdded('l5', 'elk', '2026-01-07T00:00:00.000Z')),
      ])
      .then(async (built) =>
        expect((await built.collection<ProjectView>(PROJECTS).get('p1'))?.labels).toEqual([
          { id: 'l2', name: 'dog', colorIndex: 1, negative: false },
          { id: 'l3', name: 'fox', colorIndex: 2, negative: false },
          { id: 'l4', name: 'owl', colorIndex: 0, negative: false },
          { id: 'l5', name: 'elk', colorIndex: 3, negative: false },
        ]),
      );
  });

  it('changes nothing when the same event is applied twice', async () => {
    const created = recorded(events.created as ProjectEvent);
    const added = recorded(events.labelAdded('l1', 'cat', '2026-01-02T00:00:00.000Z'));
    await projection.apply(created, store);
    await projection.apply(added, store);
    const once = await project();
    await projection.apply(added, store);
    await projection.apply(created, store);
    expect(await project()).toEqual(once);
    expect(once?.labels).toEqual([{ id: 'l1', name: 'cat', colorIndex: 0, negative: false }]);
  });

  it('removes a deleted project and does not bring it back on a repeated older event', async () => {
    const created = recorded(events.created as ProjectEvent);
    await projection.apply(created, store);
    await projection.apply(
      recorded({ type: 'ProjectDeleted', v: 1, data: { projectId: 'p1', name: 'Cats', deletedAt: 'x' } }),
      store,
    );
    await projection.apply(created, store);
    expect(await project()).toBeUndefined();
    expect(await store.collection<ProjectView>(PROJECTS).count({ ownerId: 'u1' })).toBe(0);
  });
  it('marks the negative label and follows a change of type', async () => {
    await projectionSpecification(projection)
      .given([
        recorded(events.created as ProjectEvent),
        recorded(events.labelAdded('l1', 'cat', '2026-01-02T00:00:00.000Z')),
        recorded(events.labelAdded('l2', 'nothing', '2026-01-02T00:00:00.000Z')),
        recorded({
          type: 'LabelNegativeSet',
          v: 1,
          data: { projectId: 'p1', labelId: 'l2', name: 'nothing', negative: true, setAt: '2026-01-03T00:00:00.000Z' },
        }),
        recorded({
          type: 'ProjectTypeChanged',
          v: 1,
          data: {
            projectId: 'p1',
            type: 'multilabel',
            previousType: 'classification',
            changedAt: '2026-01-04T00:00:00.000Z',
          },
        }),
      ])
      .then(async (built) =>
        expect(await built.collection<ProjectView>(PROJECTS).get('p1')).toMatchObject({
          type: 'multilabel',
          labels: [
            { id: 'l1', name: 'cat', colorIndex: 0, negative: false },
            { id: 'l2', name: 'nothing', colorIndex: 1, negative: true },
          ],
          updatedAt: '2026-01-04T00:00:00.000Z',
          revision: 4,
        }),
      );
  });
});
