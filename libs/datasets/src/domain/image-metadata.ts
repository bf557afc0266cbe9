import { DomainError } from '@diyml/core/pure';
import { DatasetErrors } from './dataset-errors.js';

/** Key/value metadata on an image, with Azure Custom Vision's limits. */
export type ImageMetadata = Record<string, string>;

export const MAX_METADATA_ENTRIES = 10;
export const MAX_METADATA_KEY_LENGTH = 128;
export const MAX_METADATA_VALUE_LENGTH = 256;

/**
 * Checks metadata and returns it with its keys sorted (equal maps compare equal). Keys hold no `=` (the listing
 * filter is `key=value`) and no control characters.
 */
export function validateMetadata(metadata: unknown): ImageMetadata {
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw DomainError.validation(
      DatasetErrors.METADATA_INVALID,
      'metadata must be an object of string keys to string values.',
    );
  }
  const entries = Object.entries(metadata);
  if (entries.length > MAX_METADATA_ENTRIES) {
    throw DomainError.validation(
      DatasetErrors.METADATA_TOO_MANY_ENTRIES,
      `An image has at most ${MAX_METADATA_ENTRIES} metadata entries, not ${entries.length}: remove some.`,
      { max: MAX_METADATA_ENTRIES },
    );
  }
  for (const [key, value] of entries) {
    if (key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH || /[=\u0000-\u001f\u007f]/.test(key)) {
      throw DomainError.validation(
        DatasetErrors.METADATA_KEY_INVALID,
        `Metadata key "${key.slice(0, 40)}" must have 1 to ${MAX_METADATA_KEY_LENGTH} characters, without "=" or control characters.`,
        { key },
      );
    }
    if (typeof value !== 'string' || value.length > MAX_METADATA_VALUE_LENGTH) {
      throw DomainError.validation(
        DatasetErrors.METADATA_VALUE_INVALID,
        `The value of metadata key "${key}" must be a string of at most ${MAX_METADATA_VALUE_LENGTH} characters.`,
        { key },
      );
    }
  }
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) as ImageMetadata;
}

/** The entries a listing filter looks in: `key=value`. */
export function metadataEntries(metadata: ImageMetadata): string[] {
  return Object.entries(metadata).map(([key, value]) => `${key}=${value}`);
}
