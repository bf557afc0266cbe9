import { describe, expect, it } from 'vitest';
import { matchesMetadata, parseMetadataFilter } from './metadata-filter.js';

describe('Custom Vision metadata filter', () => {
  const north = { camera: 'north', shift: 'night' };
  const south = { camera: 'south', shift: "day's" };

  it('matches eq and ne, with and binding tighter than or', () => {
    const filter = parseMetadataFilter("camera eq 'north' and shift ne 'day' or camera eq 'west'");
    expect(matchesMetadata(north, filter)).toBe(true);
    expect(matchesMetadata(south, filter)).toBe(false);
    expect(matchesMetadata({ camera: 'west' }, filter)).toBe(true);
  });

  it("reads '' as a quote inside a value, and a missing key as not equal", () => {
    expect(matchesMetadata(south, parseMetadataFilter("shift eq 'day''s'"))).toBe(true);
    expect(matchesMetadata({}, parseMetadataFilter("camera ne 'north'"))).toBe(true);
    expect(matchesMetadata({}, parseMetadataFilter("camera eq 'north'"))).toBe(false);
  });

  it('refuses malformed expressions with BadRequestInvalid', () => {
    for (const expression of [
      '',
      "camera = 'north'",
      'camera eq north',
      "camera eq 'north' xor a eq 'b'",
      "camera eq 'north",
    ]) {
      expect(() => parseMetadataFilter(expression)).toThrow(
        expect.objectContaining({ code: 'BadRequestInvalid', status: 400 }),
      );
    }
  });
});
