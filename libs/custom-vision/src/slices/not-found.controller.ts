import { All, Controller, UseFilters } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@diyml/identity';
import { CustomVisionError } from '../domain/custom-vision-error.js';
import { CustomVisionExceptionFilter } from '../http/custom-vision-exception.filter.js';

/** Any other Custom Vision path (an operation not served): Custom Vision's 404 body. Registered last. */
@ApiExcludeController()
@Public()
@UseFilters(CustomVisionExceptionFilter)
@Controller('customvision')
export class CustomVisionNotFoundController {
  @All('{*path}')
  notFound(): never {
    throw CustomVisionError.notFound(
      'NotFound',
      'This Custom Vision operation is not served by diyml: see "Custom Vision compatibility" in the README.',
    );
  }
}
