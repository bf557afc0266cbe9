#!/usr/bin/env node
/**
 * Runs npm scripts side by side, as many at once as the machine has cores: `node scripts/run-parallel.mjs lint build`.
 * Each script's output is printed whole when it ends (not interleaved), with its time; the exit code is 1 when any
 * script failed. The checks before the tests (lint, build, typecheck) are single-threaded tools that do not depend on
 * each other: on 2 cores, two at a time take about half as long as one after the other.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: node scripts/run-parallel.mjs <npm script> [<npm script> …]');
  process.exit(2);
}
const slots = Math.max(1, Math.min(scripts.length, availableParallelism()));
const npm = process.env.npm_execpath
  ? { command: process.execPath, args: [process.env.npm_execpath] }
  : { command: 'npm', args: [] };

/** Runs one npm script, its output collected; resolves with whether it succeeded. */
function run(script) {
  const started = performance.now();
  const child = spawn(npm.command, [...npm.args, 'run', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = [];
  child.stdout.on('data', (chunk) => output.push(chunk));
  child.stderr.on('data', (chunk) => output.push(chunk));
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const ok = code === 0;
      const text = Buffer.concat(output).toString().trimEnd();
      console.log(`${ok ? '✓' : '✗'} npm run ${script} (${seconds} s${ok ? '' : `, exit ${code ?? signal}`})`);
      if (text) console.log(text);
      resolve(ok);
    });
  });
}

const queue = [...scripts];
const results = [];
await Promise.all(
  Array.from({ length: slots }, async () => {
    for (let script = queue.shift(); script !== undefined; script = queue.shift()) results.push(await run(script));
  }),
);
process.exitCode = results.every(Boolean) ? 0 : 1;
