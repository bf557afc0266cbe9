/**
 * An error in Custom Vision's terms: the status and `{code, message}` body Azure Custom Vision answers with.
 * Thrown by the translation layer itself; errors of the other contexts are translated by the filter.
 */
export class CustomVisionError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CustomVisionError';
  }

  static badRequest(code: string, message: string): CustomVisionError {
    return new CustomVisionError(400, code, message);
  }

  static notFound(code: string, message: string): CustomVisionError {
    return new CustomVisionError(404, code, message);
  }

  static unauthorized(message: string): CustomVisionError {
    return new CustomVisionError(401, 'Unauthorized', message);
  }
}

/** Our domain error codes → Custom Vision error codes (CustomVisionErrorCodes of the SDKs). */
export const CODE_BY_DOMAIN_CODE: Record<string, string> = {
  PROJECT_NOT_FOUND: 'NotFoundProject',
  ITERATION_NOT_FOUND: 'NotFoundIteration',
  ITERATION_NAME_INVALID: 'BadRequestIterationName',
  ITERATION_NAME_TAKEN: 'BadRequestIterationNameNotUnique',
  ITERATION_DEPLOYED: 'BadRequestIterationIsPublished',
  IMAGE_NOT_FOUND: 'NotFoundImage',
  LABEL_NOT_FOUND: 'NotFoundTag',
  DEPLOYMENT_NOT_FOUND: 'NotFound',
  DEPLOYMENT_NAME_TAKEN: 'BadRequestInvalidPublishName',
  LABEL_ALREADY_EXISTS: 'BadRequestTagNameNotUnique',
  LABEL_NAME_TAKEN: 'BadRequestTagNameNotUnique',
  UNKNOWN_LABEL: 'BadRequestImageTags',
  LABEL_NOT_IN_PROJECT: 'BadRequestImageTags',
  WRONG_PROJECT_TYPE: 'BadRequestNotSupported',
  REGION_OUT_OF_BOUNDS: 'BadRequestImageRegions',
  REGION_EMPTY: 'BadRequestImageRegions',
  TOO_MANY_REGIONS: 'BadRequestImageRegions',
  DATASET_NOT_READY: 'BadRequestTrainingValidationFailed',
  ITERATION_NOT_COMPLETED: 'BadRequestIterationIsNotTrained',
  NO_VALIDATION_DATA: 'NotFoundIterationPerformance',
  INVALID_IMAGE: 'BadRequestImageFormat',
  UNSUPPORTED_IMAGE: 'BadRequestImageFormat',
  // A picture in a format not taken (BMP, SVG): 415, with the message saying how to convert it.
  UNSUPPORTED_IMAGE_FORMAT: 'UnsupportedMediaType',
  CORRUPT_IMAGE: 'BadRequestImageFormat',
  EMPTY_FILE: 'BadRequestImageFormat',
  IMAGE_REQUIRED: 'BadRequestImageStream',
  NO_FILES: 'BadRequestImageBatch',
  IMAGE_TOO_LARGE: 'BadRequestImageSizeBytes',
  FILE_TOO_LARGE: 'BadRequestImageSizeBytes',
  REQUEST_TOO_LARGE: 'BadRequestImageSizeBytes',
  TOO_MANY_FILES: 'BadRequestImageExceededCount',
  IMAGE_QUOTA_EXCEEDED: 'BadRequestExceededQuota',
  PAYLOAD_TOO_LARGE: 'BadRequestImageSizeBytes',
  UNSUPPORTED_MEDIA_TYPE: 'UnsupportedMediaType',
  INVALID_API_KEY: 'Unauthorized',
  UNAUTHENTICATED: 'Unauthorized',
  VALIDATION_FAILED: 'BadRequest',
  INVALID_ID: 'BadRequestInvalidIds',
  MALFORMED_JSON: 'BadRequest',
  METADATA_INVALID: 'BadRequestImageMetadataKey',
  METADATA_TOO_MANY_ENTRIES: 'BadRequestImageMetadataKey',
  METADATA_KEY_INVALID: 'BadRequestImageMetadataKey',
  METADATA_VALUE_INVALID: 'BadRequestImageMetadataValue',
  URL_INVALID: 'BadRequestImageUrl',
  URL_ADDRESS_NOT_ALLOWED: 'BadRequestImageUrl',
  URL_TOO_MANY_REDIRECTS: 'BadRequestImageUrl',
  URL_FETCH_FAILED: 'BadRequestImageUrl',
  URL_TIMEOUT: 'BadRequestImageUrl',
  URL_NOT_AN_IMAGE: 'BadRequestImageUrl',
  URL_TOO_LARGE: 'BadRequestImageSizeBytes',
  NO_TRAINED_DETECTOR: 'NotFoundProjectDefaultIteration',
  NO_IMAGES_TO_SUGGEST: 'BadRequest',
  NEGATIVE_LABEL_EXISTS: 'BadRequestMultipleNegativeTag',
  NEGATIVE_AND_REGULAR_LABEL: 'BadRequestNegativeAndRegularTagOnSameImage',
  NEGATIVE_LABEL_NOT_FOR_DETECTION: 'BadRequestDetectionTrainingNotAllowNegativeTag',
  PROJECT_TYPE_CHANGE_NOT_SUPPORTED: 'BadRequestProjectUnsupportedDomainTypeChange',
  // Azure's refusal of a Multiclass project whose images have several tags.
  IMAGES_HAVE_SEVERAL_LABELS: 'BadRequestMultiClassClassificationTrainingValidationFailed',
};

/** Custom Vision codes by HTTP status, for errors without a more specific code. */
export const CODE_BY_STATUS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'BadRequestNotSupported',
  409: 'Conflict',
  412: 'Conflict',
  413: 'BadRequestImageSizeBytes',
  415: 'UnsupportedMediaType',
  422: 'BadRequest',
  429: 'TooManyRequests',
  503: 'ErrorServiceUnavailable',
};

/** Azure answers most refusals with 400: a code's family decides the status. */
export function statusOfCode(code: string, fallback: number): number {
  if (code.startsWith('BadRequest')) return 400;
  if (code.startsWith('NotFound')) return 404;
  if (code.startsWith('Forbidden')) return 403;
  if (code === 'Unauthorized') return 401;
  if (code === 'UnsupportedMediaType') return 415;
  if (code.startsWith('Conflict')) return 409;
  return fallback;
}

/** What is wrong with a refused request field. */
export type FieldProblem = 'missing' | 'too-many' | 'invalid';

/**
 * The Custom Vision code of a refused request field (a path such as `images.3.regions.0.left`), for the
 * global validation's 400: the code Azure gives that problem with that field.
 */
export function codeOfInvalidField(field: string, problem: FieldProblem): string {
  if (problem === 'missing') return 'BadRequestRequiredParamIsNull';
  const name = field.split('.').filter((part) => !/^\d+$/.test(part));
  const last = name.at(-1) ?? '';
  if (name[0] === 'images' && name.length <= 2 && !['tagIds', 'id', 'url'].includes(last))
    return 'BadRequestImageBatch';
  if (problem === 'too-many' || (name.length === 1 && (last === 'tags' || last === 'regions')))
    return 'BadRequestExceededBatchSize';
  if (/(^id|Id|Ids|^ids)$/.test(last)) return 'BadRequestInvalidIds';
  if (name.includes('regions')) return 'BadRequestImageRegions';
  return CODE_BY_FIELD[last] ?? 'BadRequest';
}

/** Fields whose bad value Azure answers with a code of its own. */
const CODE_BY_FIELD: Record<string, string> = {
  url: 'BadRequestImageUrl',
  metadata: 'BadRequestImageMetadataValue',
  publishName: 'BadRequestInvalidPublishName',
  platform: 'BadRequestProjectUnsupportedExportPlatform',
  classificationType: 'BadRequestProjectUnknownClassification',
  targetExportPlatforms: 'BadRequestProjectUnsupportedExportPlatform',
  type: 'BadRequestTagType',
  token: 'BadRequestInvalidImportToken',
  notificationEmailAddress: 'BadRequestInvalidEmailAddress',
};
