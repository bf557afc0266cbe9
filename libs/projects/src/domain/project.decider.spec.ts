import { describe, expect, it } from 'vitest';
import { DomainError } from '@diyml/core/pure';
import { deciderSpecification } from '@diyml/core/testing';
import { type ProjectCommand, projectDecider } from './project.decider.js';
import type { ProjectEvent } from './project.events.js';
import { defaultTrainingConfig } from './training-config.js';

const metadata = { userId: 'u1', correlationId: 'c1', now: new Date('2026-03-01T10:00:00.000Z') };
const at = '2026-03-01T10:00:00.000Z';
const spec = deciderSpecification(projectDecider);

const created: ProjectEvent = {
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
};
const deleted: ProjectEvent = { type: 'ProjectDeleted', v: 1, data: { projectId: 'p1', name: 'Cats', deletedAt: 'x' } };
const catLabel: ProjectEvent = {
  type: 'LabelAdded',
  v: 1,
  data: { projectId: 'p1', labelId: 'l1', name: 'Cat', addedAt: 'x' },
};
const dogLabel: ProjectEvent = {
  type: 'LabelAdded',
  v: 1,
  data: { projectId: 'p1', labelId: 'l2', name: 'dog', addedAt: 'x' },
};

const create: ProjectCommand = {
  type: 'CreateProject',
  projectId: 'p1',
  ownerId: 'u1',
  name: '  Cats  ',
  projectType: 'classification',
  metadata,
};

function thrown(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError');
}

describe('project decider', () => {
  describe('CreateProject', () => {
    it('creates a project with trimmed name, empty description and the defaults of its type', () => {
      spec
        .given([])
        .when({ ...create, projectType: 'detection', description: ' boxes ' })
        .then([
          {
            type: 'ProjectCreated',
            v: 1,
            data: {
              projectId: 'p1',
              ownerId: 'u1',
              name: 'Cats',
              type: 'detection',
              description: 'boxes',
              trainingConfig: {
                ...defaultTrainingConfig('detection'),
                imageSize: 128,
                architecture: 'backbone-detector',
              },
              createdAt: at,
            },
          },
        ]);
    });

    it('refuses to create a project twice, even a deleted one', () => {
      spec.given([created]).when(create).thenThrows('PROJECT_ALREADY_EXISTS');
      spec.given([created, deleted]).when(create).thenThrows('PROJECT_ALREADY_EXISTS');
    });

    it.each([
      ['', 'name'],
      ['   ', 'name'],
      ['x'.repeat(101), 'name'],
    ])('refuses the name %j naming the field', (name, field) => {
      const error = thrown(() => projectDecider.decide({ ...create, name }, projectDecider.initialState));
      expect(error.code).toBe('VALIDATION_FAILED');
      expect(error.details).toEqual([{ field, errors: [expect.stringContaining('1 to 100 characters')] }]);
    });

    it('refuses a description over 2000 characters and an unknown type', () => {
      spec
        .given([])
        .when({ ...create, description: 'd'.repeat(2001) })
        .thenThrows('VALIDATION_FAILED');
      spec
        .given([])
        .when({ ...create, projectType: 'segmentation' as never })
        .thenThrows('VALIDATION_FAILED');
    });
  });

  describe('UpdateProject, RenameProject, DescribeProject', () => {
    it('renames and describes in one decision', () => {
      spec
        .given([created])
        .when({ type: 'UpdateProject', name: 'Felines', description: 'all of them', metadata })
        .then([
          {
            type: 'ProjectRenamed',
            v: 1,
            data: { projectId: 'p1', name: 'Felines', previousName: 'Cats', renamedAt: at },
          },
          { type: 'ProjectDescribed', v: 1, data: { projectId: 'p1', description: 'all of them', describedAt: at } },
        ]);
    });

    it('emits only what changed', () => {
      spec
        .given([created])
        .when({ type: 'UpdateProject', name: 'Cats ', description: 'new', metadata })
        .then([{ type: 'ProjectDescribed', v: 1, data: { projectId: 'p1', description: 'new', describedAt: at } }]);
      spec
        .given([created])
        .when({ type: 'RenameProject', name: 'Kittens', metadata })
        .then([
          {
            type: 'ProjectRenamed',
            v: 1,
            data: { projectId: 'p1', name: 'Kittens', previousName: 'Cats', renamedAt: at },
          },
        ]);
    });

    it('does nothing when nothing changes', () => {
      spec
        .given([created])
        .when({ type: 'UpdateProject', name: 'Cats', description: '', metadata })
        .thenNothingHappens();
      spec.given([created]).when({ type: 'UpdateProject', metadata }).thenNothingHappens();
      spec.given([created]).when({ type: 'DescribeProject', description: '  ', metadata }).thenNothingHappens();
    });

    it('refuses a bad name and a missing or deleted project', () => {
      spec.given([created]).when({ type: 'RenameProject', name: ' ', metadata }).thenThrows('VALIDATION_FAILED');
      spec.given([]).when({ type: 'RenameProject', name: 'x', metadata }).thenThrows('PROJECT_NOT_FOUND');
      spec
        .given([created, deleted])
        .when({ type: 'DescribeProject', description: 'x', metadata })
        .thenThrows('PROJECT_NOT_FOUND');
    });
  });

  describe('DeleteProject', () => {
    it('deletes an active project', () => {
      spec
        .given([created, catLabel])
        .when({ type: 'DeleteProject', metadata })
        .then([{ type: 'ProjectDeleted', v: 1, data: { projectId: 'p1', name: 'Cats', deletedAt: at } }]);
    });

    it('refuses to delete a deleted or missing project', () => {
      spec.given([created, deleted]).when({ type: 'DeleteProject', metadata }).thenThrows('PROJECT_NOT_FOUND');
      spec.given([]).when({ type: 'DeleteProject', metadata }).thenThrows('PROJECT_NOT_FOUND');
    });
  });

  describe('AddLabel', () => {
    it('adds a label with a trimmed name', () => {
      spec
        .given([created])
        .when({ type: 'AddLabel', labelId: 'l1', name: ' Cat ', metadata })
        .then([{ type: 'LabelAdded', v: 1, data: { projectId: 'p1', labelId: 'l1', name: 'Cat', addedAt: at } }]);
    });

    it('refuses a name already taken, whatever its case', () => {
      spec
        .given([created, catLabel])
        .when({ type: 'AddLabel', labelId: 'l9', name: 'CAT', metadata })
        .thenThrows('LABEL_NAME_TAKEN');
    });

    it('accepts the name of a removed label again', () => {
      spec
        .given([
          created,
          catLabel,
          { type: 'LabelRemoved', v: 1, data: { projectId: 'p1', labelId: 'l1', name: 'Cat', removedAt: 'x' } },
        ])
        .when({ type: 'AddLabel', labelId: 'l9', name: 'cat', metadata })
        .then([{ type: 'LabelAdded', v: 1, data: { projectId: 'p1', labelId: 'l9', name: 'cat', addedAt: at } }]);
    });

    it('refuses an empty or too long name, and a deleted project', () => {
      spec
        .given([created])
        .when({ type: 'AddLabel', labelId: 'l1', name: '', metadata })
        .thenThrows('VALIDATION_FAILED');
      spec
        .given([created])
        .when({ type: 'AddLabel', labelId: 'l1', name: 'n'.repeat(101), metadata })
        .thenThrows('VALIDATION_FAILED');
      spec
        .given([created, deleted])
        .when({ type: 'AddLabel', labelId: 'l1', name: 'a', metadata })
        .thenThrows('PROJECT_NOT_FOUND');
    });
  });

  describe('RenameLabel', () => {
    it('renames a label, also to a different case of its own name', () => {
      spec
        .given([created, catLabel])
        .when({ type: 'RenameLabel', labelId: 'l1', name: 'cat', metadata })
        .then([
          {
            type: 'LabelRenamed',
            v: 1,
            data: { projectId: 'p1', labelId: 'l1', name: 'cat', previousName: 'Cat', renamedAt: at },
          },
        ]);
    });

    it('does nothing when the name is the same', () => {
      spec
        .given([created, catLabel])
        .when({ type: 'RenameLabel', labelId: 'l1', name: ' Cat', metadata })
        .thenNothingHappens();
    });

    it("refuses another label's name and an unknown label", () => {
      spec
        .given([created, catLabel, dogLabel])
        .when({ type: 'RenameLabel', labelId: 'l1', name: 'DOG', metadata })
        .thenThrows('LABEL_NAME_TAKEN');
      spec
        .given([created, catLabel])
        .when({ type: 'RenameLabel', labelId: 'l2', name: 'x', metadata })
        .thenThrows('LABEL_NOT_FOUND');
    });
  });

  describe('RemoveLabel', () => {
    it('removes a label', () => {
      spec
        .given([created, catLabel, dogLabel])
        .when({ type: 'RemoveLabel', labelId: 'l2', metadata })
        .then([{ type: 'LabelRemoved', v: 1, data: { projectId: 'p1', labelId: 'l2', name: 'dog', removedAt: at } }]);
    });

    it('refuses a label that does not exist or was removed', () => {
      spec.given([created]).when({ type: 'RemoveLabel', labelId: 'l1', metadata }).thenThrows('LABEL_NOT_FOUND');
      spec
        .given([
          created,
          catLabel,
          { type: 'LabelRemoved', v: 1, data: { projectId: 'p1', labelId: 'l1', name: 'Cat', removedAt: 'x' } },
        ])
        .when({ type: 'RemoveLabel', labelId: 'l1', metadata })
        .thenThrows('LABEL_NOT_FOUND');
    });
  });

  describe('ConfigureTraining', () => {
    it('replaces the configuration: given settings on top of the defaults', () => {
      spec
        .given([created])
        .when({
          type: 'ConfigureTraining',
          trainingConfig: { epochs: 25, augmentation: { horizontalFlip: false } },
          metadata,
        })
        .then([
          {
            type: 'TrainingConfigured',
            v: 1,
            data: {
              projectId: 'p1',
              trainingConfig: {
                ...defaultTrainingConfig('classification'),
                epochs: 25,
                augmentation: { horizontalFlip: false, cropScale: 0.85, brightness: 0.15 },
              },
              configuredAt: at,
            },
          },
        ]);
    });

    it('resets settings left out to the defaults', () => {
      const configured: ProjectEvent = {
        type: 'TrainingConfigured',
        v: 1,
        data: {
          projectId: 'p1',
          trainingConfig: { ...defaultTrainingConfig('classification'), epochs: 99 },
          configuredAt: 'x',
        },
      };
      spec
        .given([created, configured])
        .when({ type: 'ConfigureTraining', trainingConfig: {}, metadata })
        .then([
          {
            type: 'TrainingConfigured',
            v: 1,
            data: { projectId: 'p1', trainingConfig: defaultTrainingConfig('classification'), configuredAt: at },
          },
        ]);
    });

    it('does nothing when the configuration does not change', () => {
      spec
        .given([created])
        .when({ type: 'ConfigureTraining', trainingConfig: { epochs: 10 }, metadata })
        .thenNothingHappens();
    });

    it('refuses out-of-range values and an architecture of the other project type', () => {
      spec
        .given([created])
        .when({ type: 'ConfigureTraining', trainingConfig: { epochs: 0 }, metadata })
        .thenThrows('VALIDATION_FAILED');
      spec
        .given([created])
        .when({ type: 'ConfigureTraining', trainingConfig: { architecture: 'tiny-detector' }, metadata })
        .thenThrows('UNKNOWN_ARCHITECTURE');
      spec
        .given([created, deleted])
        .when({ type: 'ConfigureTraining', trainingConfig: {}, metadata })
        .thenThrows('PROJECT_NOT_FOUND');
    });
  });
  describe('negative label (AddLabel negative, SetLabelNegative)', () => {
    const negativeSet = (labelId: string, name: string, negative: boolean): ProjectEvent => ({
      type: 'LabelNegativeSet',
      v: 1,
      data: { projectId: 'p1', labelId, name, negative, setAt: at },
    });

    it('marks a label negative, and back to regular', () => {
      spec
        .given([created, catLabel])
        .when({ type: 'SetLabelNegative', labelId: 'l1', negative: true, metadata })
        .then([negativeSet('l1', 'Cat', true)]);
      spec
        .given([created, catLabel, negativeSet('l1', 'Cat', true)])
        .when({ type: 'SetLabelNegative', labelId: 'l1', negative: false, metadata })
        .then([negativeSet('l1', 'Cat', false)]);
    });

    it('adds a label as the negative one in one decision', () => {
      spec
        .given([created])
        .when({ type: 'AddLabel', labelId: 'l9', name: 'Nothing', negative: true, metadata })
        .then([
          { type: 'LabelAdded', v: 1, data: { projectId: 'p1', labelId: 'l9', name: 'Nothing', addedAt: at } },
          negativeSet('l9', 'Nothing', true),
        ]);
    });

    it('does nothing when the label already is what is asked', () => {
      spec
        .given([created, catLabel, negativeSet('l1', 'Cat', true)])
        .when({ type: 'SetLabelNegative', labelId: 'l1', negative: true, metadata })
        .thenNothingHappens();
      spec
        .given([created, catLabel])
        .when({ type: 'SetLabelNegative', labelId: 'l1', negative: false, metadata })
        .thenNothingHappens();
    });

    it('refuses a second negative label, naming the first', () => {
      spec
        .given([created, catLabel, dogLabel, negativeSet('l1', 'Cat', true)])
        .when({ type: 'SetLabelNegative', labelId: 'l2', negative: true, metadata })
        .thenThrows('NEGATIVE_LABEL_EXISTS');
      const error = thrown(() =>
        spec
          .given([created, catLabel, negativeSet('l1', 'Cat', true)])
          .when({ type: 'AddLabel', labelId: 'l9', name: 'none', negative: true, metadata })
          .then([]),
      );
      expect(error).toMatchObject({ code: 'NEGATIVE_LABEL_EXISTS', details: { labelId: 'l1', name: 'Cat' } });
      // Once the first is regular again, another label may become negative.
      spec
        .given([created, catLabel, dogLabel, negativeSet('l1', 'Cat', true), negativeSet('l1', 'Cat', false)])
        .when({ type: 'SetLabelNegative', labelId: 'l2', negative: true, metadata })
        .then([negativeSet('l2', 'dog', true)]);
    });

    it('refuses a negative label in a detection project, and on images that carry other labels', () => {
      const detection: ProjectEvent = {
        ...created,
        data: { ...created.data, type: 'detection', trainingConfig: defaultTrainingConfig('detection') },
      } as ProjectEvent;
      spec
        .given([detection, catLabel])
        .when({ type: 'SetLabelNegative', labelId: 'l1', negative: true, metadata })
        .thenThrows('NEGATIVE_LABEL_NOT_FOR_DETECTION');
      const error = thrown(() =>
        spec
          .given([created, catLabel])
          .when({ type: 'SetLabelNegative', labelId: 'l1', negative: true, imagesWithOtherLabels: ['i1'], metadata })
          .then([]),
      );
      expect(error).toMatchObject({
        code: 'NEGATIVE_AND_REGULAR_LABEL',
        kind: 'conflict',
        details: { imageIds: ['i1'] },
      });
      spec
        .given([created])
        .when({ type: 'SetLabelNegative', labelId: 'l1', negative: true, metadata })
        .thenThrows('LABEL_NOT_FOUND');
    });
  });

  describe('UpdateProject type (classification ↔ multilabel)', () => {
    const changed = (type: string, previousType: string): ProjectEvent =>
      ({
        type: 'ProjectTypeChanged',
        v: 1,
        data: { projectId: 'p1', type, previousType, changedAt: at },
      }) as ProjectEvent;

    it('switches classification to multilabel and back', () => {
      spec
        .given([created])
        .when({ type: 'UpdateProject', projectType: 'multilabel', metadata })
        .then([changed('multilabel', 'classification')]);
      spec
        .given([created, changed('multilabel', 'classification')])
        .when({ type: 'UpdateProject', projectType: 'classification', imagesWithSeveralLabels: [], metadata })
        .then([changed('classification', 'multilabel')]);
    });

    it('does nothing when the type is the same', () => {
      spec
        .given([created])
        .when({ type: 'UpdateProject', projectType: 'classification', metadata })
        .thenNothingHappens();
    });

    it('refuses classification while images carry several labels, and any change to or from detection', () => {
      const error = thrown(() =>
        spec
          .given([created, changed('multilabel', 'classification')])
          .when({
            type: 'UpdateProject',
            projectType: 'classification',
            imagesWithSeveralLabels: ['i1', 'i2'],
            metadata,
          })
          .then([]),
      );
      expect(error).toMatchObject({
        code: 'IMAGES_HAVE_SEVERAL_LABELS',
        kind: 'conflict',
        details: { imageIds: ['i1', 'i2'] },
      });
      spec
        .given([created])
        .when({ type: 'UpdateProject', projectType: 'detection', metadata })
        .thenThrows('PROJECT_TYPE_CHANGE_NOT_SUPPORTED');
      spec
        .given([{ ...created, data: { ...created.data, type: 'detection' } } as ProjectEvent])
        .when({ type: 'UpdateProject', projectType: 'multilabel', metadata })
        .thenThrows('PROJECT_TYPE_CHANGE_NOT_SUPPORTED');
      spec
        .given([created])
        .when({ type: 'UpdateProject', projectType: 'nonsense' as never, metadata })
        .thenThrows('VALIDATION_FAILED');
    });
  });
});
