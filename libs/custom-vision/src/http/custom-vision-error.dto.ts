import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import type { CustomVisionErrorBody } from './custom-vision-exception.filter.js';
import { INVALID_KEY_MESSAGE } from './keys.js';

/** The error body of the Custom Vision routes: Azure Custom Vision's, which its SDKs read. */
export class CustomVisionErrorDto implements CustomVisionErrorBody {
  @ApiProperty({
    example: 'NotFoundProject',
    description: "One of Custom Vision's error codes (CustomVisionErrorCodes in its SDKs).",
  })
  code: string;

  @ApiProperty({ example: 'Project 0b6f… does not exist.' })
  message: string;
}

const ERRORS: Record<number, { description: string; example: CustomVisionErrorBody }> = {
  400: {
    description:
      'The request is refused: BadRequest… codes (a parameter or field Azure does not define, or out of its range, ' +
      'with the field named in the message; an id that is not a UUID, a bad image, tag or region, a name taken…).',
    example: { code: 'BadRequestInvalidIds', message: 'tagIds must be UUIDs: cat is not one.' },
  },
  401: {
    description: 'The key header is missing or names no key of this server.',
    example: { code: 'Unauthorized', message: INVALID_KEY_MESSAGE },
  },
  404: {
    description:
      'NotFound… codes: an unknown project, iteration, tag or image, or (NotFound) an API version not served here.',
    example: { code: 'NotFoundProject', message: 'Project 0b6f… does not exist.' },
  },
  429: {
    description: 'Too many wrong keys from this address: wait for Retry-After seconds.',
    example: { code: 'TooManyRequests', message: 'Too many failed sign-in attempts from this address: retry in 60 s.' },
  },
};

/** Documents error responses of Custom Vision routes, each with Custom Vision's error body and an example. */
export function CustomVisionErrors(...statuses: (keyof typeof ERRORS)[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, type: CustomVisionErrorDto, ...ERRORS[status] })),
  );
}
