import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { getMetadataStorage, validate } from 'class-validator';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { DomainError } from '../domain/domain-error.js';
import { type FieldError, unknownFieldMessage, validationMessage } from '../domain/validation-message.js';

/** Problems listed in a 400 VALIDATION_FAILED; the body gives their total count beside them. */
export const MAX_LISTED_PROBLEMS = 20;
/** Longest field name or message quoted back, so a body that names a huge key gets a small answer. */
const MAX_QUOTED_CHARACTERS = 200;

function clip(text: string): string {
  return text.length > MAX_QUOTED_CHARACTERS ? `${text.slice(0, MAX_QUOTED_CHARACTERS)}…` : text;
}

/**
 * The problems of a failed validation, depth first, without recursion: the first `max` in full, and the total.
 * Nested errors (`items.0.label`) are named by their path.
 */
export function collectProblems(
  errors: ValidationError[],
  max = MAX_LISTED_PROBLEMS,
): { listed: FieldError[]; total: number } {
  const listed: FieldError[] = [];
  let total = 0;
  const pending = errors.map((error) => ({ error, parent: '' })).reverse();
  while (pending.length > 0) {
    const { error, parent } = pending.pop()!;
    const field = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      total += 1;
      if (listed.length < max) listed.push({ field: clip(field), errors: messagesOf(error, field).map(clip) });
    }
    const children = error.children ?? [];
    for (let index = children.length - 1; index >= 0; index -= 1)
      pending.push({ error: children[index], parent: field });
  }
  return { listed, total };
}

/** class-validator's own messages, except that a field the DTO does not declare names the fields it does. */
function messagesOf(error: ValidationError, field: string): string[] {
  return Object.entries(error.constraints ?? {}).map(([constraint, message]) =>
    constraint === 'whitelistValidation' && typeof error.target === 'object' && error.target !== null
      ? unknownFieldMessage(field, declaredFields(error.target))
      : message,
  );
}

/** The fields a DTO instance's class declares validation rules for: those the whitelist lets through. */
function declaredFields(target: object): string[] {
  const rules = getMetadataStorage().getTargetValidationMetadatas(target.constructor, '', true, false);
  return [...new Set(rules.map((rule) => rule.propertyName))].sort();
}

/** 400 VALIDATION_FAILED: the first problems in `details`, and how many there are in all. */
export class ValidationFailedError extends DomainError {
  constructor(
    listed: FieldError[],
    readonly problemCount: number,
  ) {
    super('validation', 'VALIDATION_FAILED', validationMessage(listed, problemCount), listed);
  }
}

/** Valid queries remembered per DTO class, and the longest query (as JSON) that is remembered. */
const MAX_REMEMBERED_QUERIES = 500;
const MAX_REMEMBERED_QUERY_CHARACTERS = 2000;

/**
 * Remembers the query objects it found valid, per DTO class: clients ask the same few queries over and over (a
 * list polled by every open console), and class-transformer plus class-validator cost ~0.1 ms a time. The rules are
 * pure functions of the query's strings, so the same query is valid the same way; invalid ones are validated every
 * time, for the same 400.
 */
class QueryRememberingValidationPipe extends ValidationPipe {
  private readonly valid = new Map<unknown, Map<string, object>>();

  override async transform(given: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { type, metatype, data } = metadata;
    if (type !== 'query' || data !== undefined || !metatype || typeof given !== 'object' || given === null) {
      return super.transform(given, metadata);
    }
    const value = withoutEmptyNumbers(given as Record<string, unknown>, metatype);
    const key = JSON.stringify(value);
    if (key.length > MAX_REMEMBERED_QUERY_CHARACTERS) return super.transform(value, metadata);
    let remembered = this.valid.get(metatype);
    const known = remembered?.get(key);
    if (known) return copyOf(known);
    const instance = (await super.transform(value, metadata)) as object;
    if (!remembered) this.valid.set(metatype, (remembered = new Map()));
    if (remembered.size >= MAX_REMEMBERED_QUERIES) remembered.delete(remembered.keys().next().value!);
    remembered.set(key, copyOf(instance));
    return instance;
  }
}

/**
 * The query without the numbers sent with no value (`?threshold=`, as a cleared form field sends it): converted by
 * the DTO's `@Type(() => Number)`, an empty string would be 0 (`Number('') === 0`) and pass as a real threshold or
 * limit. Left out, the parameter is not given: its default applies, or a required one is refused naming it. A
 * parameter is a number when the DTO's own conversion makes a number of its value.
 */
function withoutEmptyNumbers(query: Record<string, unknown>, dto: ClassConstructor<object>): Record<string, unknown> {
  const isEmptyNumber = (name: string, value: unknown) =>
    typeof value === 'string' &&
    value.trim() === '' &&
    typeof (plainToInstance(dto, { [name]: value }) as Record<string, unknown>)[name] === 'number';
  if (!Object.entries(query).some(([name, value]) => isEmptyNumber(name, value))) return query;
  return Object.fromEntries(Object.entries(query).filter(([name, value]) => !isEmptyNumber(name, value)));
}

/** A copy each handler may change freely: same class, own arrays (query values are strings, numbers, arrays). */
function copyOf(instance: object): object {
  const copy = Object.create(Object.getPrototypeOf(instance) as object) as Record<string, unknown>;
  for (const [name, field] of Object.entries(instance)) copy[name] = Array.isArray(field) ? [...field] : field;
  return copy;
}

/**
 * Validation for every body, query and param: 400 VALIDATION_FAILED naming the first bad fields (at most
 * MAX_LISTED_PROBLEMS, with `problemCount` saying how many there are in all), so the answer stays small. A query's
 * numbers sent with no value are not given (see withoutEmptyNumbers); valid queries are remembered (see
 * QueryRememberingValidationPipe).
 */
export function createValidationPipe(): ValidationPipe {
  return new QueryRememberingValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    // The DTO instance an error was found in names the fields it declares; the answer never carries it.
    validationError: { target: true },
    exceptionFactory: (errors) => {
      const { listed, total } = collectProblems(errors);
      return new ValidationFailedError(listed, total);
    },
  });
}

/** Items transformed and validated per turn of the event loop (about a millisecond of work on this machine). */
const ITEMS_PER_TURN = 25;

/**
 * Validates the items of a large batch body a few at a time, yielding to the event loop between turns, so one
 * 1,000-item body (several hundred milliseconds of class-validator work) never holds every other request up.
 * Same rules and answer as the global pipe: 400 VALIDATION_FAILED naming `<field>.<index>.<property>`.
 */
export async function validateItemsInTurns<T extends object>(
  type: ClassConstructor<T>,
  items: readonly unknown[],
  field: string,
): Promise<T[]> {
  const valid: T[] = [];
  const failures: ValidationError[] = [];
  for (let start = 0; start < items.length; start += ITEMS_PER_TURN) {
    if (start > 0) await nextTurn();
    for (let index = start; index < Math.min(items.length, start + ITEMS_PER_TURN); index += 1) {
      const property = `${field}.${index}`;
      const item = items[index];
      if (typeof item !== 'object' || item === null || Array.isArray(item)) {
        failures.push({ property, constraints: { isObject: `${property} must be an object` }, children: [] });
        continue;
      }
      const instance = plainToInstance(type, item);
      const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
      if (errors.length > 0) failures.push({ property, children: errors });
      else valid.push(instance);
    }
  }
  if (failures.length > 0) {
    const { listed, total } = collectProblems(failures);
    throw new ValidationFailedError(listed, total);
  }
  return valid;
}
