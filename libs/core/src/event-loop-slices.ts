/** How long a long loop runs before it lets other callbacks (other requests, /health) have the event loop. */
export const EVENT_LOOP_SLICE_MS = 20;

/** Loops waiting for their next slice, in arrival order. */
const waitingForSlice: (() => void)[] = [];
let servingSlices = false;

/**
 * Resolves at a later event-loop turn, one waiting loop per turn: ten long loops then hold the event loop no longer
 * per turn than one, instead of each running its own slice back to back while /health waits for the next turn.
 */
function nextSlice(): Promise<void> {
  return new Promise((resolve) => {
    waitingForSlice.push(resolve);
    if (!servingSlices) {
      servingSlices = true;
      setImmediate(serveOneSlice);
    }
  });
}

function serveOneSlice(): void {
  // The loop resumes in this callback's microtasks, before the next turn's I/O.
  waitingForSlice.shift()?.();
  if (waitingForSlice.length) setImmediate(serveOneSlice);
  else servingSlices = false;
}

/**
 * Cuts a long synchronous-looking loop (reading thousands of streams from the embedded event store, applying their
 * events to projections: each step a resolved promise, so the loop never gave the event loop back) into slices of
 * `sliceMs`: call `await slices.breathe()` between steps. A project of 15,000 images held every other request for
 * 3 s per `asOf` query or export before. The slices of all such loops in the process take turns, one per event-loop
 * turn.
 */
export class EventLoopSlices {
  private sliceStarted = performance.now();

  constructor(
    private readonly sliceMs = EVENT_LOOP_SLICE_MS,
    /** Aborted: the loop stops at its next step (`breathe` rejects with the signal's reason), e.g. its client left. */
    private readonly signal?: AbortSignal,
  ) {}

  /**
   * Gives the event loop back once the current slice has run `sliceMs`, until this loop's next turn; resolves at
   * once otherwise. Rejects with the reason once the signal is aborted.
   */
  async breathe(): Promise<void> {
    this.signal?.throwIfAborted();
    if (performance.now() - this.sliceStarted < this.sliceMs) return;
    await nextSlice();
    this.signal?.throwIfAborted();
    this.sliceStarted = performance.now();
  }
}

/**
 * At most `capacity` of some costly work at once in this process; the rest waits its turn in arrival order. Each run
 * takes its `weight` of the capacity (1 by default: then `capacity` runs at once), so work whose cost varies (decoding
 * images, by their pixels) is bounded by what it costs, whatever the number of requests asking for it; work heavier
 * than the whole capacity runs alone. Bounds the memory and CPU a flood of such requests can take, whoever sends them.
 */
export class ConcurrencyGate {
  private inUse = 0;
  private readonly waiting: { weight: number; start: () => void }[] = [];

  constructor(private readonly capacity: number) {}

  /** Runs waiting for room. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` when there is room for its weight. `signal` aborted while it waits: it leaves the queue at once,
   * rejecting with the signal's reason (its work never runs), so requests whose clients left do not hold those behind
   * them.
   */
  async run<T>(work: () => Promise<T>, options: { signal?: AbortSignal; weight?: number } = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    const weight = Math.min(Math.max(options.weight ?? 1, 1), this.capacity);
    // Nothing overtakes a waiting run, even work light enough to fit beside the running ones.
    if (this.waiting.length === 0 && this.inUse + weight <= this.capacity) this.inUse += weight;
    else await this.turn(weight, signal);
    try {
      return await work();
    } finally {
      this.inUse -= weight;
      this.startWaiting();
    }
  }

  /** Starts the waiting runs from the front of the queue while they fit. */
  private startWaiting(): void {
    while (this.waiting.length > 0 && this.inUse + this.waiting[0].weight <= this.capacity) {
      const next = this.waiting.shift()!;
      this.inUse += next.weight;
      next.start();
    }
  }

  /** Waits in the queue until its weight fits, or the signal is aborted (then out of the queue). */
  private turn(weight: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(signal?.reason);
        // The run that left may have held back lighter ones behind it.
        this.startWaiting();
      };
      const entry = {
        weight,
        start: () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        },
      };
      this.waiting.push(entry);
      signal?.addEventListener('abort', leave, { once: true });
    });
  }
}
