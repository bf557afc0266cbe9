import { CvBoolean, CvUuid } from '../../http/input.js';

/** QuickTestImage's and QuickTestImageUrl's query. */
export class CvQuickTestQueryDto {
  @CvUuid({ description: 'The trained iteration to test (default: the newest trained one).' })
  iterationId?: string;

  @CvBoolean({ default: true, description: 'Accepted; a quick test is never stored here.' })
  store?: boolean;
}
