import type { Clock } from '../domain/clock.js';
import { type WindowCount, WindowCounts } from './window-counts.port.js';

/** Keys kept at once: an attacker naming a new account or key per attempt must not grow the map without end. */
const DEFAULT_MAX_KEYS = 100_000;

/** Counts kept in this process (the embedded mode, or one api without Redis). */
export class InMemoryWindowCounts extends WindowCounts {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly maxKeys = DEFAULT_MAX_KEYS,
  ) {
    super();
  }

  async record(key: string, windowSeconds: number): Promise<WindowCount> {
    const now = this.clock.now().getTime();
    const current = this.live(key, now);
    const window = current ?? { count: 0, endsAt: now + windowSeconds * 1000 };
    window.count += 1;
    if (!current) this.add(key, window, now);
    return { count: window.count, secondsLeft: Math.ceil((window.endsAt - now) / 1000) };
  }

  async peek(key: string): Promise<WindowCount> {
    const now = this.clock.now().getTime();
    const window = this.live(key, now);
    return window
      ? { count: window.count, secondsLeft: Math.ceil((window.endsAt - now) / 1000) }
      : { count: 0, secondsLeft: 0 };
  }

  async reset(key: string): Promise<void> {
    this.windows.delete(key);
  }

  private live(key: string, now: number) {
    const window = this.windows.get(key);
    if (window && window.endsAt <= now) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }

  /** Adds a window; when full, drops ended windows, then the oldest ones (a Map iterates in insertion order). */
  private add(key: string, window: { count: number; endsAt: number }, now: number): void {
    if (this.windows.size >= this.maxKeys) {
      for (const [other, { endsAt }] of this.windows) if (endsAt <= now) this.windows.delete(other);
      for (const other of this.windows.keys()) {
        if (this.windows.size < this.maxKeys) break;
        this.windows.delete(other);
      }
    }
    this.windows.set(key, window);
  }
}
