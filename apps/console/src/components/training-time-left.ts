/** The latest batch of the epoch under way, as the training's progress stream reports it. */
export interface BatchTiming {
  epoch: number;
  batch: number;
  batches: number;
  /** Since the epoch started. */
  elapsedMs: number;
}

/**
 * The time a running training has left, in ms, or null while it cannot be told: until an epoch has ended. Batches
 * alone do not say it: the first ones pay the warm-up (3 s for the first step of a detector whose later steps take
 * 0.3 s), and an epoch also validates. So the pace is that of whole epochs, validation included, leaving out the first
 * once later ones are known. The model's final validation and saving come after: the caller says "finishing" then.
 */
export function trainingTimeLeft({
  epochs,
  epochDurationsMs,
  batch,
}: {
  epochs: number;
  /** How long each ended epoch took, in order. */
  epochDurationsMs: readonly number[];
  /** The epoch under way, when a batch of it was reported. */
  batch: BatchTiming | null;
}): number | null {
  const ended = epochDurationsMs.length;
  if (ended === 0) return null;
  const paced = ended > 1 ? epochDurationsMs.slice(1) : epochDurationsMs;
  const perEpoch = paced.reduce((sum, duration) => sum + duration, 0) / paced.length;
  if (!batch) return perEpoch * (epochs - ended);
  // The epoch under way takes what an epoch takes, or longer when its own batches say so.
  const perBatch = batch.elapsedMs / batch.batch;
  const current = Math.max(perEpoch - batch.elapsedMs, perBatch * (batch.batches - batch.batch));
  return current + perEpoch * (epochs - batch.epoch);
}
