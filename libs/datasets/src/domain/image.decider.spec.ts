import { describe, expect, it } from 'vitest';
import { deciderSpecification } from '@diyml/core/testing';
import { type ImageCommand, imageDecider, type ProjectContext } from './image.decider.js';
import type { ImageEvent, ImageUploaded, Region } from './image.events.js';
import { resolveLabel } from './label-reference.js';

const spec = deciderSpecification(imageDecider);
const classification: ProjectContext = { id: 'p1', type: 'classification', labelIds: ['cat', 'dog'] };
const detection: ProjectContext = { id: 'p1', type: 'detection', labelIds: ['car'] };
const multilabel: ProjectContext = { id: 'p1', type: 'multilabel', labelIds: ['dog', 'outdoor', 'night'] };
const file = {
  filename: 'a.png',
  sha256: 'f'.repeat(64),
  width: 32,
  height: 16,
  format: 'png',
  bytes: 100,
  dhash: '0'.repeat(16),
};
const upload: ImageCommand = {
  type: 'UploadImage',
  project: classification,
  imageId: 'i1',
  ...file,
  labelId: null,
  split: 'train',
};
const uploaded: ImageUploaded = {
  type: 'ImageUploaded',
  v: 2,
  data: { projectId: 'p1', imageId: 'i1', ...file, labelId: null, split: 'train', source: null },
};
const labeled = (labelId: string | null): ImageEvent => ({
  type: 'ImageLabeled',
  v: 2,
  data: { projectId: 'p1', imageId: 'i1', labelId, source: null },
});
const box = { labelId: 'car', x: 0.1, y: 0.2, width: 0.5, height: 0.5 };

describe('image decider', () => {
  describe('upload', () => {
    it('records a frame of a video with the video and its timestamp as the source', () => {
      const source = { kind: 'video' as const, videoId: 'v1', timestampMs: 1500 };
      spec
        .given([])
        .when({ ...upload, source })
        .then([{ ...uploaded, data: { ...uploaded.data, source } }]);
    });

    it('records the image with its label and split', () => {
      spec
        .given([])
        .when({ ...upload, labelId: 'cat', split: 'test' })
        .then([{ ...uploaded, data: { ...uploaded.data, labelId: 'cat', split: 'test' } }]);
    });

    it('records boxes brought with a detection upload in the same append', () => {
      spec
        .given([])
        .when({ ...upload, project: detection, regions: [box] })
        .then([
          uploaded,
          { type: 'ImageRegionsSet', v: 2, data: { projectId: 'p1', imageId: 'i1', regions: [box], source: null } },
        ]);
    });

    it('refuses to upload the same image id twice', () => {
      spec.given([uploaded]).when(upload).thenThrows('IMAGE_ALREADY_EXISTS');
    });

    it('refuses a whole-image label on a detection project and an unknown label', () => {
      spec
        .given([])
        .when({ ...upload, project: detection, labelId: 'car' })
        .thenThrows('WRONG_PROJECT_TYPE');
      spec
        .given([])
        .when({ ...upload, labelId: 'horse' })
        .thenThrows('UNKNOWN_LABEL');
    });
  });

  describe('labels', () => {
    it('labels, relabels and clears', () => {
      spec
        .given([uploaded])
        .when({ type: 'LabelImage', project: classification, labelId: 'cat' })
        .then([labeled('cat')]);
      spec
        .given([uploaded, labeled('cat')])
        .when({ type: 'LabelImage', project: classification, labelId: 'dog' })
        .then([labeled('dog')]);
      spec
        .given([uploaded, labeled('cat')])
        .when({ type: 'LabelImage', project: classification, labelId: null })
        .then([labeled(null)]);
    });

    it('records an accepted suggestion with the iteration it came from', () => {
      const source = { kind: 'suggestion' as const, iterationId: 'it1', edited: false };
      spec
        .given([uploaded])
        .when({ type: 'LabelImage', project: classification, labelId: 'cat', source })
        .then([{ type: 'ImageLabeled', v: 2, data: { projectId: 'p1', imageId: 'i1', labelId: 'cat', source } }]);
      spec
        .given([uploaded])
        .when({ type: 'SetImageRegions', project: detection, regions: [box], source })
        .then([{ type: 'ImageRegionsSet', v: 2, data: { projectId: 'p1', imageId: 'i1', regions: [box], source } }]);
    });

    it('refuses a suggestion for an image labeled since: its label stays', () => {
      const source = { kind: 'suggestion' as const, iterationId: 'it1', edited: false };
      spec
        .given([uploaded, labeled('dog')])
        .when({ type: 'LabelImage', project: classification, labelId: 'cat', source })
        .thenThrows('IMAGE_ALREADY_LABELED');
      const boxes: ImageEvent = {
        type: 'ImageRegionsSet',
        v: 2,
        data: { projectId: 'p1', imageId: 'i1', regions: [box], source: null },
      };
      spec
        .given([uploaded, boxes])
        .when({ type: 'SetImageRegions', project: detection, regions: [box], source })
        .thenThrows('IMAGE_ALREADY_LABELED');
    });

    it('does nothing when the label is already the one asked for', () => {
      spec
        .given([uploaded, labeled('cat')])
        .when({ type: 'LabelImage', project: classification, labelId: 'cat' })
        .thenNothingHappens();
    });

    it('refuses a label the project does not have, and labels on a detection project', () => {
      spec
        .given([uploaded])
        .when({ type: 'LabelImage', project: classification, labelId: 'horse' })
        .thenThrows('UNKNOWN_LABEL');
      spec
        .given([uploaded])
        .when({ type: 'LabelImage', project: detection, labelId: 'car' })
        .thenThrows('WRONG_PROJECT_TYPE');
    });

    it('answers IMAGE_NOT_FOUND for a missing, removed or other project image', () => {
      const label: ImageCommand = { type: 'LabelImage', project: classification, labelId: 'cat' };
      spec.given([]).when(label).thenThrows('IMAGE_NOT_FOUND');
      spec
        .given([
          uploaded,
          { type: 'ImageRemoved', v: 1, data: { projectId: 'p1', imageId: 'i1', sha256: file.sha256 } },
        ])
        .when(label)
        .thenThrows('IMAGE_NOT_FOUND');
      spec
        .given([uploaded])
        .when({ ...label, project: { ...classification, id: 'p2' } })
        .thenThrows('IMAGE_NOT_FOUND');
    });
  });

  describe('regions', () => {
    const set = (regions: Region[]) => ({ type: 'SetImageRegions', project: detection, regions }) as ImageCommand;

    it('sets boxes and replaces them; the same boxes again change nothing', () => {
      spec
        .given([uploaded])
        .when(set([box]))
        .then([
          { type: 'ImageRegionsSet', v: 2, data: { projectId: 'p1', imageId: 'i1', regions: [box], source: null } },
        ]);
      spec
        .given([
          uploaded,
          { type: 'ImageRegionsSet', v: 2, data: { projectId: 'p1', imageId: 'i1', regions: [box], source: null } },
        ])
        .when(set([box]))
        .thenNothingHappens();
      spec
        .given([
          uploaded,
          { type: 'ImageRegionsSet', v: 2, data: { projectId: 'p1', imageId: 'i1', regions: [box], source: null } },
        ])
        .when(set([]))
        .then([{ type: 'ImageRegionsSet', v: 2, data: { projectId: 'p1', imageId: 'i1', regions: [], source: null } }]);
    });

    it.each([
      [{ ...box, x: -0.1 }, 'REGION_OUT_OF_BOUNDS'],
      [{ ...box, x: 0.6 }, 'REGION_OUT_OF_BOUNDS'],
      [{ ...box, y: 0.8, height: 0.3 }, 'REGION_OUT_OF_BOUNDS'],
      [{ ...box, width: 0 }, 'REGION_EMPTY'],
      [{ ...box, height: -0.1 }, 'REGION_EMPTY'],
      [{ ...box, labelId: 'bike' }, 'UNKNOWN_LABEL'],
    ])('refuses %j with %s', (region, code) => {
      spec
        .given([uploaded])
        .when(set([box, region]))
        .thenThrows(code);
    });

    it('accepts a box touching the far edges despite floating-point rounding', () => {
      const edge = { labelId: 'car', x: 0.7, y: 0.9, width: 0.3, height: 0.1 };
      const [event] = imageDecider.decide(set([edge]), imageDecider.evolve(imageDecider.initialState, uploaded));
      expect(event).toMatchObject({ type: 'ImageRegionsSet' });
    });

    it('refuses regions on a classification project', () => {
      spec
        .given([uploaded])
        .when({ type: 'SetImageRegions', project: classification, regions: [] })
        .thenThrows('WRONG_PROJECT_TYPE');
    });
  });

  describe('training points', () => {
    const excluded: ImageEvent = { type: 'ImageExcludedFromTraining', v: 1, data: { projectId: 'p1', imageId: 'i1' } };

    it('excludes and includes again, each only once', () => {
      spec.given([uploaded]).when({ type: 'ExcludeImage', project: classification }).then([excluded]);
      spec.given([uploaded, excluded]).when({ type: 'ExcludeImage', project: classification }).thenNothingHappens();
      spec
        .given([uploaded, excluded])
        .when({ type: 'IncludeImage', project: classification })
        .then([{ type: 'ImageIncludedInTraining', v: 1, data: { projectId: 'p1', imageId: 'i1' } }]);
      spec.given([uploaded]).when({ type: 'IncludeImage', project: classification }).thenNothingHappens();
    });

    it('assigns a split unless it is already the one', () => {
      spec
        .given([uploaded])
        .when({ type: 'AssignSplit', project: classification, split: 'validation' })
        .then([{ type: 'ImageSplitAssigned', v: 1, data: { projectId: 'p1', imageId: 'i1', split: 'validation' } }]);
      spec
        .given([uploaded])
        .when({ type: 'AssignSplit', project: classification, split: 'train' })
        .thenNothingHappens();
    });

    it('removes an image once, naming its content so the claim can be released', () => {
      const removed: ImageEvent = {
        type: 'ImageRemoved',
        v: 1,
        data: { projectId: 'p1', imageId: 'i1', sha256: file.sha256 },
      };
      spec.given([uploaded]).when({ type: 'RemoveImage', project: classification }).then([removed]);
      spec
        .given([uploaded, removed])
        .when({ type: 'RemoveImage', project: classification })
        .thenThrows('IMAGE_NOT_FOUND');
    });
  });
});

describe('multilabel images', () => {
  const labelsSet = (labelIds: string[]): ImageEvent => ({
    type: 'ImageLabelsSet',
    v: 1,
    data: { projectId: 'p1', imageId: 'i1', labelIds, source: null },
  });
  const setLabels = (project: ProjectContext, labelIds: string[]): ImageCommand => ({
    type: 'SetImageLabels',
    project,
    labelIds,
  });

  it('records an upload with several labels as the image and its label set, in one append', () => {
    spec
      .given([])
      .when({ ...upload, project: multilabel, labelIds: ['dog', 'night', 'dog'] })
      .then([uploaded, labelsSet(['dog', 'night'])]);
  });

  it('sets, replaces and clears the label set, and does nothing for the same set in another order', () => {
    spec
      .given([uploaded])
      .when(setLabels(multilabel, ['dog', 'outdoor']))
      .then([labelsSet(['dog', 'outdoor'])]);
    spec
      .given([uploaded, labelsSet(['dog', 'outdoor'])])
      .when(setLabels(multilabel, ['outdoor', 'dog']))
      .then([]);
    spec
      .given([uploaded, labelsSet(['dog'])])
      .when(setLabels(multilabel, []))
      .then([labelsSet([])]);
    // One label, as a classification client sends it, is the whole set.
    spec
      .given([uploaded, labelsSet(['dog', 'night'])])
      .when({ type: 'LabelImage', project: multilabel, labelId: 'outdoor' })
      .then([labelsSet(['outdoor'])]);
  });

  it('refuses a label the project lacks', () => {
    spec
      .given([uploaded])
      .when(setLabels(multilabel, ['dog', 'cat']))
      .thenThrows('UNKNOWN_LABEL');
  });

  it('refuses several labels on a classification project, and takes one as its label', () => {
    spec
      .given([uploaded])
      .when(setLabels(classification, ['cat', 'dog']))
      .thenThrows('TOO_MANY_LABELS');
    spec
      .given([])
      .when({ ...upload, labelIds: ['cat', 'dog'] })
      .thenThrows('TOO_MANY_LABELS');
    spec
      .given([uploaded])
      .when(setLabels(classification, ['dog']))
      .then([labeled('dog')]);
    spec
      .given([uploaded, labeled('dog')])
      .when(setLabels(classification, []))
      .then([labeled(null)]);
  });

  it('refuses whole-image labels on a detection project', () => {
    spec
      .given([uploaded])
      .when(setLabels(detection, ['car']))
      .thenThrows('WRONG_PROJECT_TYPE');
    spec.given([uploaded]).when(setLabels(detection, [])).thenThrows('WRONG_PROJECT_TYPE');
  });

  it("gives an image the project's negative label alone, never beside another label", () => {
    const withNegative: ProjectContext = {
      ...multilabel,
      labelIds: [...multilabel.labelIds, 'none'],
      negativeLabelId: 'none',
    };
    spec
      .given([uploaded])
      .when(setLabels(withNegative, ['none']))
      .then([labelsSet(['none'])]);
    spec
      .given([uploaded])
      .when(setLabels(withNegative, ['dog', 'none']))
      .thenThrows('NEGATIVE_AND_REGULAR_LABEL');
    spec
      .given([])
      .when({ ...upload, project: withNegative, labelIds: ['none', 'night'] })
      .thenThrows('NEGATIVE_AND_REGULAR_LABEL');
    // Replacing the negative label by regular ones is a new set, not a mix.
    spec
      .given([uploaded, labelsSet(['none'])])
      .when(setLabels(withNegative, ['dog', 'night']))
      .then([labelsSet(['dog', 'night'])]);
  });

  it("keeps the labels of a project that changed type: the latest labels, of either kind, are the image's", () => {
    // Labeled while classification, the project now multilabel: the label is the set to compare with.
    spec
      .given([uploaded, labeled('dog')])
      .when(setLabels(multilabel, ['dog']))
      .then([]);
    spec
      .given([uploaded, labeled('dog')])
      .when(setLabels(multilabel, []))
      .then([labelsSet([])]);
    // Labeled while multilabel, the project now classification: clearing clears the set.
    spec
      .given([uploaded, labelsSet(['dog'])])
      .when(setLabels(classification, []))
      .then([labeled(null)]);
    spec
      .given([uploaded, labelsSet(['night']), labeled('dog')])
      .when(setLabels(multilabel, ['dog']))
      .then([]);
  });

  it('lets a suggestion label only an untagged image', () => {
    const source = { kind: 'suggestion' as const, iterationId: 'it1', edited: false };
    spec
      .given([uploaded, labelsSet(['dog'])])
      .when({ type: 'SetImageLabels', project: multilabel, labelIds: ['night'], source })
      .thenThrows('IMAGE_ALREADY_LABELED');
  });

  it('takes an image whose labels were all removed from the project as unlabeled, as the images list shows it', () => {
    const source = { kind: 'suggestion' as const, iterationId: 'it1', edited: false };
    const withoutOld = { ...classification, labelIds: ['cat', 'dog'] };
    spec
      .given([uploaded, labeled('old')])
      .when({ type: 'LabelImage', project: withoutOld, labelId: 'cat', source })
      .then([{ type: 'ImageLabeled', v: 2, data: { projectId: 'p1', imageId: 'i1', labelId: 'cat', source } }]);
    spec
      .given([uploaded, labeled('old')])
      .when(setLabels(withoutOld, []))
      .thenNothingHappens();
    spec
      .given([uploaded, labelsSet(['old', 'older'])])
      .when({ type: 'SetImageLabels', project: multilabel, labelIds: ['night'], source })
      .then([{ type: 'ImageLabelsSet', v: 1, data: { projectId: 'p1', imageId: 'i1', labelIds: ['night'], source } }]);
    const oldBox: ImageEvent = {
      type: 'ImageRegionsSet',
      v: 2,
      data: { projectId: 'p1', imageId: 'i1', regions: [{ ...box, labelId: 'old' }], source: null },
    };
    spec
      .given([uploaded, oldBox])
      .when({ type: 'SetImageRegions', project: detection, regions: [box], source })
      .then([{ type: 'ImageRegionsSet', v: 2, data: { projectId: 'p1', imageId: 'i1', regions: [box], source } }]);
    // A label still in the project keeps the image labeled.
    spec
      .given([uploaded, labelsSet(['old', 'dog'])])
      .when({ type: 'SetImageLabels', project: multilabel, labelIds: ['night'], source })
      .thenThrows('IMAGE_ALREADY_LABELED');
  });

  it('changes nothing when a classification image gets the label it holds from its multilabel days', () => {
    spec
      .given([uploaded, labelsSet(['dog'])])
      .when(setLabels(classification, ['dog']))
      .thenNothingHappens();
  });
});

describe('label references', () => {
  const labels = [
    { id: '6f1c2b8e-0000-4000-8000-000000000001', name: 'Cat' },
    { id: '6f1c2b8e-0000-4000-8000-000000000002', name: 'dog' },
  ];

  it('finds a label by id or by name, whatever the case', () => {
    expect(resolveLabel(labels, 'cat')).toEqual(labels[0]);
    expect(resolveLabel(labels, ' DOG ')).toEqual(labels[1]);
    expect(resolveLabel(labels, labels[1].id.toUpperCase())).toEqual(labels[1]);
  });

  it('tells an unknown name from an id of another project', () => {
    expect(() => resolveLabel(labels, 'horse')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_LABEL', kind: 'validation' }),
    );
    expect(() => resolveLabel(labels, '6f1c2b8e-0000-4000-8000-00000000ffff')).toThrow(
      expect.objectContaining({ code: 'LABEL_NOT_IN_PROJECT', kind: 'validation' }),
    );
  });

  describe('metadata', () => {
    const set = (metadata: Record<string, string>): ImageEvent => ({
      type: 'ImageMetadataSet',
      v: 1,
      data: { projectId: 'p1', imageId: 'i1', metadata },
    });

    it('records the metadata with its keys sorted; the same metadata again changes nothing', () => {
      spec
        .given([uploaded])
        .when({ type: 'SetImageMetadata', project: classification, metadata: { shift: 'night', camera: 'north' } })
        .then([set({ camera: 'north', shift: 'night' })]);
      spec
        .given([uploaded, set({ camera: 'north' })])
        .when({ type: 'SetImageMetadata', project: classification, metadata: { camera: 'north' } })
        .thenNothingHappens();
      spec
        .given([uploaded, set({ camera: 'north' })])
        .when({ type: 'SetImageMetadata', project: classification, metadata: {} })
        .then([set({})]);
    });

    it('refuses more than 10 entries, bad keys and bad values', () => {
      const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, index) => [`k${index}`, 'v']));
      spec
        .given([uploaded])
        .when({ type: 'SetImageMetadata', project: classification, metadata: eleven })
        .thenThrows('METADATA_TOO_MANY_ENTRIES');
      spec
        .given([uploaded])
        .when({ type: 'SetImageMetadata', project: classification, metadata: { 'a=b': 'v' } })
        .thenThrows('METADATA_KEY_INVALID');
      spec
        .given([uploaded])
        .when({ type: 'SetImageMetadata', project: classification, metadata: { ['k'.repeat(129)]: 'v' } })
        .thenThrows('METADATA_KEY_INVALID');
      spec
        .given([uploaded])
        .when({ type: 'SetImageMetadata', project: classification, metadata: { k: 'v'.repeat(257) } })
        .thenThrows('METADATA_VALUE_INVALID');
      spec
        .given([uploaded])
        .when({
          type: 'SetImageMetadata',
          project: classification,
          metadata: { k: 3 } as unknown as Record<string, string>,
        })
        .thenThrows('METADATA_VALUE_INVALID');
    });

    it('refuses metadata on a removed image', () => {
      const removed: ImageEvent = {
        type: 'ImageRemoved',
        v: 1,
        data: { projectId: 'p1', imageId: 'i1', sha256: file.sha256 },
      };
      spec
        .given([uploaded, removed])
        .when({ type: 'SetImageMetadata', project: classification, metadata: { k: 'v' } })
        .thenThrows('IMAGE_NOT_FOUND');
    });
  });
});
