import { performance } from 'node:perf_hooks';
import type { Response } from 'express';
import type { Clock } from '@diyml/core/pure';
import type { UsageRecorder } from './usage-recorder.js';

/**
 * Counts the call once its answer is sent: its latency from now, and its error code (the exception filters
 * leave it in `response.locals.errorCode`) when it failed.
 */
export function trackUsage(
  recorder: UsageRecorder,
  clock: Clock,
  response: Response,
  call: { projectId: string; deploymentId: string; callerId: string },
): void {
  const started = performance.now();
  response.once('finish', () => {
    const status = response.statusCode;
    const errorCode = status >= 400 ? String(response.locals.errorCode ?? `HTTP_${status}`) : null;
    recorder.record({ ...call, errorCode, latencyMs: performance.now() - started, at: clock.now() });
  });
}
