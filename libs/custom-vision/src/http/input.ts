import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';

// Decorators for the fields of Custom Vision's requests: each documents the field as Microsoft's Training and
// Prediction API v3.3 define it and validates it, so the global validation pipe refuses what Azure would (the
// Custom Vision filter puts the refusal in Azure's {code, message}).

interface FieldOptions {
  description: string;
  required?: boolean;
  /** Azure's x-nullable: null is sent for "none". */
  nullable?: boolean;
}

function presence(required: boolean | undefined): PropertyDecorator {
  return required ? IsDefined({ message: '$property is required' }) : IsOptional();
}

/** Query values arrive as strings; `true`/`false` become booleans, anything else stays to be refused. */
const toBoolean = ({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value);

/** A list of ids: comma-separated (the SDKs' csv) or repeated, lower-cased; empty parts dropped. */
const toIdList = ({ value }: { value: unknown }) => {
  if (value === undefined || value === null) return value;
  const parts = Array.isArray(value) ? value : [value];
  if (!parts.every((part) => typeof part === 'string')) return value;
  return (parts as string[])
    .flatMap((part) => part.split(','))
    .map((part) => part.trim().toLowerCase())
    .filter(Boolean);
};

/** A UUID, as a query parameter or a JSON field; lower-cased, as ids are kept. */
export function CvUuid(options: FieldOptions): PropertyDecorator {
  const Property = options.required ? ApiProperty : ApiPropertyOptional;
  return applyDecorators(
    Property({
      type: String,
      format: 'uuid',
      description: options.description,
      ...(options.nullable ? { nullable: true } : {}),
    }),
    presence(options.required),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value)),
    IsUUID('all', { message: '$property must be a UUID' }),
  );
}

/** A list of UUIDs of at most `max` (Azure's limit for that list): csv in a query, an array in JSON. */
export function CvUuidList(options: FieldOptions & { max?: number }): PropertyDecorator {
  const Property = options.required ? ApiProperty : ApiPropertyOptional;
  return applyDecorators(
    Property({
      type: 'array',
      items: { type: 'string', format: 'uuid' },
      ...(options.max === undefined ? {} : { maxItems: options.max }),
      description: options.description,
    }),
    presence(options.required),
    Transform(toIdList),
    IsArray({ message: '$property must be a list of UUIDs' }),
    IsUUID('all', { each: true, message: '$property must be UUIDs' }),
    ...(options.max === undefined
      ? []
      : [ArrayMaxSize(options.max, { message: `$property names at most ${options.max}` })]),
  );
}

/** A string query parameter or JSON field, of at most `maxLength` characters. */
export function CvString(
  options: FieldOptions & { maxLength?: number; example?: string; format?: string },
): PropertyDecorator {
  const Property = options.required ? ApiProperty : ApiPropertyOptional;
  return applyDecorators(
    Property({
      type: String,
      description: options.description,
      ...(options.nullable ? { nullable: true } : {}),
      ...(options.format === undefined ? {} : { format: options.format }),
      ...(options.maxLength === undefined ? {} : { maxLength: options.maxLength }),
      ...(options.example === undefined ? {} : { example: options.example }),
    }),
    presence(options.required),
    IsString({ message: '$property must be a string' }),
    // Azure answers BadRequestRequiredParamIsNull for an empty required string as for a missing one.
    ...(options.required ? [Matches(/\S/, { message: '$property is required' })] : []),
    ...(options.maxLength === undefined ? [] : [MaxLength(options.maxLength)]),
  );
}

/** One of Azure's values; `accepted` narrows what this server takes (the others are refused with what to use). */
export function CvEnum(
  values: readonly string[],
  options: FieldOptions & { accepted?: readonly string[]; default?: string },
): PropertyDecorator {
  const Property = options.required ? ApiProperty : ApiPropertyOptional;
  const accepted = options.accepted ?? values;
  return applyDecorators(
    Property({
      type: String,
      enum: [...values],
      description: options.description,
      ...(options.nullable ? { nullable: true } : {}),
      ...(options.default === undefined ? {} : { default: options.default }),
    }),
    presence(options.required),
    IsIn([...accepted], { message: `$property must be ${accepted.join(' or ')}` }),
  );
}

/** A boolean query parameter (`true` or `false`). */
export function CvBoolean(options: FieldOptions & { default?: boolean }): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: Boolean,
      description: options.description,
      ...(options.default === undefined ? {} : { default: options.default }),
    }),
    IsOptional(),
    Transform(toBoolean),
    IsBoolean({ message: '$property must be true or false' }),
  );
}

/** An int32 query parameter or JSON field, from `min` to `max`. */
export function CvInteger(options: FieldOptions & { min?: number; max?: number; default?: number }): PropertyDecorator {
  const Property = options.required ? ApiProperty : ApiPropertyOptional;
  const min = options.min ?? 0;
  const max = options.max ?? 2 ** 31 - 1;
  return applyDecorators(
    Property({
      type: 'integer',
      format: 'int32',
      minimum: min,
      maximum: max,
      description: options.description,
      ...(options.default === undefined ? {} : { default: options.default }),
    }),
    presence(options.required),
    Type(() => Number),
    IsInt({ message: '$property must be a whole number' }),
    Min(min),
    Max(max),
  );
}

/** A number query parameter or JSON field, from `min` to `max` when given (probabilities and overlaps: 0 to 1). */
export function CvNumber(options: FieldOptions & { min?: number; max?: number; default?: number }): PropertyDecorator {
  const Property = options.required ? ApiProperty : ApiPropertyOptional;
  return applyDecorators(
    Property({
      type: 'number',
      format: 'float',
      ...(options.min === undefined ? {} : { minimum: options.min }),
      ...(options.max === undefined ? {} : { maximum: options.max }),
      description: options.description,
      ...(options.default === undefined ? {} : { default: options.default }),
    }),
    presence(options.required),
    Type(() => Number),
    IsNumber({ allowNaN: false, allowInfinity: false }, { message: '$property must be a number' }),
    ...(options.min === undefined ? [] : [Min(options.min)]),
    ...(options.max === undefined ? [] : [Max(options.max)]),
  );
}

/**
 * A read-only field of an Azure model sent back in a request body (the C# SDK sends the whole model it read):
 * documented as read-only, accepted whatever its value, and ignored.
 */
export function CvReadOnly(schema: Record<string, unknown> & { description?: string }): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ ...schema, readOnly: true }), Allow());
}

/** A csv list (or array) of Azure's values, e.g. targetExportPlatforms. */
export function CvEnumList(values: readonly string[], options: FieldOptions): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: 'array',
      items: { type: 'string', enum: [...values] },
      description: options.description,
    }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) =>
      typeof value === 'string' ? value.split(',').map((part) => part.trim()) : value,
    ),
    IsArray({ message: '$property must be a list' }),
    IsIn([...values], { each: true, message: `$property must name ${values.join(', ')}` }),
  );
}

/** Azure's enumerations (Training and Prediction API v3.3). */
export const AZURE_EXPORT_PLATFORMS = ['CoreML', 'TensorFlow', 'DockerFile', 'ONNX', 'VAIDK'] as const;
export const AZURE_EXPORT_FLAVORS = [
  'Linux',
  'Windows',
  'ONNX10',
  'ONNX12',
  'ARM',
  'TensorFlowNormal',
  'TensorFlowLite',
] as const;
export const AZURE_CLASSIFICATION_TYPES = ['Multiclass', 'Multilabel'] as const;
export const AZURE_TAG_TYPES = ['Regular', 'Negative', 'GeneralProduct'] as const;
export const AZURE_TRAINING_TYPES = ['Regular', 'Advanced'] as const;
export const AZURE_PROJECT_STATUSES = ['Succeeded', 'Importing', 'Failed'] as const;
export const AZURE_IMAGE_ORDER = ['Newest', 'Oldest'] as const;
export const AZURE_TAGGING_STATUSES = ['All', 'Tagged', 'Untagged'] as const;
