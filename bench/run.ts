/**
 * Runs the benchmarks under bench/ (each one that prints a BENCH_RESULT line, see support/result.ts), each in
 * its own process against the built product, repeats them, and writes the median of every figure beside its
 * goal to BENCHMARKS.md with the machine it ran on.
 *
 * Run: npm run bench [-- --quick | --smoke] [-- --only upload-throughput,event-log] [-- --repeat N] [-- --out file.md]
 *
 * - `npm run bench` builds the product once, then runs `node --import tsx bench/<name>.ts` with
 *   BENCH_SKIP_BUILD=1 for every benchmark, 3 times each by default, and rewrites BENCHMARKS.md.
 * - `--quick`: smaller data, 1 run each (rough figures in minutes). Quick figures
 *   are not the product's: BENCHMARKS.md is left alone; the tables are printed, and written to `--out` if given.
 * - `--smoke`: the least data that runs every step of every benchmark (support/result.ts, `sized`), 1 run each: what
 *   the benchmark smoke test in `npm test` runs, to prove that each benchmark still runs and reports its figures.
 *   Like --quick, it leaves BENCHMARKS.md alone. The harness starts one api (booting one costs about 5 CPU-s) for
 *   all benchmarks that can share it (support/product.ts, `startProduct`; each registers its own user) and runs them
 *   one after another; with it, no benchmark's api fsyncs blobs (BLOB_FSYNC=false).
 * - `--only a,b`: only these benchmarks; in full mode the other sections of BENCHMARKS.md are kept as they were.
 * - `--repeat N`: runs of each benchmark (default 3, or 1 with --quick or --smoke).
 * - `--parallel N`: run N benchmarks at once (default 1). Their figures then compete for the cores: for --smoke, whose
 *   numbers mean nothing and whose benchmarks spend much of their time waiting (polls, fixed load durations).
 * - `--out file`: write the report there instead of BENCHMARKS.md.
 * - `--skip-build` (or BENCH_SKIP_BUILD=1): use dist/ as it is (`npm run bench` has just built it).
 * - A benchmark with a PostgreSQL mode (`isPostgresMode()`) also runs as `<name>-postgres` with `--postgres` when
 *   POSTGRES_URL is set, each run in a fresh database on that server.
 *
 * Exits with 1 when a run of a benchmark failed (after writing what the others measured).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureFashionMnist } from './support/fashion-mnist.js';
import {
  buildProduct,
  ROOT,
  SHARED_API_ENV,
  SHARED_API_VARIABLE,
  startProduct,
  type OwnProduct,
} from './support/product.js';
import {
  type BenchMode,
  type BenchResult,
  type Figure,
  loadAverages,
  median,
  RESULT_PREFIX,
  round,
} from './support/result.js';

const BENCH_DIR = join(ROOT, 'bench');
const REPORT = join(ROOT, 'BENCHMARKS.md');
/** Everything from this line on in BENCHMARKS.md is kept as it is (earlier, hand-written measurements). */
const HISTORY_MARKER = '<!-- bench:history -->';

/** Order and titles of the known benchmarks; any other bench/*.ts that emits results comes after them. */
const KNOWN: Record<string, string> = {
  'upload-throughput': 'Image upload throughput',
  'labeling-throughput': 'Batch labeling throughput',
  'fashion-mnist': 'Fashion-MNIST end to end',
  'fashion-mnist-engine': 'Fashion-MNIST through the engine (libs/ml, no HTTP)',
  'prediction-latency': 'Prediction latency and throughput',
  'images-list-under-load': 'Images list under load',
  'ml-training-throughput': 'Training throughput of the engine, tfjs backends compared',
  'backbone-embedding': 'Backbone embedding: MobileNetV2 on onnxruntime-node against tfjs',
  'event-log': 'Event log: append and replay',
  'real-photos': 'Real photos (Custom Vision samples): backbone default beside from scratch',
  'real-photos-detection': 'Object detection on real photos (Custom Vision quickstart samples)',
  'project-import-memory': 'Project import memory: the api importing a large archive',
  'video-prediction': 'Video prediction: the model phase of a job, one thread against one per chunk',
  'front-door-under-load': 'The front door under 500 connections: 404s and /health',
  'abuse-replay': 'The attacks of issue 17 replayed against a fresh api: /health, answers and memory',
  'backbone-training-scale': 'Training on 2,000 photos after their embeddings (backbone default)',
};
const POSTGRES_SUFFIX = '-postgres';
/** A run that takes longer is stopped (with the api it started) and reported as failed. */
const TIMEOUT_MINUTES: Record<BenchMode, number> = { full: 90, quick: 10, smoke: 5 };

interface Benchmark {
  name: string;
  /** bench/<file>.ts */
  file: string;
  /** Extra command-line arguments, e.g. --postgres. */
  args: string[];
  title: string;
  /** The first doc comment of the file, without its `Run:` line. */
  description: string;
  usage: string;
  /** Reads the mode (support/result.ts: --quick, --smoke); the others only run in full mode. */
  sizesByMode: boolean;
  /**
   * Starts the built api (support/product.ts) and can share one: a `startProduct(` call whose options do not open
   * with `fresh: true` (a benchmark may ask for a fresh api outside --smoke only).
   */
  sharesApi: boolean;
  /** Reads Fashion-MNIST (support/fashion-mnist.ts), which it installs when missing. */
  readsFashionMnist: boolean;
}

interface Run {
  result?: BenchResult;
  seconds: number;
  error?: string;
}

function parseArguments(argv: string[]) {
  const value = (name: string) => {
    const index = argv.indexOf(`--${name}`);
    if (index < 0) return undefined;
    const next = argv[index + 1];
    if (next === undefined || next.startsWith('--')) throw new Error(`--${name} needs a value`);
    return next;
  };
  if (argv.includes('--quick') && argv.includes('--smoke')) throw new Error('--quick or --smoke, not both');
  const mode: BenchMode = argv.includes('--smoke') ? 'smoke' : argv.includes('--quick') ? 'quick' : 'full';
  const wholeNumber = (name: string, fallback: number) => {
    const number = Number(value(name) ?? fallback);
    if (!Number.isInteger(number) || number < 1) throw new Error(`--${name} needs a whole number ≥ 1`);
    return number;
  };
  const repeat = wholeNumber('repeat', mode === 'full' ? 3 : 1);
  return {
    mode,
    repeat,
    only: value('only')
      ?.split(',')
      .map((name) => name.trim().replace(/\.ts$/, ''))
      .filter(Boolean),
    out: value('out'),
    parallel: wholeNumber('parallel', 1),
    skipBuild: argv.includes('--skip-build') || process.env.BENCH_SKIP_BUILD === '1',
  };
}

/** bench/*.ts files that print a BENCH_RESULT line (through emitResult), known ones first. */
function discoverBenchmarks(): Benchmark[] {
  const found: Benchmark[] = [];
  for (const file of readdirSync(BENCH_DIR)) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts') || file === 'run.ts') continue;
    const source = readFileSync(join(BENCH_DIR, file), 'utf8');
    if (!/emitResult\(|BENCH_RESULT/.test(source)) continue;
    const name = file.slice(0, -'.ts'.length);
    const comment = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
    const lines = comment.split('\n').map((line) => line.replace(/^\s*\* ?/, '').trimEnd());
    const runAt = lines.findIndex((line) => line.startsWith('Run:'));
    const benchmark: Benchmark = {
      name,
      file: name,
      args: [],
      title: KNOWN[name] ?? name,
      description: (runAt >= 0 ? lines.slice(0, runAt) : lines)
        .join('\n')
        .trim()
        .replace(/\s*\n\s*/g, ' '),
      usage: runAt >= 0 ? lines[runAt].slice('Run:'.length).trim() : `npx tsx bench/${file}`,
      sizesByMode: /\b(isQuick|isSmoke|sized|benchMode)\(/.test(source),
      sharesApi: /\bstartProduct\((?!\{\s*fresh: true\b)/.test(source),
      readsFashionMnist: /\breadFashionMnist\(/.test(source),
    };
    found.push(benchmark);
    if (/isPostgresMode\(/.test(source)) {
      found.push({
        ...benchmark,
        name: name + POSTGRES_SUFFIX,
        args: ['--postgres'],
        title: `${benchmark.title}, PostgreSQL mode`,
        description: `The benchmark above with \`--postgres\`: the PostgreSQL adapters in a fresh database on POSTGRES_URL's server (same machine).`,
        usage: `POSTGRES_URL=… npx tsx bench/${file} --postgres${benchmark.sizesByMode ? ' [--quick | --smoke]' : ''}`,
      });
    }
  }
  const order = Object.keys(KNOWN);
  const rank = (name: string) => {
    const base = name.endsWith(POSTGRES_SUFFIX) ? name.slice(0, -POSTGRES_SUFFIX.length) : name;
    return order.includes(base) ? order.indexOf(base) : order.length;
  };
  return found.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

/** Runs one benchmark in its own process group; echoes its output and collects its BENCH_RESULT line. */
function runOnce(
  benchmark: Benchmark,
  mode: BenchMode,
  timeoutMinutes: number,
  prefix: string,
  env: Record<string, string>,
): Promise<Run> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(BENCH_DIR, `${benchmark.file}.ts`),
      ...benchmark.args,
      ...(mode === 'full' ? [] : [`--${mode}`]),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, BENCH_SKIP_BUILD: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that a timeout also stops the api it started.
      detached: true,
    },
  );
  running.add(child.pid!);
  let result: BenchResult | undefined;
  const tail: string[] = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 15) tail.shift();
  };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith(RESULT_PREFIX)) {
      result = JSON.parse(line.slice(RESULT_PREFIX.length)) as BenchResult;
      return;
    }
    console.log(`  ${prefix}${line}`);
    remember(line);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    console.error(`  ${prefix}${line}`);
    remember(line);
  });
  const timer = setTimeout(() => {
    remember(`(stopped after ${timeoutMinutes} minutes)`);
    stopGroup(child.pid!);
  }, timeoutMinutes * 60_000);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child.pid!);
      const seconds = (performance.now() - started) / 1000;
      if (code === 0 && result) resolve({ result, seconds });
      else
        resolve({
          seconds,
          error: `${code === 0 ? 'no BENCH_RESULT line' : `exit ${code ?? signal}`}:\n${tail.join('\n')}`,
        });
    });
  });
}

const running = new Set<number>();
/** The api started for the benchmarks of a smoke run to share. */
let sharedApi: OwnProduct | undefined;
function stopGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const pid of running) stopGroup(pid);
    sharedApi?.process.kill('SIGTERM');
    process.exit(130);
  });
}

const formatNumber = (value: number) => (Number.isFinite(value) ? String(round(value)) : '–');

function goalText(figure: Figure): string {
  return figure.goal === undefined ? '' : `${figure.better === 'higher' ? '≥' : '≤'} ${figure.goal}`;
}

function met(figure: Figure, value: number): string {
  if (figure.goal === undefined || !Number.isFinite(value)) return '';
  return (figure.better === 'higher' ? value >= figure.goal : value <= figure.goal) ? 'yes' : '**no**';
}

function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md'], {
        cwd: ROOT,
        encoding: 'utf8',
      }).trim() !== '';
    return dirty ? `${commit} (with uncommitted changes)` : commit;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function section(benchmark: Benchmark, runs: Run[], context: { date: string; commit: string }): string {
  const results = runs.flatMap((run) => (run.result ? [run.result] : []));
  const lines = [
    `<!-- bench:${benchmark.name} -->`,
    `## ${benchmark.title}`,
    '',
    ...(benchmark.description ? [benchmark.description, ''] : []),
    `\`${benchmark.usage}\` — measured ${context.date} at ${context.commit}: ${results.length} of ${runs.length} run(s) succeeded, ` +
      `${runs.map((run) => `${run.seconds.toFixed(0)} s`).join(', ')} each.`,
    '',
  ];
  if (results.length > 0) {
    lines.push('| figure | median | unit | goal | met? | runs |', '|---|---|---|---|---|---|');
    const names = [...new Set(results.flatMap((result) => Object.keys(result.figures)))];
    for (const name of names) {
      const figures = results.flatMap((result) => (result.figures[name] ? [result.figures[name]] : []));
      const values = figures.map((figure) => figure.value);
      const middle = median(values);
      lines.push(
        `| ${name} | ${formatNumber(middle)} | ${figures[0].unit} | ${goalText(figures[0])} | ${met(figures[0], middle)} | ${values.map(formatNumber).join(', ')} |`,
      );
    }
    lines.push('');
  }
  const notes: string[] = [];
  results.forEach((result, index) => {
    for (const note of result.notes) {
      const alreadyAll = notes.includes(note);
      if (alreadyAll) continue;
      const inEvery = results.every((other) => other.notes.includes(note));
      notes.push(inEvery || results.length === 1 ? note : `run ${index + 1}: ${note}`);
    }
  });
  runs.forEach((run, index) => {
    if (run.error)
      notes.push(
        `**run ${index + 1} failed** (${run.error.split('\n')[0].replace(/:$/, '')}):\n\n  \`\`\`\n${run.error
          .split('\n')
          .slice(1)
          .map((line) => `  ${line}`)
          .join('\n')}\n  \`\`\``,
      );
  });
  if (notes.length > 0) lines.push('Notes:', '', ...notes.map((note) => `- ${note}`), '');
  lines.push(`<!-- /bench:${benchmark.name} -->`);
  return lines.join('\n');
}

/** The sections of benchmarks not run this time, from the existing report (full mode with --only). */
function keptSections(existing: string, ran: Set<string>): Map<string, string> {
  const kept = new Map<string, string>();
  for (const match of existing.matchAll(/<!-- bench:([\w-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g)) {
    if (!ran.has(match[1])) kept.set(match[1], match[0]);
  }
  return kept;
}

async function main(): Promise<number> {
  const options = parseArguments(process.argv.slice(2));
  const all = discoverBenchmarks();
  const unknown = (options.only ?? []).filter((name) => !all.some((benchmark) => benchmark.name === name));
  if (unknown.length > 0)
    throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${all.map((b) => b.name).join(', ')}`);
  let selected = options.only ? all.filter((benchmark) => options.only!.includes(benchmark.name)) : all;
  const withoutServer = process.env.POSTGRES_URL
    ? []
    : selected.filter((benchmark) => benchmark.args.includes('--postgres'));
  if (withoutServer.length > 0) {
    console.log(`Skipping (set POSTGRES_URL to run them): ${withoutServer.map((b) => b.name).join(', ')}`);
    selected = selected.filter((benchmark) => !withoutServer.includes(benchmark));
  }
  const skipped = options.mode === 'full' ? [] : selected.filter((benchmark) => !benchmark.sizesByMode);
  if (skipped.length > 0) {
    console.log(`Skipping in --${options.mode} mode (no support for it): ${skipped.map((b) => b.name).join(', ')}`);
    selected = selected.filter((benchmark) => benchmark.sizesByMode);
  }

  if (!options.skipBuild) {
    console.log('Building the product (npm run build)…');
    buildProduct();
  }
  if (!existsSync(join(ROOT, 'dist/apps/api/src/main.js')))
    throw new Error('dist/apps/api/src/main.js is missing: run npm run build');

  // Installed once before the benchmarks run side by side: two apt-get at once fail on apt's lock.
  if (selected.some((benchmark) => benchmark.readsFashionMnist)) ensureFashionMnist();

  const started = new Date();
  const loadBefore = loadavg();
  const sharing = options.mode === 'smoke' ? selected.filter((benchmark) => benchmark.sharesApi) : [];
  const benchEnv: Record<string, string> = {};
  if (sharing.length > 1) {
    // A smoke run measures nothing: booting an api per benchmark cost about 5 CPU-s each.
    sharedApi = await startProduct({ env: { ...SHARED_API_ENV }, fresh: true });
    const { base, pid, dataDir } = sharedApi;
    Object.assign(benchEnv, { [SHARED_API_VARIABLE]: JSON.stringify({ base, pid, dataDir }), ...SHARED_API_ENV });
  }
  const runs = new Map<string, Run[]>();
  const runRepeats = async (benchmark: Benchmark) => {
    runs.set(benchmark.name, []);
    // Side by side, each output line names its benchmark.
    const prefix = options.parallel > 1 ? `[${benchmark.name}] ` : '';
    for (let repeat = 1; repeat <= options.repeat; repeat += 1) {
      const flag = options.mode === 'full' ? '' : ` --${options.mode}`;
      console.log(`\n▶ ${benchmark.name}${flag} (run ${repeat} of ${options.repeat})`);
      const run = await runOnce(benchmark, options.mode, TIMEOUT_MINUTES[options.mode], prefix, benchEnv);
      runs.get(benchmark.name)!.push(run);
      console.log(
        run.error
          ? `✗ ${benchmark.name} failed after ${run.seconds.toFixed(0)} s: ${run.error}`
          : `✓ ${benchmark.name} in ${run.seconds.toFixed(0)} s`,
      );
      if (run.error) break; // a failing benchmark fails again: don't spend the repeats on it
    }
  };
  // The benchmarks on the shared api run one after another, first, beside the others: its jobs run one at a time,
  // and a load benchmark on it would mostly measure another one's training.
  const queue: Benchmark[][] = sharedApi
    ? [sharing, ...selected.filter((benchmark) => !sharing.includes(benchmark)).map((benchmark) => [benchmark])]
    : selected.map((benchmark) => [benchmark]);
  try {
    await Promise.all(
      Array.from({ length: Math.min(options.parallel, queue.length) }, async () => {
        for (let group = queue.shift(); group; group = queue.shift())
          for (const benchmark of group) await runRepeats(benchmark);
      }),
    );
  } finally {
    await sharedApi?.stop();
  }
  const loadAfter = loadavg();
  const totalSeconds = (Date.now() - started.getTime()) / 1000;

  const date = `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const commit = gitCommit();
  const backends = new Map<string, string[]>();
  for (const [name, benchmarkRuns] of runs) {
    for (const run of benchmarkRuns) {
      const backend = run.result?.info?.backend;
      if (backend && !backends.get(backend)?.includes(name))
        backends.set(backend, [...(backends.get(backend) ?? []), name]);
    }
  }
  const cpu = cpus();
  const header = [
    '# Benchmarks',
    '',
    options.mode === 'smoke'
      ? '**Smoke mode** (`npm run bench -- --smoke`): the least data that runs every benchmark, one run each, to prove ' +
        'that they run and report their figures, the benchmarks that can share an api sharing one. These numbers mean nothing.'
      : options.mode === 'quick'
        ? '**Quick mode** (`npm run bench -- --quick`): small data sets and one run each, rough figures. ' +
          "These are not the product's figures."
        : 'Written by `npm run bench` (`bench/run.ts`): every benchmark under `bench/` drives the built product (or, for the ' +
          'engine, libs/ml) as a client would, in its own process, and each figure is the **median** of its runs (all runs are listed). ' +
          'Do not edit by hand: run `npm run bench` again (`-- --only <name>` to rerun one benchmark; the README says more).',
    '',
    '## Machine and run',
    '',
    '| | |',
    '|---|---|',
    `| date | ${date} |`,
    `| commit | ${commit} |`,
    `| CPU | ${cpu.length} cores × ${cpu[0]?.model.trim() ?? 'unknown'} |`,
    `| memory | ${(totalmem() / 2 ** 30).toFixed(1)} GiB |`,
    `| Node | ${process.version} (${process.platform} ${process.arch}, kernel ${release()}) |`,
    `| tfjs backend | ${backends.size > 0 ? [...backends].map(([backend, names]) => `${backend} (${names.join(', ')})`).join('; ') : 'not reported by the benchmarks run'} |`,
    `| load average (1/5/15 min) | before ${loadAverages(loadBefore)}, after ${loadAverages(loadAfter)} |`,
    `| runs | ${options.repeat} of each benchmark${options.parallel > 1 ? `, ${options.parallel} benchmarks at once` : ''}${options.mode === 'full' ? '' : `, --${options.mode}`}; ${Math.round(totalSeconds)} s in all |`,
    ...(skipped.length > 0
      ? [`| not run | ${skipped.map((b) => `${b.name} (no --${options.mode} mode)`).join(', ')} |`]
      : []),
    '',
    `A load average above ${cpu.length} (the core count) means other work competed for the cores during the run: figures taken ` +
      'then are lower bounds. Goals are from the issues that set them; "met?" compares the median with the goal.',
  ];
  const sections = new Map(
    selected.map((benchmark) => [benchmark.name, section(benchmark, runs.get(benchmark.name)!, { date, commit })]),
  );
  const report = [header.join('\n')];
  const partial = options.mode !== 'full';
  const file = options.out ?? (partial ? undefined : REPORT);
  const existing = file && existsSync(file) ? readFileSync(file, 'utf8') : '';
  const kept = partial ? new Map<string, string>() : keptSections(existing, new Set(sections.keys()));
  for (const benchmark of all) {
    const text = sections.get(benchmark.name) ?? kept.get(benchmark.name);
    if (text) report.push(text);
  }
  const historyAt = existing.indexOf(HISTORY_MARKER);
  if (historyAt >= 0 && !partial) report.push(existing.slice(historyAt).trimEnd());
  const markdown = `${report.join('\n\n')}\n`;

  console.log(`\n${markdown}`);
  if (file) {
    writeFileSync(file, markdown);
    console.log(`Written to ${file}`);
  }
  return [...runs.values()].some((benchmarkRuns) => benchmarkRuns.some((run) => run.error)) ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
}
