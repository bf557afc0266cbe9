/** One measured figure, with the goal it is held against (if any). */
export interface Figure {
  value: number;
  unit: string;
  /** Which direction is better, for comparing with the goal. */
  better: 'higher' | 'lower';
  goal?: number;
}

export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Prints the figures on one line for the harness (bench/run.ts) to collect, and readably for a person. */
export function emitResult(benchmark: string, figures: Record<string, Figure>, notes: string[] = []): void {
  for (const [name, figure] of Object.entries(figures)) {
    const goal = figure.goal === undefined ? '' : ` (goal ${figure.better === 'higher' ? '≥' : '≤'} ${figure.goal})`;
    console.log(`${benchmark}: ${name} = ${round(figure.value)} ${figure.unit}${goal}`);
  }
  console.log(RESULT_PREFIX + JSON.stringify({ benchmark, figures, notes }));
}

export function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function isQuick(): boolean {
  return process.argv.includes('--quick');
}
