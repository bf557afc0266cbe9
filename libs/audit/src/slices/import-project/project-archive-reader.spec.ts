import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsBlobStore, sha256Of } from '@diyml/blobs/pure';
import { ZipArchive } from '@diyml/core/pure';
import { DomainError } from '@diyml/core/pure';
import { readBlobs, readProjectArchive } from './project-archive-reader.js';

const PROJECT = '11111111-1111-4111-8111-111111111111';
const IMAGE = '44444444-4444-4444-8444-444444444444';
const image = new Uint8Array([1, 2, 3]);
const IMAGE_SHA = sha256Of(image);
const at = '2026-11-30T10:00:00.000Z';

const encode = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const events = [
  {
    stream: `project-${PROJECT}`,
    type: 'ProjectCreated',
    v: 1,
    data: { projectId: PROJECT, name: 'p', trainingConfig: { epochs: 10, augmentation: { horizontalFlip: true } } },
    at,
  },
  {
    stream: `image-${IMAGE}`,
    type: 'ImageUploaded',
    v: 1,
    data: { projectId: PROJECT, imageId: IMAGE, sha256: IMAGE_SHA },
    at,
  },
];
const manifest = {
  format: 'diyml-project',
  version: 1,
  exportedAt: at,
  project: { id: PROJECT, name: 'p', type: 'classification' },
  summary: {},
  events: events.length,
  blobs: [IMAGE_SHA],
  missingBlobs: [],
};

const LIMITS = { maxTotalBytes: 1e8, maxEntryBytes: 1e8, maxEntries: 100, maxRatio: 200 };

function entries(
  overrides: { manifest?: unknown; events?: unknown[]; blobs?: Record<string, Uint8Array> } = {},
): Uint8Array {
  const lines = (overrides.events ?? events).map((event) => JSON.stringify(event)).join('\n');
  return zipSync({
    'diyml-project.json': encode(overrides.manifest ?? manifest),
    'events/000001.jsonl': encode(`${lines}\n`),
    ...(overrides.blobs ?? { [`blobs/${IMAGE_SHA}`]: image }),
  });
}

/**
 * What an import reads from the zip: the checked manifest and events, then the blobs they need, streamed into a
 * blob store; `blobs` holds what was taken, `store` what was stored.
 */
async function readArchive(bytes: Uint8Array) {
  const zip = await ZipArchive.open(bytes, LIMITS);
  const store = new FsBlobStore({ directory: mkdtempSync(join(tmpdir(), 'diyml-reader-')), fsync: false });
  try {
    const archive = await readProjectArchive(zip);
    const blobs = new Map<string, Uint8Array>();
    await readBlobs(zip, archive.requiredBlobs, {
      whole: async (sha256, blob) => {
        await store.put(blob);
        blobs.set(sha256, new Uint8Array(blob));
      },
      streamed: async (sha256, content) => {
        await store.putStream(content, { sha256 });
        blobs.set(sha256, new Uint8Array(await store.get(sha256)));
      },
    });
    return { ...archive, blobs, store };
  } finally {
    await zip.close();
  }
}

async function refusal(read: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await read();
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    return { code: (error as DomainError).code, message: (error as DomainError).message };
  }
  throw new Error('expected a refusal');
}

describe('readProjectArchive', () => {
  it('reads a whole archive: its manifest, events in order and blobs by hash', async () => {
    const archive = await readArchive(entries());
    expect(archive.events.map((event) => event.type)).toEqual(['ProjectCreated', 'ImageUploaded']);
    expect(archive.blobs.get(IMAGE_SHA)).toEqual(image);
  });

  it("reads the events of the project's embedding tables, whose streams end in a short hash of their space", async () => {
    const table = {
      stream: `embedding-cache-${PROJECT}-f489bf765e84b6ed`,
      type: 'EmbeddingTableUpdated',
      v: 1,
      data: {
        projectId: PROJECT,
        space: { backbone: 'mobilenet-v2', layer: 'pool', preprocessing: 'rgb-224' },
        tableSha256: IMAGE_SHA,
        imageCount: 1,
        computed: 1,
        updatedAt: at,
      },
      at,
    };
    const archive = await readArchive(entries({ manifest: { ...manifest, events: 3 }, events: [...events, table] }));
    expect(archive.events.map((event) => event.stream)).toEqual([events[0].stream, events[1].stream, table.stream]);
  });

  it('refuses a blob whose bytes are not those its name says, streamed or whole (JSON), storing neither', async () => {
    const altered = new Uint8Array([1, 2, 4]);
    const json = encode({ a: 1 });
    for (const bytes of [altered, json]) {
      const zip = await ZipArchive.open(entries({ blobs: { [`blobs/${IMAGE_SHA}`]: bytes } }), LIMITS);
      const store = new FsBlobStore({ directory: mkdtempSync(join(tmpdir(), 'diyml-reader-')), fsync: false });
      const archive = await readProjectArchive(zip);
      const reading = readBlobs(zip, archive.requiredBlobs, {
        whole: async (_sha256, blob) => void (await store.put(blob)),
        streamed: async (sha256, content) => void (await store.putStream(content, { sha256 })),
      });
      await expect(reading).rejects.toMatchObject({
        code: 'CORRUPT_PROJECT_ARCHIVE',
        details: { path: `blobs/${IMAGE_SHA}` },
      });
      expect([await store.has(sha256Of(bytes)), await store.has(IMAGE_SHA)]).toEqual([false, false]);
      await zip.close();
    }
  });

  it('refuses a zip that is not a project export, or of a version it does not read', async () => {
    expect((await refusal(() => readArchive(zipSync({ 'model.json': encode({}) })))).code).toBe(
      'NOT_A_PROJECT_ARCHIVE',
    );
    expect((await refusal(() => readArchive(entries({ manifest: { ...manifest, version: 9 } })))).code).toBe(
      'UNSUPPORTED_PROJECT_ARCHIVE_VERSION',
    );
  });

  it('refuses a manifest without an export time, which the imported events would carry', async () => {
    for (const exportedAt of [undefined, 42, 'yesterday', '2026-13-45T00:00:00Z']) {
      const refused = await refusal(() => readArchive(entries({ manifest: { ...manifest, exportedAt } })));
      expect([refused.code, refused.message]).toEqual([
        'CORRUPT_PROJECT_ARCHIVE',
        expect.stringContaining('exportedAt, an ISO 8601 time'),
      ]);
    }
    expect((await readArchive(entries())).manifest.exportedAt).toBe(at);
  });

  it('refuses events of another project, in a user stream, miscounted, or after a deletion', async () => {
    const other = { ...events[1], data: { ...events[1].data, projectId: '77777777-7777-4777-8777-777777777777' } };
    expect((await refusal(() => readArchive(entries({ events: [events[0], other] })))).message).toContain(
      'of another project',
    );
    const user = { ...events[1], stream: `user-${IMAGE}` };
    expect((await refusal(() => readArchive(entries({ events: [events[0], user] })))).message).toContain(
      'not an event a project can have',
    );
    const token = { ...events[1], type: 'ApiTokenIssued' };
    expect((await refusal(() => readArchive(entries({ events: [events[0], token] })))).message).toContain(
      'not an event a project can have',
    );
    expect((await refusal(() => readArchive(entries({ events: [events[0]] })))).message).toContain(
      'its manifest counts 2',
    );
    const deleted = { ...events[0], type: 'ProjectDeleted' };
    expect(
      (
        await refusal(() =>
          readArchive(entries({ manifest: { ...manifest, events: 3 }, events: [...events, deleted] })),
        )
      ).message,
    ).toContain('deleted');
  });

  it('refuses a project creation or configuration without its training configuration, which the projections read', async () => {
    const { trainingConfig: _config, ...bare } = events[0].data;
    expect(await refusal(() => readArchive(entries({ events: [{ ...events[0], data: bare }, events[1]] })))).toEqual({
      code: 'CORRUPT_PROJECT_ARCHIVE',
      message: expect.stringContaining('event 1 (ProjectCreated) has no training configuration'),
    });
    const configured = {
      stream: `project-${PROJECT}`,
      type: 'TrainingConfigured',
      v: 1,
      data: { projectId: PROJECT, trainingConfig: { epochs: 3 } },
      at,
    };
    const threeEvents = { manifest: { ...manifest, events: 3 }, events: [...events, configured] };
    expect((await refusal(() => readArchive(entries(threeEvents)))).message).toContain(
      'event 3 (TrainingConfigured) has no training configuration',
    );
  });

  it('refuses, with 422 and the events named, an archive from a newer installation: an unknown type or a newer version', async () => {
    const newer = { ...events[1], v: 3, data: { renamedField: true } };
    const unknown = { ...events[1], type: 'ImageGeotagged', data: { projectId: PROJECT, imageId: IMAGE, latitude: 1 } };
    const read = () =>
      readArchive(entries({ manifest: { ...manifest, events: 3 }, events: [events[0], newer, unknown] }));
    const refused = await refusal(read);
    expect(refused.code).toBe('UNKNOWN_EVENT_VERSIONS');
    expect(refused.message).toContain('ImageGeotagged@1, ImageUploaded@3');
    const error = await read().catch((caught: DomainError) => caught);
    expect([(error as DomainError).kind, (error as DomainError).details]).toEqual([
      'unprocessable',
      { unknownEvents: ['ImageGeotagged@1', 'ImageUploaded@3'] },
    ]);
  });

  it('refuses a blob that does not hash to its name, and a referenced blob that is missing', async () => {
    expect(
      (await refusal(() => readArchive(entries({ blobs: { [`blobs/${IMAGE_SHA}`]: new Uint8Array([9]) } })))).code,
    ).toBe('CORRUPT_PROJECT_ARCHIVE');
    expect((await refusal(() => readArchive(entries({ blobs: {} })))).code).toBe('INCOMPLETE_PROJECT_ARCHIVE');
    // Even one the exporting installation had lost: an event must not reach bytes the importer did not bring.
    expect(
      (
        await refusal(() =>
          readArchive(entries({ manifest: { ...manifest, blobs: [], missingBlobs: [IMAGE_SHA] }, blobs: {} })),
        )
      ).code,
    ).toBe('INCOMPLETE_PROJECT_ARCHIVE');
  });

  it('needs no image of a stored prediction that was deleted (its bytes are erased), but one a dataset image shares', async () => {
    const PREDICTION = '55555555-5555-4555-8555-555555555555';
    const erasedSha = sha256Of(new Uint8Array([7, 7]));
    const prediction = (sha: string) => [
      {
        stream: `stored-prediction-${PREDICTION}`,
        type: 'PredictionStored',
        v: 1,
        data: { projectId: PROJECT, predictionId: PREDICTION, imageSha256: sha },
        at,
      },
      {
        stream: `stored-prediction-${PREDICTION}`,
        type: 'StoredPredictionDeleted',
        v: 1,
        data: { projectId: PROJECT, predictionId: PREDICTION, imageSha256: sha },
        at,
      },
    ];
    const withErased = [...events, ...prediction(erasedSha)];
    const read = await readArchive(
      entries({ events: withErased, manifest: { ...manifest, events: withErased.length } }),
    );
    expect([...read.blobs.keys()]).toEqual([IMAGE_SHA]);
    // The same bytes as a dataset image: the image still needs them.
    const shared = [...events, ...prediction(IMAGE_SHA)];
    expect(
      (
        await refusal(() =>
          readArchive(entries({ events: shared, manifest: { ...manifest, events: shared.length }, blobs: {} })),
        )
      ).code,
    ).toBe('INCOMPLETE_PROJECT_ARCHIVE');
  });
});
