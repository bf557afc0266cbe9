import { describe, expect, it } from 'vitest';
import { beyondRetention } from './retention.js';

const now = new Date('2026-06-10T12:00:00.000Z');
const stored = [
  '2026-06-01T00:00:00.000Z',
  '2026-06-08T00:00:00.000Z',
  '2026-06-09T00:00:00.000Z',
  '2026-06-10T11:00:00.000Z',
].map((storedAt, index) => ({ id: `s${index}`, storedAt }));
const ids = (items: { id: string }[]) => items.map((item) => item.id);

describe('retention limits', () => {
  it('drop the oldest beyond the count, those older than the age, both, or nothing', () => {
    expect(ids(beyondRetention(stored, { maxCount: 2, maxAgeDays: null }, now))).toEqual(['s0', 's1']);
    expect(ids(beyondRetention(stored, { maxCount: null, maxAgeDays: 2 }, now))).toEqual(['s0', 's1']);
    expect(ids(beyondRetention(stored, { maxCount: 3, maxAgeDays: 7 }, now))).toEqual(['s0']);
    expect(ids(beyondRetention(stored, { maxCount: 1, maxAgeDays: 7 }, now))).toEqual(['s0', 's1', 's2']);
    expect(beyondRetention(stored, { maxCount: null, maxAgeDays: null }, now)).toEqual([]);
    expect(beyondRetention(stored, { maxCount: 10, maxAgeDays: 30 }, now)).toEqual([]);
  });
});
