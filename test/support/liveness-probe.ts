import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TestApp } from './test-app.js';

export interface AttackReport<T> {
  result: T;
  /** The slowest GET /health answer while the attack ran (ms). */
  slowestHealthMs: number;
  healthProbes: number;
  /** Highest resident memory of the process during the attack, above what it was before (bytes). */
  rssGrowthBytes: number;
  /** The longest the event loop was held up during the attack (ms). */
  longestEventLoopDelayMs: number;
}

/**
 * Runs an attack while asking GET /health every 50 ms and sampling the process's RSS: the api (in this
 * process) must keep answering, and its memory must stay bounded. A liveness check with generous bounds, not
 * a speed measurement.
 */
export async function underAttack<T>(testApp: TestApp, attack: () => Promise<T>): Promise<AttackReport<T>> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  let slowest = 0;
  let probes = 0;
  let done = false;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const prober = (async () => {
    while (!done) {
      const started = performance.now();
      await testApp.http.get('/health').expect(200);
      slowest = Math.max(slowest, performance.now() - started);
      probes += 1;
      peak = Math.max(peak, process.memoryUsage.rss());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  try {
    const result = await attack();
    return {
      result,
      slowestHealthMs: slowest,
      healthProbes: probes,
      rssGrowthBytes: peak - baseline,
      longestEventLoopDelayMs: delay.max / 1e6,
    };
  } finally {
    delay.disable();
    done = true;
    clearInterval(sampler);
    await prober;
  }
}

/**
 * Fails naming every figure when the api froze longer than `healthBoundMs` (a /health answer, or the event loop
 * held up: a probe waiting on a timer would not see a freeze) or grew more than `rssBoundBytes`.
 */
export function expectStayedLive(report: AttackReport<unknown>, healthBoundMs: number, rssBoundBytes: number): void {
  const figures =
    `slowest /health ${Math.round(report.slowestHealthMs)} ms over ${report.healthProbes} probes, longest event-loop delay ` +
    `${Math.round(report.longestEventLoopDelayMs)} ms, RSS +${Math.round(report.rssGrowthBytes / 1024 / 1024)} MiB`;
  const froze = report.slowestHealthMs >= healthBoundMs || report.longestEventLoopDelayMs >= healthBoundMs;
  if (report.healthProbes === 0 || froze || report.rssGrowthBytes >= rssBoundBytes) {
    throw new Error(
      `The api did not stay live under attack (bounds ${healthBoundMs} ms, ${Math.round(rssBoundBytes / 1024 / 1024)} MiB): ${figures}`,
    );
  }
}
