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
 * At most `limit` runs of some costly work at once in this process; the others wait their turn in arrival order.
 * Bounds the memory and CPU a flood of such requests can take, whoever sends them.
 */
export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** Runs waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` when a slot is free. `signal` aborted while it waits: it leaves the queue at once, rejecting with the
   * signal's reason (its work never runs), so requests whose clients left do not hold those behind them.
   */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.running >= this.limit) await this.turn(signal);
    else this.running += 1;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot take it in between.
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Waits in the queue until a finishing run hands its slot over, or the signal is aborted (then out of the queue). */
  private turn(signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        reject(signal?.reason);
      };
      const take = () => {
        signal?.removeEventListener('abort', leave);
        resolve();
      };
      this.waiting.push(take);
      signal?.addEventListener('abort', leave, { once: true });
    });
  }
}
