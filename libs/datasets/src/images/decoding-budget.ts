import { ConcurrencyGate } from '@diyml/core/pure';

const budgets = new Map<number, ConcurrencyGate>();

/**
 * The process's pixels decoded at once for images of at most `maxPixels` each: one image of the largest size taken, or
 * several smaller ones. Decoding costs memory by the pixel, not by the byte (a 43-byte GIF declaring 7,200 × 7,200
 * pixels decodes to ~200 MB), so a flood of uploads holds this much at most, however many requests send it. One per
 * limit for the whole process: every module's intake, test runs and thumbnails share it.
 */
export function decodingBudget(maxPixels: number): ConcurrencyGate {
  let budget = budgets.get(maxPixels);
  if (!budget) {
    budget = new ConcurrencyGate(maxPixels);
    budgets.set(maxPixels, budget);
  }
  return budget;
}
