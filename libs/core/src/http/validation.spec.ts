import { describe, expect, it } from '@jest/globals';
import type { ArgumentMetadata } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
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
        { field: 'extra', errors: ['property extra should not exist'] },
        { field: 'colour', errors: ['colour must be one of the following values: red, green'] },
      ]);
    }
  });
});
