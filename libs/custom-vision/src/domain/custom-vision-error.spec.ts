import { describe, expect, it } from 'vitest';
import { codeOfInvalidField } from './custom-vision-error.js';

describe("the Custom Vision code of a refused request field (Azure's code for that field)", () => {
  it('answers a missing required field BadRequestRequiredParamIsNull, wherever it is', () => {
    expect(codeOfInvalidField('name', 'missing')).toBe('BadRequestRequiredParamIsNull');
    expect(codeOfInvalidField('images.1.url', 'missing')).toBe('BadRequestRequiredParamIsNull');
  });

  it('answers the images of a batch BadRequestImageBatch, but an entry’s ids, url and regions by their own codes', () => {
    expect(codeOfInvalidField('images', 'too-many')).toBe('BadRequestImageBatch');
    expect(codeOfInvalidField('images.3.contents', 'invalid')).toBe('BadRequestImageBatch');
    expect(codeOfInvalidField('images.3.tagIds', 'invalid')).toBe('BadRequestInvalidIds');
    expect(codeOfInvalidField('images.3.url', 'invalid')).toBe('BadRequestImageUrl');
    expect(codeOfInvalidField('images.3.regions.0.left', 'invalid')).toBe('BadRequestImageRegions');
  });

  it('answers a list over its limit BadRequestExceededBatchSize, and ids that are not UUIDs BadRequestInvalidIds', () => {
    expect(codeOfInvalidField('imageIds', 'too-many')).toBe('BadRequestExceededBatchSize');
    expect(codeOfInvalidField('regions', 'invalid')).toBe('BadRequestExceededBatchSize');
    expect(codeOfInvalidField('imageIds', 'invalid')).toBe('BadRequestInvalidIds');
    expect(codeOfInvalidField('tags.0.tagId', 'invalid')).toBe('BadRequestInvalidIds');
    expect(codeOfInvalidField('domainId', 'invalid')).toBe('BadRequestInvalidIds');
  });

  it('answers fields Azure has a code for with it, and the others BadRequest', () => {
    expect(codeOfInvalidField('platform', 'invalid')).toBe('BadRequestProjectUnsupportedExportPlatform');
    expect(codeOfInvalidField('type', 'invalid')).toBe('BadRequestTagType');
    expect(codeOfInvalidField('take', 'invalid')).toBe('BadRequest');
  });
});
