import Module from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

type ThrottlerPackage = typeof import('@nestjs/throttler');
type NodeModuleLoader = {
  _load(request: string, parent: { filename: string; paths: string[] }, isMain: boolean): unknown;
  _nodeModulePaths(directory: string): string[];
};

/**
 * @nestjs/throttler 6 is published as CommonJS that require()s the ES-module @nestjs/common. Node >= 20.19
 * loads that natively (and shares the app's one @nestjs/common), but Jest 30's module registry refuses to
 * require an ES module (on Node 24 too: a plain import fails with a require-cycle error), so the package is loaded
 * through Node's own module loader, which Jest does not route through its registry. In the app this is exactly
 * `require('@nestjs/throttler')`. Nothing here relies on the package's classes being the app's: the guard throws
 * the app's own error for 429.
 */
const loader = Module as unknown as NodeModuleLoader;
const here = fileURLToPath(import.meta.url);
const throttler = loader._load(
  '@nestjs/throttler',
  { filename: here, paths: loader._nodeModulePaths(dirname(here)) },
  false,
) as ThrottlerPackage;

export const { ThrottlerGuard } = throttler;
