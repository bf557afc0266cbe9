import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Lets a worker thread started from TypeScript sources (the test suite, the benchmarks) import `.ts` modules: what
 * startWorkerThread's thread loads first when its entry is a `.ts` file. tsx did this at ~0.65 CPU-s a training
 * thread (its hooks run on a thread of their own, and it resolves and reads every module again), these in-thread
 * synchronous hooks at ~0.3, and the test suite starts about 165 threads. The transform is tsx's (esbuild with
 * tsconfig.json's options), run only for a module not seen before: its JavaScript is kept on disk by content. Imports
 * resolve as in vitest.config.ts: `.js` names the `.ts` file beside it, `@diyml/<lib>` the lib's entry (tsconfig paths).
 * (swc, the test runner's transform, crashes a process that loads it in a second worker thread.)
 */
const ROOT = new URL('../../../../', import.meta.url);
const OPTIONS = {
  loader: 'ts',
  format: 'esm',
  target: `node${process.versions.node}`,
  sourcemap: 'inline',
  tsconfigRaw: { compilerOptions: JSON.parse(readFileSync(new URL('tsconfig.json', ROOT), 'utf8')).compilerOptions },
};
const CACHE = join(tmpdir(), 'diyml-thread-typescript');
const require = createRequire(import.meta.url);
const VERSION = `${require('esbuild/package.json').version}:${JSON.stringify(OPTIONS)}`;

/** The file a `@diyml/…` specifier names (tsconfig.json's paths), or undefined for any other specifier. */
function libFile(specifier) {
  const match = /^@diyml\/([a-z-]+)(?:\/(pure|testing)(?:\/(.+)\.js)?)?$/.exec(specifier);
  if (!match) return undefined;
  const [, lib, entry = 'index', testingModule] = match;
  const path = testingModule ? `testing/${testingModule}` : entry === 'testing' ? 'testing/index' : entry;
  return new URL(`libs/${lib}/src/${path}.ts`, ROOT).href;
}

function javascriptOf(path) {
  const source = readFileSync(path, 'utf8');
  const cached = join(CACHE, `${createHash('sha256').update(VERSION).update(path).update(source).digest('hex')}.js`);
  try {
    return readFileSync(cached, 'utf8');
  } catch {
    const { code } = require('esbuild').transformSync(source, { ...OPTIONS, sourcefile: path });
    mkdirSync(CACHE, { recursive: true });
    // Written aside, then renamed: threads that start together never read half a file.
    const partial = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(partial, code);
    renameSync(partial, cached);
    return code;
  }
}

process.setSourceMapsEnabled(true);
registerHooks({
  resolve(specifier, context, nextResolve) {
    const lib = libFile(specifier);
    if (lib) return { url: lib, format: 'module', shortCircuit: true };
    if (context.parentURL?.endsWith('.ts') && /^\.{1,2}\/.*\.js$/.test(specifier)) {
      const typescript = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
      if (existsSync(typescript)) return { url: typescript.href, format: 'module', shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
    return { format: 'module', source: javascriptOf(fileURLToPath(url)), shortCircuit: true };
  },
});
