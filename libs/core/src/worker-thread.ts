import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on a module. Built code runs the `.js` file directly; when the caller runs from
 * TypeScript sources (the test suite), the thread first registers tsx so it can load `.ts` modules.
 * `preload` names packages the thread imports before tsx is registered: a large one (h5wasm) loads in
 * seconds natively but takes over a minute through tsx, and the module is then found loaded.
 */
export function startWorkerThread(entry: URL, options: WorkerOptions = {}, preload: string[] = []): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  // An eval'd worker resolves bare specifiers from the working directory: the project root under test.
  const preloaded = `Promise.all(${JSON.stringify(preload)}.map((name) => import(name)))`;
  const bootstrap = `${preloaded}.then(() => import('tsx/esm/api')).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** The sibling module of `importMetaUrl` named `name`, with the extension the caller itself runs with. */
export function siblingModule(importMetaUrl: string, name: string): URL {
  const extension = importMetaUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, importMetaUrl);
}
