import { describe, expect, it } from 'vitest';
import { resolveLabel } from './label-reference.js';

const cafe = { id: '7d3c7a36-7d0e-4a53-9d54-0f6f7c1a2b01', name: 'Caf\u00e9' };

describe('label references', () => {
  it('finds a label by its name whatever its case or Unicode form (a folder name read on a Mac is decomposed)', () => {
    expect(resolveLabel([cafe], 'cafe\u0301')).toBe(cafe);
    expect(resolveLabel([cafe], 'CAF\u00c9')).toBe(cafe);
  });
});
