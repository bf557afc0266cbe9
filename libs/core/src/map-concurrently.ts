/**
 * `mapOne` of every index from 0 to `count - 1`, at most `concurrency` at once, results in index order: a few in
 * flight keep the thread pool or the disk busy without starting thousands at once. Rejects with the first failure.
 */
export async function mapConcurrently<T>(
  count: number,
  mapOne: (index: number) => Promise<T>,
  concurrency: number,
): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      results[index] = await mapOne(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}
