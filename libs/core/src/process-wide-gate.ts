/// <reference lib="es2024.sharedmemory" />
import { getEnvironmentData, setEnvironmentData, threadId } from 'node:worker_threads';

/** The environment data key of the gates' shared buffers, by name: every worker thread started later gets them. */
const GATES_KEY = 'diyml:process-wide-gates';
/** Threads of a process that may take part in one gate at once; each keeps a slot until it stops. */
const THREAD_SLOTS = 128;
/** A waiting thread looks again this often even without a notification (it also keeps its event loop alive). */
const RECHECK_MS = 250;

// The buffer's Int32 fields: the capacity, a counter bumped at each change waiters wake on, the ticket dispenser,
// then one slot per thread: its owner (threadId + 1; 0 = free), the weight it holds, the ticket its first waiting
// run waits with (0 = none).
const CAPACITY = 0;
const CHANGES = 1;
const TICKETS = 2;
const SLOTS_START = 4;
const SLOT_FIELDS = 3;
const OWNER = 0;
const HELD = 1;
const WAITING = 2;
/** Weights are added up in Int32 slots: a capacity this small leaves room for a run's tentative weight. */
const MAX_CAPACITY = 2 ** 29;

function sharedGates(): Map<string, SharedArrayBuffer> {
  return (getEnvironmentData(GATES_KEY) as Map<string, SharedArrayBuffer> | undefined) ?? new Map();
}

/** Whether ticket `a` was given before ticket `b` (tickets wrap around the Int32 range). */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

interface WaitingRun {
  weight: number;
  start: () => void;
  /** Left the queue (its signal was aborted): its turn is passed on. */
  left: boolean;
}

/**
 * A ConcurrencyGate whose capacity all threads of the process share: at most `capacity` weight of some costly work
 * at once, whichever threads run it, so a worker thread does not add a budget of its own to the main thread's.
 * Runs wait in arrival order across the threads (a heavy run is not overtaken by lighter ones that would fit), and
 * waiting never blocks an event loop. What a thread holds or waits for is given back when it stops, crashed or
 * terminated mid-run, if it was started through `startWorkerThread`.
 *
 * The counts live in a SharedArrayBuffer that the first thread to name the gate creates and that every worker
 * thread started after that inherits (worker_threads environment data): name it in the main thread before starting
 * the workers (at module load), or a worker started earlier makes a budget of its own.
 */
export class ProcessWideGate {
  private readonly shared: Int32Array;
  private readonly capacity: number;
  private slot = -1;
  private readonly waiting: WaitingRun[] = [];
  private admitting = false;

  private constructor(buffer: SharedArrayBuffer) {
    this.shared = new Int32Array(buffer);
    this.capacity = Atomics.load(this.shared, CAPACITY);
  }

  /** The gate called `name` in this process, made with `capacity` by the first thread that names it. */
  static named(name: string, capacity: number): ProcessWideGate {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) {
      throw new RangeError(
        `a process-wide gate's capacity is a whole number from 1 to ${MAX_CAPACITY}, not ${capacity}`,
      );
    }
    const gates = sharedGates();
    let buffer = gates.get(name);
    if (!buffer) {
      buffer = new SharedArrayBuffer((SLOTS_START + THREAD_SLOTS * SLOT_FIELDS) * Int32Array.BYTES_PER_ELEMENT);
      Atomics.store(new Int32Array(buffer), CAPACITY, capacity);
      setEnvironmentData(GATES_KEY, new Map(gates).set(name, buffer));
    }
    const gate = new ProcessWideGate(buffer);
    if (gate.capacity !== capacity) {
      throw new Error(`the process-wide gate "${name}" was made with capacity ${gate.capacity}, not ${capacity}`);
    }
    return gate;
  }

  /** Weight held by the runs of all threads. */
  get inUse(): number {
    let total = 0;
    for (let slot = 0; slot < THREAD_SLOTS; slot++) total += Atomics.load(this.shared, field(slot, HELD));
    return total;
  }

  /**
   * Runs `work` when there is room for its weight (1 by default; work heavier than the capacity runs alone).
   * `signal` aborted while it waits: it leaves the queue at once, rejecting with the signal's reason.
   */
  async run<T>(work: () => Promise<T>, options: { signal?: AbortSignal; weight?: number } = {}): Promise<T> {
    const { signal } = options;
    signal?.throwIfAborted();
    const weight = Math.min(Math.max(Math.ceil(options.weight ?? 1), 1), this.capacity);
    await this.turn(weight, signal);
    try {
      return await work();
    } finally {
      this.giveBack(weight);
    }
  }

  private giveBack(weight: number): void {
    Atomics.sub(this.shared, field(this.slot, HELD), weight);
    this.changed();
  }

  /** Waits in this thread's queue, whose first run waits in the process's, until its weight is taken. */
  private turn(weight: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(run), 1);
        run.left = true;
        reject(signal?.reason);
        // Wakes this thread's first run if it was this one, so that it passes its turn on.
        this.changed();
      };
      const run: WaitingRun = {
        weight,
        left: false,
        start: () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        },
      };
      this.waiting.push(run);
      signal?.addEventListener('abort', leave, { once: true });
      if (!this.admitting) void this.admit();
    });
  }

  /** Takes the room of this thread's waiting runs, first to last, each in its turn among all threads' runs. */
  private async admit(): Promise<void> {
    this.admitting = true;
    try {
      while (this.waiting.length > 0) {
        const run = this.waiting[0];
        if (!(await this.take(run))) continue;
        // Its signal may have been aborted between the taking and this turn: the weight is given back.
        if (run.left) this.giveBack(run.weight);
        else {
          this.waiting.shift();
          run.start();
        }
      }
    } finally {
      this.admitting = false;
    }
  }

  /** Takes `run`'s weight once no earlier ticket waits and it fits; false if the run left the queue meanwhile. */
  private async take(run: WaitingRun): Promise<boolean> {
    // The slot claimed and the ticket taken at once (unless every slot is taken): in the order runs asked, across
    // threads too.
    if (this.slot < 0 && !this.claimSlot()) await this.slotFreed();
    const slot = this.slot;
    const waiting = field(slot, WAITING);
    const held = field(slot, HELD);
    let ticket = (Atomics.add(this.shared, TICKETS, 1) + 1) | 0;
    if (ticket === 0) ticket = (Atomics.add(this.shared, TICKETS, 1) + 1) | 0;
    Atomics.store(this.shared, waiting, ticket);
    let seen = Atomics.load(this.shared, CHANGES);
    for (; ; seen = Atomics.load(this.shared, CHANGES)) {
      if (run.left) {
        Atomics.store(this.shared, waiting, 0);
        this.changed();
        return false;
      }
      if (this.isFirst(ticket)) {
        // Added, then the total read: of two threads adding at once, the later one sees both weights.
        Atomics.add(this.shared, held, run.weight);
        const fits = this.inUse <= this.capacity;
        if (fits) Atomics.store(this.shared, waiting, 0);
        else Atomics.sub(this.shared, held, run.weight);
        // Either the next ticket's turn, or the room a thread may have seen taken by this try is back.
        const ownChange = this.changed();
        if (fits) return true;
        // Another change came while this run tried: it looks again at once, else waits for the next one.
        if (ownChange !== ((seen + 1) | 0)) continue;
        seen = ownChange;
      }
      await this.nextChange(seen);
    }
  }

  /** Whether no other thread waits with an earlier ticket. */
  private isFirst(ticket: number): boolean {
    for (let slot = 0; slot < THREAD_SLOTS; slot++) {
      const other = Atomics.load(this.shared, field(slot, WAITING));
      if (slot !== this.slot && other !== 0 && before(other, ticket)) return false;
    }
    return true;
  }

  /** Claims a free slot for this thread; false while every slot is taken. */
  private claimSlot(): boolean {
    for (let slot = 0; slot < THREAD_SLOTS && this.slot < 0; slot++) {
      if (Atomics.compareExchange(this.shared, field(slot, OWNER), 0, threadId + 1) === 0) this.slot = slot;
    }
    return this.slot >= 0;
  }

  /** Waits until a slot is free for this thread, and claims it. */
  private async slotFreed(): Promise<void> {
    for (;;) {
      const seen = Atomics.load(this.shared, CHANGES);
      if (this.claimSlot()) return;
      await this.nextChange(seen);
    }
  }

  /** Wakes the threads waiting for a change; the change counter's new value. */
  private changed(): number {
    const changes = (Atomics.add(this.shared, CHANGES, 1) + 1) | 0;
    Atomics.notify(this.shared, CHANGES);
    return changes;
  }

  /** Resolves once the change counter is no longer `seen`, or after RECHECK_MS. */
  private nextChange(seen: number): Promise<void> {
    return new Promise<void>((resolve) => {
      // Atomics.waitAsync alone does not keep a thread's event loop running: the timer does.
      const recheck = setTimeout(resolve, RECHECK_MS);
      const wait = Atomics.waitAsync(this.shared, CHANGES, seen, RECHECK_MS);
      const woken = () => {
        clearTimeout(recheck);
        resolve();
      };
      if (wait.async) void wait.value.then(woken);
      else woken();
    });
  }
}

function field(slot: number, offset: number): number {
  return SLOTS_START + slot * SLOT_FIELDS + offset;
}

/**
 * Gives back what the thread `stoppedThreadId` held or waited for in every process-wide gate this thread knows, and
 * frees its slots: called once a worker thread has stopped, however it stopped.
 */
export function releaseThreadShares(stoppedThreadId: number): void {
  for (const buffer of sharedGates().values()) {
    const shared = new Int32Array(buffer);
    let released = false;
    for (let slot = 0; slot < THREAD_SLOTS; slot++) {
      if (Atomics.load(shared, field(slot, OWNER)) !== stoppedThreadId + 1) continue;
      Atomics.store(shared, field(slot, HELD), 0);
      Atomics.store(shared, field(slot, WAITING), 0);
      Atomics.store(shared, field(slot, OWNER), 0);
      released = true;
    }
    if (released) {
      Atomics.add(shared, CHANGES, 1);
      Atomics.notify(shared, CHANGES);
    }
  }
}
