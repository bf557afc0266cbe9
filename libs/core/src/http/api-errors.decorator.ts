import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ApiErrorDto } from './api-error.dto.js';

const DESCRIPTIONS: Record<number, string> = {
  400:
    'Invalid input. VALIDATION_FAILED: `details` names the first 20 bad fields, `problemCount` counts them all. ' +
    'Bodies are refused before validation with MALFORMED_JSON, JSON_TOO_DEEP or JSON_TOO_MANY_KEYS.',
  401:
    'Missing or refused credentials; the code says why: UNAUTHENTICATED (none sent), MALFORMED_AUTHORIZATION, ' +
    'TOKEN_MALFORMED, TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_WITHOUT_EXPIRY, TOKEN_REVOKED, INVALID_CREDENTIALS, INVALID_API_KEY.',
  404: 'Not found (or not yours).',
  409: 'Conflict with the current state (duplicate, or a concurrent change).',
  412: 'If-Match does not name the current revision.',
  413: 'Too large (PAYLOAD_TOO_LARGE for a JSON body over JSON_MAX_BYTES).',
  415: 'Unsupported media type.',
  422: 'The request is valid but cannot be carried out now.',
  429: 'Too many requests (TOO_MANY_REQUESTS), or too many failed sign-ins (TOO_MANY_FAILED_ATTEMPTS); `Retry-After` says when to retry.',
  503:
    'The server cannot carry it out now; retry later (after `Retry-After` when sent): SIGN_IN_BUSY (too many sign-ins ' +
    'waiting for a password check), PREDICTION_NOT_STORED (it cannot write its prediction journal).',
};

/** A typical body per status, so Swagger shows each error as a client would see it. */
const EXAMPLES: Record<number, Omit<ApiErrorDto, 'statusCode'>> = {
  400: {
    code: 'VALIDATION_FAILED',
    message: 'The request has 1 invalid field. name must be shorter than or equal to 100 characters.',
    details: [{ field: 'name', errors: ['name must be shorter than or equal to 100 characters'] }],
    problemCount: 1,
  },
  401: { code: 'TOKEN_EXPIRED', message: 'The token expired; log in again or use a personal API token.' },
  404: { code: 'PROJECT_NOT_FOUND', message: 'Project 0b6f… does not exist.' },
  409: {
    code: 'WRONG_EXPECTED_REVISION',
    message: 'Someone else changed this resource meanwhile (expected revision 3, found 4): read it again and retry.',
  },
  412: {
    code: 'REVISION_MISMATCH',
    message: 'The resource is at revision 4, not 3: read it again and retry with its ETag.',
    details: { currentRevision: 4 },
  },
  413: { code: 'PAYLOAD_TOO_LARGE', message: 'The JSON body is over JSON_MAX_BYTES (1048576 bytes).' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send the image as multipart/form-data or as a raw image body.' },
  422: {
    code: 'DATASET_NOT_READY',
    message: 'The dataset is not ready for training. Label "cat" has 1 included training image; it needs at least 2.',
    details: {
      problems: [
        {
          code: 'TOO_FEW_IMAGES',
          message: 'Label "cat" has 1 included training image; it needs at least 2.',
          label: { id: '5f0c…', name: 'cat' },
          count: 1,
          required: 2,
        },
      ],
    },
  },
  429: { code: 'TOO_MANY_REQUESTS', message: 'Too many requests; retry after 30 seconds.' },
  503: {
    code: 'PREDICTION_NOT_STORED',
    message:
      'The prediction could not be stored (the server cannot write its journal under DATA_DIR/journal): retry later, or turn the prediction store off.',
  },
};

/** Documents error responses in Swagger, each with the common error body and an example of it. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: DESCRIPTIONS[status] ?? 'Error.',
        type: ApiErrorDto,
        example: EXAMPLES[status] ? { statusCode: status, ...EXAMPLES[status] } : undefined,
      }),
    ),
  );
}
