import { describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { USER_EVENT_TYPES } from '@diyml/identity/pure';
import { IMPORT_RUN_EVENT_TYPES } from '../../domain/import-run.events.js';
import { NEWEST_EVENT_VERSIONS, unreadableEvents } from './known-events.js';

const FIXTURES = new URL('../../../../../test/fixtures/events/current/', import.meta.url);
/** Accounts, and the status of background imports (their own streams, never in a project or its archive). */
const NOT_PROJECT_EVENTS = new Set<string>([...USER_EVENT_TYPES, 'UsernameClaimed', ...IMPORT_RUN_EVENT_TYPES]);

describe('the project event types and versions an import reads', () => {
  it('include every event type and version the API writes (the event fixtures), at their newest version', () => {
    const written = readdirSync(FIXTURES)
      .map((file) => /^(\w+)\.v(\d+)\.json$/.exec(file))
      .filter((match): match is RegExpExecArray => match !== null && !NOT_PROJECT_EVENTS.has(match[1]))
      .map(([, type, v]) => ({ type, v: Number(v) }));
    expect(written.length).toBeGreaterThan(30);
    expect(unreadableEvents(written)).toEqual([]);
    expect(written.filter(({ type, v }) => NEWEST_EVENT_VERSIONS.get(type) !== v)).toEqual([]);
  });

  it('names the unknown types and the versions newer than the newest, once each', () => {
    expect(
      unreadableEvents([
        { type: 'ImageUploaded', v: 1 },
        { type: 'ImageUploaded', v: 2 },
        { type: 'ImageUploaded', v: 3 },
        { type: 'ImageUploaded', v: 3 },
        { type: 'LabelAdded', v: 2 },
        { type: 'ImageGeotagged', v: 1 },
      ]),
    ).toEqual(['ImageGeotagged@1', 'ImageUploaded@3', 'LabelAdded@2']);
  });
});
