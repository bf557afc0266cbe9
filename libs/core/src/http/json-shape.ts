import { DomainError } from '../domain/domain-error.js';

export interface JsonShapeLimits {
  /** Deepest nesting of objects and arrays. */
  maxDepth: number;
  /** Object keys in the whole document. */
  maxKeys: number;
  /** Keys of any one object (turning an object into a DTO costs more than linear time in its key count). */
  maxKeysPerObject: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
const COLON = 0x3a;

function tooDeep(limits: JsonShapeLimits): DomainError {
  return DomainError.validation(
    'JSON_TOO_DEEP',
    `The JSON body nests deeper than ${limits.maxDepth} levels of objects and arrays: flatten it.`,
    { maxDepth: limits.maxDepth },
  );
}

function tooManyKeys(limits: JsonShapeLimits, inOneObject: boolean): DomainError {
  return DomainError.validation(
    'JSON_TOO_MANY_KEYS',
    inOneObject
      ? `An object of the JSON body has more than ${limits.maxKeysPerObject} keys: send fewer fields.`
      : `The JSON body has more than ${limits.maxKeys} keys in all: send fewer fields or smaller batches.`,
    { maxKeys: limits.maxKeys, maxKeysPerObject: limits.maxKeysPerObject },
  );
}

/**
 * Refuses JSON text nested deeper than `maxDepth` or holding too many keys (in all, or in one object) before
 * anything parses, transforms or validates it: each of those recurses or spends time per key. One pass over
 * the characters, no recursion: outside strings, `{`/`[` open a level and every `:` ends a key of the
 * innermost object. Malformed text is left to JSON.parse to report.
 */
export function assertJsonShape(text: string, limits: JsonShapeLimits): void {
  // Keys so far of the object open at each level (arrays hold no keys).
  const keysAtLevel = new Int32Array(limits.maxDepth + 1);
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === BACKSLASH) index += 1;
      else if (char === QUOTE) inString = false;
    } else if (char === QUOTE) {
      inString = true;
    } else if (char === OPEN_OBJECT || char === OPEN_ARRAY) {
      depth += 1;
      if (depth > limits.maxDepth) throw tooDeep(limits);
      keysAtLevel[depth] = 0;
    } else if (char === CLOSE_OBJECT || char === CLOSE_ARRAY) {
      depth = Math.max(depth - 1, 0);
    } else if (char === COLON) {
      keys += 1;
      keysAtLevel[depth] += 1;
      if (keysAtLevel[depth] > limits.maxKeysPerObject) throw tooManyKeys(limits, true);
      if (keys > limits.maxKeys) throw tooManyKeys(limits, false);
    }
  }
}
