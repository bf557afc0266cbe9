import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { map } from 'rxjs';

/**
 * Custom Vision answers counts and flags as JSON (`5`, `true`); Nest would send a bare number or boolean as
 * text/html, which the SDKs do not parse.
 */
@Injectable()
export class JsonPrimitivesInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler) {
    const response = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((value: unknown) => {
        if (typeof value !== 'number' && typeof value !== 'boolean') return value;
        response.type('application/json');
        return JSON.stringify(value);
      }),
    );
  }
}
