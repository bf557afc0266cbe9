import type { IncomingMessage } from 'node:http';

/** Express matches paths case-insensitively and with an optional trailing slash; a template segment `{x}` is one path segment. */
export function patternOf(template: string): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^${template
      .split(/\{\w+\}/)
      .map(escape)
      .join('[^/]+')}/?$`,
    'i',
  );
}

/** The path Express routes on: of `/path?query`, or of an absolute-form target (`POST http://host/path`). */
export function pathOf(url = '/'): string {
  if (!url.startsWith('/')) return URL.parse(url)?.pathname ?? url;
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** An operation of the api, as its OpenAPI document names it: a method and a path template (`/v1/projects/{projectId}`). */
export interface DocumentedOperation {
  method: string;
  path: string;
}

/** Which operation of a list a request names, as Express would route it (HEAD is served by GET). */
export class OperationMatcher<T extends DocumentedOperation> {
  private readonly compiled: (T & { pattern: RegExp; upperMethod: string })[];

  constructor(operations: readonly T[]) {
    this.compiled = operations.map((operation) => ({
      ...operation,
      upperMethod: operation.method.toUpperCase(),
      pattern: patternOf(operation.path),
    }));
  }

  /** The operation of this method and path, if any. */
  find(method: string | undefined, path: string): T | undefined {
    return this.compiled.find((candidate) => candidate.upperMethod === method && candidate.pattern.test(path));
  }

  /** Whether some operation serves this request: its method (GET for HEAD; any for OPTIONS) on its path. */
  serves(request: IncomingMessage): boolean {
    const path = pathOf(request.url);
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    return this.compiled.some(
      (candidate) => (method === 'OPTIONS' || candidate.upperMethod === method) && candidate.pattern.test(path),
    );
  }
}
