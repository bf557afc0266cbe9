import { describe, expect, it } from 'vitest';
import type { ArgumentMetadata } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
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
