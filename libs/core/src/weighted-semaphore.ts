/**
 * Work that waits until the work already running leaves room for its weight, first come first served: bounds what
 * work whose cost varies (decoding images, by their pixels) takes at once, whatever the number of requests asking
 * for it. Work heavier than the whole capacity runs alone. (ConcurrencyGate counts runs alike.)
 */
export class WeightedSemaphore {
  private inUse = 0;
  private readonly waiting: Array<{ weight: number; start: () => void }> = [];

  constructor(private readonly capacity: number) {}

  async run<T>(weight: number, work: () => Promise<T>): Promise<T> {
    const taken = Math.min(Math.max(weight, 1), this.capacity);
    await this.acquire(taken);
    try {
      return await work();
    } finally {
      this.release(taken);
    }
  }

  private acquire(weight: number): Promise<void> {
    if (this.waiting.length === 0 && this.inUse + weight <= this.capacity) {
      this.inUse += weight;
      return Promise.resolve();
    }
    return new Promise((start) => this.waiting.push({ weight, start }));
  }

  private release(weight: number): void {
    this.inUse -= weight;
    while (this.waiting.length > 0 && this.inUse + this.waiting[0].weight <= this.capacity) {
      const next = this.waiting.shift()!;
      this.inUse += next.weight;
      next.start();
    }
  }
}
