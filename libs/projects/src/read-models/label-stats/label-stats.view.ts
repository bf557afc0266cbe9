/**
 * Image counts per label. Written by the datasets context's projection, only read here (for
 * `GET …/labels`): a label without a document has no images.
 */
export interface LabelStatsView {
  /** The label id. */
  id: string;
  projectId: string;
  imageCount: number;
}

export const LABEL_STATS = 'label-stats';
