/** One measured figure, with the goal it is held against (if any). */
export interface Figure {
  value: number;
  unit: string;
  /** Which direction is better, for comparing with the goal. */
  better: 'higher' | 'lower';
  goal?: number;
}

/** What one run of a benchmark prints after `RESULT_PREFIX`, as JSON. */
export interface BenchResult {
  benchmark: string;
  figures: Record<string, Figure>;
  notes: string[];
  /** Facts about the run, e.g. `backend` (the tfjs backend the product trained and predicted on). */
  info?: Record<string, string>;
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Prints the figures on one line for the harness (bench/run.ts) to collect, and readably for a person. */
export function emitResult(
  benchmark: string,
  figures: Record<string, Figure>,
  notes: string[] = [],
  info: Record<string, string> = {},
): void {
  for (const [name, figure] of Object.entries(figures)) {
    const goal = figure.goal === undefined ? '' : ` (goal ${figure.better === 'higher' ? '≥' : '≤'} ${figure.goal})`;
    console.log(`${benchmark}: ${name} = ${round(figure.value)} ${figure.unit}${goal}`);
  }
  const result: BenchResult = { benchmark, figures, notes, info };
  console.log(RESULT_PREFIX + JSON.stringify(result));
}

export function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * How much a benchmark measures, from its command line:
 *   full   (no flag)  the product's figures, for BENCHMARKS.md;
 *   quick  --quick    smaller data, rough figures in minutes;
 *   smoke  --smoke    the least that still runs every step and reports every figure (a handful of images, one epoch, a
 *                     request per connection of load): the benchmark smoke test in `npm test`, its numbers mean nothing.
 */
export type BenchMode = 'full' | 'quick' | 'smoke';

export function benchMode(): BenchMode {
  if (process.argv.includes('--smoke')) return 'smoke';
  return process.argv.includes('--quick') ? 'quick' : 'full';
}

/** Smaller than the full run: --quick or --smoke. */
export function isQuick(): boolean {
  return benchMode() !== 'full';
}

export function isSmoke(): boolean {
  return benchMode() === 'smoke';
}

/** The size for this run's mode. */
export function sized<T>(sizes: Record<BenchMode, T>): T {
  return sizes[benchMode()];
}

/** Requests per connection of an autocannon load in a smoke run (see loadLength): autocannon sends at least one. */
const SMOKE_REQUESTS_PER_CONNECTION = 1;

/**
 * How much an autocannon load sends: for `seconds` in a full or quick run; in a smoke run a few requests per connection
 * instead, which runs every step and yields every figure: a second of flooding keeps both cores busy for that second
 * whatever it proves (autocannon still reports at its next 1-s sample, idle meanwhile).
 */
export function loadLength(seconds: number, connections: number): { duration: number } | { amount: number } {
  return isSmoke() ? { amount: connections * SMOKE_REQUESTS_PER_CONNECTION } : { duration: seconds };
}

/** A load's length (from loadLength) for a note: "for 3 s", "800 requests". */
export function describeLoadLength(length: { duration: number } | { amount: number }): string {
  return 'duration' in length ? `for ${length.duration} s` : `${length.amount} requests`;
}

/** `--name value` from the command line as a number, else `fallback`. */
export function numberOption(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number`);
  return value;
}

/** The 1-, 5- and 15-minute load averages, for notes ("a load above the core count means other work competed"). */
export function loadAverages(values: readonly number[]): string {
  return values.map((value) => value.toFixed(2)).join(' / ');
}
