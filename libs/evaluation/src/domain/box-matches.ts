import { bestUnmatchedTruth } from '@diyml/ml/pure';
import { DEFAULT_METRICS_OPTIONS } from '@diyml/training/pure';

/**
 * The probability a detection test run lists a box from, and the IoU a found box needs with a labeled one of its
 * label: the thresholds of the run's precision and recall, so the images and the run agree.
 */
export const SHOWN_BOX_SCORE = DEFAULT_METRICS_OPTIONS.detection.threshold;
export const MATCH_OVERLAP = DEFAULT_METRICS_OPTIONS.detection.overlapThreshold;

type NamedBox = { label: string; x: number; y: number; width: number; height: number };

/** How one image's found boxes compare with its labeled ones, at the run's score and IoU thresholds. */
export interface BoxMatches {
  /** Boxes found only count from this probability (the ones listed in `predicted`). */
  scoreThreshold: number;
  /** A found box matches a labeled box of its label it overlaps by at least this IoU. */
  overlapThreshold: number;
  /** Labeled boxes a found box matched. */
  matched: number;
  /** Labeled boxes no found box matched. */
  missed: number;
  /** Found boxes that matched no labeled box (wrong place, wrong label, or a second box on one object). */
  falsePositives: number;
}

/**
 * Matches as the run's precision and recall do (COCO): most probable box first, each takes the unmatched labeled
 * box of its label it overlaps most, if that overlap reaches the threshold. `found` holds the boxes at or above
 * the score threshold only, so the counts summed over the images are the run's true positives, misses and false
 * positives at that threshold (AP, which ranks every box whatever its score, has no per-image counterpart).
 */
export function boxMatchesOf(
  expected: readonly NamedBox[],
  found: readonly (NamedBox & { probability: number })[],
  scoreThreshold = SHOWN_BOX_SCORE,
  overlapThreshold = MATCH_OVERLAP,
): BoxMatches {
  const taken = expected.map(() => false);
  let matched = 0;
  const ranked = found.filter((box) => box.probability >= scoreThreshold).sort((a, b) => b.probability - a.probability);
  for (const box of ranked) {
    const best = bestUnmatchedTruth(expected, taken, box, overlapThreshold);
    if (best >= 0) {
      taken[best] = true;
      matched++;
    }
  }
  return {
    scoreThreshold,
    overlapThreshold,
    matched,
    missed: expected.length - matched,
    falsePositives: ranked.length - matched,
  };
}
