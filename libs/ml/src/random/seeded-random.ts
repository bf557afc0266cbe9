/**
 * Deterministic pseudo-random numbers (mulberry32): the same seed yields the same sequence on every platform,
 * which makes shuffling, augmentation and weight initialisation reproducible.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A float in [min, max). */
  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [0, maxExclusive). */
  integer(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  /** A 32-bit seed for a dependent generator (for example a layer initializer). */
  nextSeed(): number {
    return Math.floor(this.next() * 2147483647);
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.integer(i + 1);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  }
}
