import type { TestApp } from './test-app.js';

export interface AttackReport<T> {
  result: T;
  /** The slowest GET /health answer while the attack ran (ms). */
  slowestHealthMs: number;
  healthProbes: number;
  /** Highest resident memory of the process during the attack, above what it was before (bytes). */
  rssGrowthBytes: number;
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
    return { result, slowestHealthMs: slowest, healthProbes: probes, rssGrowthBytes: peak - baseline };
  } finally {
    done = true;
    clearInterval(sampler);
    await prober;
  }
}
