/**
 * A weighted semaphore over pixels: work on an image waits until the images already being worked on leave room for
 * its pixels (first come, first served). Decoding costs memory by the pixel, not by the byte: a 43-byte GIF or a
 * 914-byte TIFF declaring 7,200 × 7,200 pixels (under PREDICT_MAX_PIXELS) decodes to ~150 MB, and eight sent at
 * once raised the api's memory by 1.2-1.7 GB. An image larger than the whole budget takes all of it.
 */
export class PixelBudget {
  private inUse = 0;
  private readonly waiting: Array<{ weight: number; start: () => void }> = [];

  constructor(private readonly capacity: number) {}

  async run<T>(pixels: number, work: () => Promise<T>): Promise<T> {
    const weight = Math.min(Math.max(pixels, 1), this.capacity);
    await this.acquire(weight);
    try {
      return await work();
    } finally {
      this.release(weight);
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
