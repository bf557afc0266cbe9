import { CvBoolean, CvString } from '../../http/input.js';

/** PublishIteration's query. */
export class CvPublishIterationQueryDto {
  @CvString({
    required: true,
    maxLength: 100,
    example: 'squares',
    description: 'The name predictions use: 1 to 100 letters, digits, dots, dashes or underscores.',
  })
  publishName: string;

  @CvString({
    description:
      'The Azure resource id of the prediction resource (Azure requires it): accepted and not used, predictions authenticate with a personal API token of the owner or the deployment key.',
  })
  predictionId?: string;

  @CvBoolean({ default: false, description: 'Take the name from the iteration published under it.' })
  overwrite?: boolean;
}
