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
};

/** Documents error responses in Swagger, each with the common error body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error.', type: ApiErrorDto }),
    ),
  );
}
