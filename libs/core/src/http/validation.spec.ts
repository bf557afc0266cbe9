import { describe, expect, it } from 'vitest';
import type { ArgumentMetadata } from '@nestjs/common';
import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';
import { validationMessage } from '../domain/validation-message.js';
import { createValidationPipe, ValidationFailedError } from './validation.js';

class ColourQuery {
  @IsOptional()
  @IsIn(['red', 'green'])
  colour?: string;

  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  bright?: boolean;
}

const asQuery: ArgumentMetadata = { type: 'query', metatype: ColourQuery };

describe('the validation pipe on queries', () => {
  it('answers the same valid query the same way every time, each time with an instance of its own', async () => {
    const pipe = createValidationPipe();
    const first = (await pipe.transform({ colour: 'red', bright: 'true' }, asQuery)) as ColourQuery;
    const second = (await pipe.transform({ colour: 'red', bright: 'true' }, asQuery)) as ColourQuery;
    expect(first).toBeInstanceOf(ColourQuery);
    expect(second).toBeInstanceOf(ColourQuery);
    expect(second).toEqual({ colour: 'red', bright: true });
    second.colour = 'green';
    const third = (await pipe.transform({ colour: 'red', bright: 'true' }, asQuery)) as ColourQuery;
    expect(third).toEqual({ colour: 'red', bright: true });
  });

  it('refuses an invalid query every time with the same 400, also after valid ones', async () => {
    const pipe = createValidationPipe();
    await pipe.transform({ colour: 'red' }, asQuery);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const refused = await pipe.transform({ colour: 'blue', extra: '1' }, asQuery).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ValidationFailedError);
      expect((refused as ValidationFailedError).details).toEqual([
        { field: 'extra', errors: ['extra is not a field of this request, which takes: bright, colour'] },
        { field: 'colour', errors: ['colour must be one of the following values: red, green'] },
      ]);
    }
  });
});

class PageQuery {
  @IsOptional()
  @Type(() => Number)
  @IsNumber()
  @Max(1)
  threshold?: number;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  page!: number;

  @IsOptional()
  @IsIn(['', 'red'])
  colour?: string;
}

const asPageQuery: ArgumentMetadata = { type: 'query', metatype: PageQuery };

describe('numbers in a query sent with no value', () => {
  it('reads an empty or blank optional number as not given, so its default applies (not 0)', async () => {
    const pipe = createValidationPipe();
    for (const threshold of ['', ' ']) {
      const query = (await pipe.transform({ threshold, page: '2' }, asPageQuery)) as PageQuery;
      expect(query).toEqual({ page: 2 });
    }
  });

  it('refuses an empty required number, naming it', async () => {
    const refused = await createValidationPipe()
      .transform({ page: '' }, asPageQuery)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ValidationFailedError);
    expect((refused as ValidationFailedError).details).toEqual([
      expect.objectContaining({ field: 'page', errors: expect.arrayContaining(['page must be an integer number']) }),
    ]);
  });

  it('keeps an empty text value: only numbers lose theirs', async () => {
    const query = (await createValidationPipe().transform({ page: '1', colour: '' }, asPageQuery)) as PageQuery;
    expect(query).toEqual({ page: 1, colour: '' });
  });
});

describe('the VALIDATION_FAILED message', () => {
  it('says how many fields to fix, then each problem as a sentence of its own', async () => {
    const refused = (await createValidationPipe()
      .transform({ colour: 'blue', extra: '1' }, asQuery)
      .catch((error: unknown) => error)) as ValidationFailedError;
    expect(refused.message).toBe(
      'The request has 2 invalid fields. extra is not a field of this request, which takes: bright, colour. ' +
        'colour must be one of the following values: red, green.',
    );
  });

  it('says how many problems are not listed', () => {
    const listed = [{ field: 'name', errors: ['name must be a string', 'name should not be empty.'] }];
    expect(validationMessage(listed, 3)).toBe(
      'The request has 3 invalid fields (the first 1 below, and 2 more). name must be a string. name should not be empty.',
    );
    expect(validationMessage(listed, 1)).toBe(
      'The request has 1 invalid field. name must be a string. name should not be empty.',
    );
  });
});
