import { describe, expect, it } from 'vitest';
import { isDomainError } from '../domain/domain-error.js';
import { assertJsonShape, type JsonShapeLimits } from './json-shape.js';

const limits: JsonShapeLimits = { maxDepth: 4, maxKeys: 6, maxKeysPerObject: 3 };

function codeOf(text: string): string | undefined {
  try {
    assertJsonShape(text, limits);
    return undefined;
  } catch (error) {
    if (isDomainError(error)) return error.code;
    throw error;
  }
}

describe('assertJsonShape', () => {
  it('accepts JSON within the limits', () => {
    expect(codeOf('{"a":[{"b":1,"c":[2]}],"d":{"e":"x"}}')).toBeUndefined();
  });

  it('refuses nesting deeper than the limit, objects and arrays alike, without recursing', () => {
    expect(codeOf('[[[[1]]]]')).toBeUndefined();
    expect(codeOf('[[[[[1]]]]]')).toBe('JSON_TOO_DEEP');
    expect(codeOf('{"a":{"b":{"c":{"d":{}}}}}')).toBe('JSON_TOO_DEEP');
    expect(codeOf('['.repeat(100_000))).toBe('JSON_TOO_DEEP');
  });

  it('ignores brackets, braces and colons inside strings, escaped quotes included', () => {
    expect(codeOf('{"a":"[[[[[[{{{{:::::","b":"\\"[[[[[[:::"}')).toBeUndefined();
  });

  it('refuses more keys than the limit in one object or in all', () => {
    expect(codeOf('{"a":1,"b":2,"c":3,"d":4}')).toBe('JSON_TOO_MANY_KEYS');
    expect(codeOf('[{"a":1,"b":2},{"a":1,"b":2},{"a":1,"b":2},{"a":1}]')).toBe('JSON_TOO_MANY_KEYS');
    expect(codeOf('[{"a":1,"b":2},{"a":1,"b":2},{"a":1,"b":2}]')).toBeUndefined();
  });

  it('counts the keys of an object apart from those of the objects inside it', () => {
    expect(codeOf('{"a":{"x":1,"y":2,"z":3},"b":1,"c":2}')).toBeUndefined();
  });
});
