import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { existsSync, readFileSync } from 'node:fs';
import { fixedBodyHandler, precompressedFiles } from '@diyml/core';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths the api answers itself, or the console's files: everything else that asks for HTML is a console route. */
const API_PREFIXES = ['/v1/', '/docs', '/health', '/customvision/', '/assets/'];

/** `npm run build` writes the console (apps/console, Vite) to dist/console under the repository root. */
export function consoleDirectory(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(directory, 'package.json'))) {
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return join(directory, 'dist', 'console');
}

/**
 * A navigation to a screen: a GET asking for HTML of a path without a file extension. A missing file
 * (`/assets/gone.js`, `/favicon.ico`) is a 404, not index.html, which a script tag would try to run.
 */
function isConsoleRoute(request: Request): boolean {
  return (
    (request.method === 'GET' || request.method === 'HEAD') &&
    extname(request.path) === '' &&
    !API_PREFIXES.some((prefix) => request.path === prefix.replace(/\/$/, '') || request.path.startsWith(prefix)) &&
    request.accepts(['html', 'json']) === 'html'
  );
}

/**
 * Serves the built console at `/`: hashed assets cached for good, and index.html for every client route
 * (`/projects/…`) so a reload or a shared link opens the right screen. Without a build, nothing is served
 * and the api works as before. Both are read and compressed once (the build does not change while the api runs).
 */
export function serveConsole(app: INestApplication, directory = consoleDirectory()): boolean {
  const index = join(directory, 'index.html');
  if (!existsSync(index)) return false;
  const express = app as NestExpressApplication;
  const cacheForGood = 'public, max-age=31536000, immutable';
  express.use('/assets', precompressedFiles(join(directory, 'assets'), { cacheControl: cacheForGood }));
  express.useStaticAssets(join(directory, 'assets'), {
    prefix: '/assets/',
    immutable: true,
    maxAge: '365d',
    index: false,
  });
  const sendIndex = fixedBodyHandler(readFileSync(index), 'text/html; charset=utf-8');
  express.use((request: Request, response: Response, next: NextFunction) => {
    if (!isConsoleRoute(request)) return next();
    sendIndex(request, response, next);
  });
  return true;
}
