import { describe, expect, it } from 'vitest';
import { sha256Of } from '@diyml/blobs/pure';
import type { ArchivedEvent } from '../export-project/project-archive.js';
import type { ProjectArchive } from './project-archive-reader.js';
import { appendBatches, ProjectRemap, type RemapOptions, type RemappedEvent } from './project-remap.js';

const PROJECT = '11111111-1111-4111-8111-111111111111';
const OWNER = '22222222-2222-4222-8222-222222222222';
const LABEL = '33333333-3333-4333-8333-333333333333';
const IMAGE = '44444444-4444-4444-8444-444444444444';
const ITERATION = '55555555-5555-4555-8555-555555555555';
const DEPLOYMENT = '66666666-6666-4666-8666-666666666666';
const IMPORTER = '99999999-9999-4999-8999-999999999999';
const IMAGE_SHA = 'a'.repeat(64);
const MODEL_SHA = 'b'.repeat(64);
const OLD_KEY_HASH = 'c'.repeat(64);

const at = '2026-11-30T10:00:00.000Z';
const event = (stream: string, type: string, data: Record<string, unknown>): ArchivedEvent => ({
  stream,
  type,
  v: 1,
  data: { projectId: PROJECT, ...data },
  at,
});

type ArchiveWithBlobs = Pick<ProjectArchive, 'manifest' | 'events'> & { blobs: Map<string, Uint8Array> };

/** The remap as the import runs it: every blob through `blob`, then the events. */
function remapProject(archive: ArchiveWithBlobs, options: RemapOptions) {
  const remap = new ProjectRemap(archive, options);
  const blobs = [...archive.blobs].map(([sha256, bytes]) => remap.blob(sha256, bytes));
  return { projectId: remap.projectId, ids: remap.ids, blobs, events: remap.events() };
}

function archiveOf(events: ArchivedEvent[], blobs: Uint8Array[]): ArchiveWithBlobs {
  return {
    manifest: {
      format: 'diyml-project',
      version: 1,
      exportedAt: at,
      project: { id: PROJECT, name: 'p', type: 'classification' },
      events: events.length,
      blobs: blobs.map(sha256Of),
      missingBlobs: [],
    },
    events,
    blobs: new Map(blobs.map((bytes) => [sha256Of(bytes), bytes])),
  };
}

describe('remapProject', () => {
  const manifestBytes = new TextEncoder().encode(
    JSON.stringify({
      v: 1,
      projectId: PROJECT,
      labels: [{ id: LABEL, name: 'cat' }],
      images: [{ id: IMAGE, sha256: IMAGE_SHA, labelId: LABEL }],
    }),
  );
  const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);
  const model = new Uint8Array([0x50, 0x4b, 0x03, 0x04]);
  const archive = archiveOf(
    [
      event(`project-${PROJECT}`, 'ProjectCreated', { ownerId: OWNER, name: 'p' }),
      event(`project-${PROJECT}`, 'LabelAdded', { labelId: LABEL, name: 'cat' }),
      event(`image-content-${PROJECT}-${IMAGE_SHA}`, 'ImageContentClaimed', { sha256: IMAGE_SHA, imageId: IMAGE }),
      event(`image-${IMAGE}`, 'ImageUploaded', {
        imageId: IMAGE,
        sha256: IMAGE_SHA,
        filename: `photo-${IMAGE}.png`,
        labelId: LABEL,
      }),
      event(`iteration-${ITERATION}`, 'IterationQueued', {
        iterationId: ITERATION,
        manifestSha256: sha256Of(manifestBytes),
        labels: [{ id: LABEL, name: 'cat' }],
      }),
      event(`iteration-${ITERATION}`, 'IterationCompleted', { iterationId: ITERATION, modelSha256: MODEL_SHA }),
      event(`deployment-${DEPLOYMENT}`, 'ModelDeployed', {
        deploymentId: DEPLOYMENT,
        iterationId: ITERATION,
        keyHash: OLD_KEY_HASH,
      }),
    ],
    [manifestBytes, image, model],
  );
  let counter = 0;
  const remapped = remapProject(archive, {
    newId: () => `00000000-0000-4000-8000-${String((counter += 1)).padStart(12, '0')}`,
    importerId: IMPORTER,
    unusableKeyHash: () => 'd'.repeat(64),
  });
  const text = JSON.stringify(remapped.events);

  it('gives every id a new one, the same wherever it occurs: streams, data, names that contain it', () => {
    for (const old of [PROJECT, LABEL, IMAGE, ITERATION, DEPLOYMENT]) expect(text).not.toContain(old);
    const newImage = remapped.ids.get(IMAGE)!;
    const uploaded = remapped.events.find((e) => e.type === 'ImageUploaded')!;
    expect(uploaded.stream).toBe(`image-${newImage}`);
    expect(uploaded.data).toMatchObject({
      projectId: remapped.projectId,
      imageId: newImage,
      labelId: remapped.ids.get(LABEL),
      filename: `photo-${newImage}.png`,
    });
    expect(remapped.events[2].stream).toBe(`image-content-${remapped.projectId}-${IMAGE_SHA}`);
    expect(new Set(remapped.ids.values()).size).toBe(remapped.ids.size);
  });

  it('makes the importer the owner and keeps content hashes of images and models', () => {
    expect(remapped.events[0].data.ownerId).toBe(IMPORTER);
    expect(remapped.ids.has(OWNER)).toBe(false);
    expect(remapped.events.find((e) => e.type === 'IterationCompleted')!.data.modelSha256).toBe(MODEL_SHA);
    expect(remapped.blobs).toContainEqual(image);
    expect(remapped.blobs).toContainEqual(model);
  });

  it('rewrites the dataset manifest with the new ids and points the iteration at its new hash', () => {
    const queued = remapped.events.find((e) => e.type === 'IterationQueued')!;
    const manifest = remapped.blobs.find((bytes) => sha256Of(bytes) === queued.data.manifestSha256)!;
    expect(JSON.parse(new TextDecoder().decode(manifest))).toEqual({
      v: 1,
      projectId: remapped.projectId,
      labels: [{ id: remapped.ids.get(LABEL), name: 'cat' }],
      images: [{ id: remapped.ids.get(IMAGE), sha256: IMAGE_SHA, labelId: remapped.ids.get(LABEL) }],
    });
  });

  it("keeps ids that name another installation's things (where an imported project came from)", () => {
    const elsewhere = '88888888-8888-4888-8888-888888888888';
    const again = remapProject(
      archiveOf(
        [...archive.events, event(`project-import-${PROJECT}`, 'ProjectImported', { sourceProjectId: elsewhere })],
        [manifestBytes, image, model],
      ),
      {
        newId: () => `00000000-0000-4000-8000-${String((counter += 1)).padStart(12, '0')}`,
        importerId: IMPORTER,
        unusableKeyHash: () => 'd'.repeat(64),
      },
    );
    expect(again.events.at(-1)).toMatchObject({
      stream: `project-import-${again.projectId}`,
      data: { projectId: again.projectId, sourceProjectId: elsewhere },
    });
  });

  it("keeps the image metadata users wrote, UUIDs of their own included, and points values naming the project's images at the copies", () => {
    const sample = '77777777-7777-4777-8777-777777777777';
    const reviewer = '12121212-1212-4212-8212-121212121212';
    const metadata = { sampleId: sample, reviewedBy: reviewer, sameAs: IMAGE, site: 'Ærø' };
    const again = remapProject(
      archiveOf(
        [...archive.events, event(`image-${IMAGE}`, 'ImageMetadataSet', { imageId: IMAGE, metadata })],
        [manifestBytes, image, model],
      ),
      {
        newId: () => `00000000-0000-4000-8000-${String((counter += 1)).padStart(12, '0')}`,
        importerId: IMPORTER,
        unusableKeyHash: () => 'd'.repeat(64),
      },
    );
    expect(again.events.at(-1)!.data.metadata).toEqual({
      sampleId: sample,
      reviewedBy: reviewer,
      sameAs: again.ids.get(IMAGE),
      site: 'Ærø',
    });
    expect(again.ids.has(sample)).toBe(false);
  });

  it('replaces deployment key hashes, so the exported key does not open the copy', () => {
    expect(text).not.toContain(OLD_KEY_HASH);
    expect(remapped.events.find((e) => e.type === 'ModelDeployed')!.data.keyHash).toBe('d'.repeat(64));
  });
});

describe('appendBatches', () => {
  const events: RemappedEvent[] = [
    { stream: 'project-p', type: 'ProjectCreated', v: 1, data: {}, at: 't1' },
    { stream: 'iteration-i', type: 'IterationQueued', v: 1, data: {}, at: 't2' },
    { stream: 'image-a', type: 'ImageUploaded', v: 1, data: {}, at: 't3' },
    { stream: 'iteration-i', type: 'IterationCompleted', v: 1, data: {}, at: 't4' },
    { stream: 'project-p', type: 'LabelRemoved', v: 1, data: {}, at: 't5' },
  ];

  it('keeps the log order one event at a time, but writes a stream a reactor starts work on whole, at its first place and time', () => {
    const batches = appendBatches(events, new Set(['IterationQueued']));
    expect(batches.map((batch) => [batch.stream, batch.events.map((e) => e.type), batch.at])).toEqual([
      ['project-p', ['ProjectCreated'], 't1'],
      ['iteration-i', ['IterationQueued', 'IterationCompleted'], 't2'],
      ['image-a', ['ImageUploaded'], 't3'],
      ['project-p', ['LabelRemoved'], 't5'],
    ]);
  });

  it("writes a cache stream that a job an imported event starts would fill whole, after the project's first event", () => {
    const withCache: RemappedEvent[] = [
      ...events,
      { stream: 'embedding-cache-p', type: 'EmbeddingTableUpdated', v: 1, data: {}, at: 't6' },
      { stream: 'image-b', type: 'ImageUploaded', v: 1, data: {}, at: 't7' },
      { stream: 'embedding-cache-p', type: 'EmbeddingTableUpdated', v: 1, data: {}, at: 't8' },
    ];
    const batches = appendBatches(withCache, new Set(['IterationQueued']), new Set(['EmbeddingTableUpdated']));
    expect(batches.map((batch) => [batch.stream, batch.events.map((e) => e.at), batch.at])).toEqual([
      ['project-p', ['t1'], 't1'],
      ['embedding-cache-p', ['t6', 't8'], 't6'],
      ['iteration-i', ['t2', 't4'], 't2'],
      ['image-a', ['t3'], 't3'],
      ['project-p', ['t5'], 't5'],
      ['image-b', ['t7'], 't7'],
    ]);
  });

  it('writes every event on its own when no reactor cares', () => {
    expect(appendBatches(events, new Set()).map((batch) => batch.events.length)).toEqual([1, 1, 1, 1, 1]);
  });
});
