import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const built = existsSync(join(ROOT, 'dist/apps/api/src/main.js'));

/** The figures the benchmarks must report, by benchmark (names as bench/*.ts emit them); any other benchmark's are checked too. */
const EXPECTED: Record<string, RegExp[]> = {
  'upload-throughput': [/^upload rate$/],
  'labeling-throughput': [/^labeling rate/, /^relabeling rate/],
  'fashion-mnist': [
    /^upload \d+ training images.*wall time$/,
    /^training wall time/,
    /^training throughput/,
    /^test accuracy/,
    /^test run wall time$/,
    /p99 while training$/,
    /^api memory at rest/,
    /^api memory while training/,
  ],
  'prediction-latency': [/^latency p50$/, /^latency p99$/, /^throughput$/],
  'images-list-under-load': [/^throughput$/, /^latency p99$/, /^throughput \(label and split filter\)$/],
  'ml-training-throughput': [/^small-cnn 28×28 grayscale, wasm backend$/, /^small-cnn 28×28 grayscale, cpu backend$/],
  'event-log': [/^append rate/, /^replay rate/],
  'abuse-replay': [
    /^\/health max over attacks 1-9$/,
    /^10\. \/health max$/,
    /^5xx answers$/,
    /^api RSS high-water mark over attacks 1-10$/,
    /^6\. events appended by replay --verify/,
    /^8\. temporary blob files after the restart$/,
  ],
  'backbone-embedding': [
    /^MobileNetV2 224 px to out_relu, onnxruntime-node .*, batch 8$/,
    /^MobileNetV2 224 px to out_relu, tfjs wasm, batch 8$/,
    /^one image, forward pass to \S+, onnxruntime-node/,
  ],
};

/**
 * A bound for a hung benchmark, not a speed check: the smoke run takes about a minute on 2 idle cores, several at a
 * high load; each benchmark is also stopped by bench/run.ts after 5 minutes.
 */
const SMOKE_TIMEOUT_MS = 20 * 60_000;

/** The figure rows (name → median cell) of each `<!-- bench:name -->` section of the report. */
function parseReport(markdown: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  for (const match of markdown.matchAll(/<!-- bench:([\w-]+) -->([\s\S]*?)<!-- \/bench:\1 -->/g)) {
    const rows = new Map<string, string>();
    for (const line of match[2].split('\n')) {
      const cells = line.split('|').map((cell) => cell.trim());
      if (cells.length >= 8 && cells[1] !== 'figure' && !cells[1].startsWith('---')) rows.set(cells[1], cells[2]);
    }
    sections.set(match[1], rows);
  }
  return sections;
}

/**
 * `npm run bench -- --smoke --parallel 2`: every benchmark still runs against the built product, at its smallest size,
 * and reports its figures. In the slow tier (`npm run test:slow`), not in `npm test`: 130-190 CPU-s on 2 cores, more
 * than a third of what `npm test`'s five minutes there allow. No timing is asserted and the figures mean nothing (two benchmarks run at once, as they
 * spend much of their time waiting, and those that can share one api share it, one after another):
 * `--quick` and the full run measure.
 */
(built ? describe : describe.skip)(
  `npm run bench -- --smoke${built ? '' : ' (skipped: run `npm run build` first)'}`,
  () => {
    it(
      'runs every benchmark and reports every figure with a number, leaving BENCHMARKS.md alone',
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'diyml-bench-test-'));
        const out = join(dir, 'smoke.md');
        const report = join(ROOT, 'BENCHMARKS.md');
        const before = existsSync(report) ? statSync(report).mtimeMs : undefined;
        try {
          let output = '';
          const code = await new Promise<number | null>((resolve) => {
            const child = spawn(
              process.execPath,
              ['--import', 'tsx', 'bench/run.ts', '--smoke', '--parallel', '2', '--out', out],
              {
                cwd: ROOT,
                // The PostgreSQL variants (run when POSTGRES_URL is set) would double the time: they are run by hand.
                env: { ...process.env, BENCH_SKIP_BUILD: '1', POSTGRES_URL: '' },
                stdio: ['ignore', 'pipe', 'pipe'],
              },
            );
            child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
            child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
            child.once('close', resolve);
          });
          if (code !== 0) {
            // The failed benchmarks' own lines (run.ts prints each with its output's tail), then the output's end.
            const lines = output.split('\n');
            const failures = lines.flatMap((line, index) =>
              line.startsWith('✗') ? lines.slice(index, index + 17) : [],
            );
            throw new Error(`bench/run.ts --smoke exited ${code}:\n${failures.join('\n')}\n…\n${output.slice(-2000)}`);
          }

          const markdown = readFileSync(out, 'utf8');
          expect(markdown).toMatch(/\| CPU \| \d+ cores × /);
          expect(markdown).toMatch(/\| memory \| [\d.]+ GiB \|/);
          expect(markdown).toContain(`| Node | ${process.version}`);
          expect(markdown).toMatch(/\| tfjs backend \| (wasm|cpu|tensorflow) /);
          const sections = parseReport(markdown);
          for (const [benchmark, rows] of sections) {
            expect({ benchmark, figures: rows.size > 0 }).toEqual({ benchmark, figures: true });
            for (const [name, median] of rows)
              expect({ benchmark, name, median: Number.isFinite(Number(median)) }).toEqual({
                benchmark,
                name,
                median: true,
              });
          }
          for (const [benchmark, patterns] of Object.entries(EXPECTED)) {
            const rows = sections.get(benchmark);
            if (!rows) throw new Error(`no section for ${benchmark} in:\n${markdown}`);
            for (const pattern of patterns) {
              const name = [...rows.keys()].find((row) => pattern.test(row));
              if (!name)
                throw new Error(`${benchmark}: no figure matching ${pattern} among ${[...rows.keys()].join('; ')}`);
            }
          }
          expect(existsSync(report) ? statSync(report).mtimeMs : undefined).toBe(before);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
      SMOKE_TIMEOUT_MS,
    );
  },
);
