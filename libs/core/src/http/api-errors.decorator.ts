import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ApiErrorDto } from './api-error.dto.js';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input: `details` names each bad field.',
  401: 'Missing, invalid, expired or revoked credentials.',
  404: 'Not found (or not yours).',
  409: 'Conflict with the current state (duplicate, or a concurrent change).',
  412: 'If-Match does not name the current revision.',
  413: 'Too large.',
  415: 'Unsupported media type.',
  422: 'The request is valid but cannot be carried out now.',
  429: 'Too many requests.',
};

/** Documents error responses in Swagger, each with the common error body. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error.', type: ApiErrorDto }),
    ),
  );
}
