import { CvString } from '../../http/input.js';

/** The Prediction API's query (v3.0, v3.1). */
export class CvPredictQueryDto {
  @CvString({
    maxLength: 100,
    description: 'The name of the application calling: accepted, not recorded with stored predictions.',
  })
  application?: string;
}

/** ImageUrl: the body of the …/url routes. */
export class CvImageUrlDto {
  @CvString({ required: true, maxLength: 2048, description: "The image's http or https URL." })
  url: string;
}
