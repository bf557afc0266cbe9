import { isUuid } from '@diyml/core/pure';
import { CustomVisionError } from '../domain/custom-vision-error.js';

/** Ids in a query parameter or field: comma-separated (as the SDKs send them) or repeated. */
export function uuidList(value: unknown, name: string): string[] {
  if (value === undefined || value === null || value === '') return [];
  const parts = (Array.isArray(value) ? value : [value])
    .flatMap((part) => String(part).split(','))
    .map((part) => part.trim())
    .filter(Boolean);
  for (const part of parts) {
    if (!isUuid(part))
      throw CustomVisionError.badRequest('BadRequestInvalidIds', `${name} must be UUIDs: ${part} is not one.`);
  }
  return parts.map((part) => part.toLowerCase());
}

export function optionalUuid(value: unknown, name: string): string | undefined {
  const ids = uuidList(value, name);
  if (ids.length > 1) throw CustomVisionError.badRequest('BadRequestInvalidIds', `${name} must be one UUID.`);
  return ids[0];
}

export function optionalNumber(value: unknown, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number < min || number > max) {
    throw CustomVisionError.badRequest('BadRequest', `${name} must be a number from ${min} to ${max}.`);
  }
  return number;
}

export function optionalBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'true' || value === true) return true;
  if (value === 'false' || value === false) return false;
  throw CustomVisionError.badRequest('BadRequest', `${name} must be true or false.`);
}

export function requiredString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw CustomVisionError.badRequest('BadRequestRequiredParamIsNull', `${name} is required.`);
  }
  return value.trim();
}

/** Where clients reach this server, for absolute URIs in answers. */
export function baseUrlOf(request: { protocol: string; get(name: string): string | undefined }): string {
  return `${request.protocol}://${request.get('host') ?? 'localhost'}`;
}
