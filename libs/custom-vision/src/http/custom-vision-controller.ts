import { applyDecorators, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import { ApiParam, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { AuthenticatedUser, RequestContext } from '@diyml/core';
import { Public } from '@diyml/identity';
import { CustomVisionErrors } from './custom-vision-error.dto.js';
import { CustomVisionExceptionFilter } from './custom-vision-exception.filter.js';
import { JsonPrimitivesInterceptor } from './json-primitives.interceptor.js';
import { TRAINING_API_VERSIONS, TrainingKeyGuard } from './training-key.guard.js';

export const TRAINING_BASE = 'customvision/:version/training';
export const PREDICTION_BASE = 'customvision/:version/prediction';

/**
 * A controller of the Custom Vision Training API: public to the bearer guard, authenticated by
 * `Training-Key` instead, errors in Custom Vision's shape (every route: a wrong key, too many of them, or a
 * version not served; the others per route).
 */
export function CustomVisionTrainingController(): ClassDecorator {
  return applyDecorators(
    Public(),
    UseGuards(TrainingKeyGuard),
    UseFilters(CustomVisionExceptionFilter),
    UseInterceptors(JsonPrimitivesInterceptor),
    ApiTags('custom-vision training'),
    ApiSecurity('training-key'),
    CustomVisionErrors(401, 404, 429),
    ApiParam({ name: 'version', enum: [...TRAINING_API_VERSIONS] }),
  );
}

export type UserContext = RequestContext & { userId: string };

export function userContext(context: RequestContext, user: AuthenticatedUser): UserContext {
  return { ...context, userId: user.id };
}
