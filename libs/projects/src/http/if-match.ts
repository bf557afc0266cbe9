import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import { expectedRevisionFromIfMatch, type HttpRequest } from '@diyml/core';

/** The revision named by the request's `If-Match` header, or undefined without one (400 INVALID_IF_MATCH if malformed). */
export const IfMatchRevision = createParamDecorator((_: unknown, context: ExecutionContext): number | undefined => {
  const header = context.switchToHttp().getRequest<HttpRequest>().headers['if-match'];
  return expectedRevisionFromIfMatch(Array.isArray(header) ? header[0] : header);
});

/** Documents the optional `If-Match` header of a write. */
export function ApiIfMatch(): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description:
        'ETag of the project as you last read it (e.g. W/"3"). The write is refused with 412 REVISION_MISMATCH ' +
        'if the project changed since.',
    }),
  );
}

/** The `ETag` response header, for Swagger. */
export const ETAG_HEADER = {
  ETag: {
    description: 'The project revision after this request, e.g. W/"3"; send it back as If-Match.',
    schema: { type: 'string' },
  },
};
