/**
 * An RxJS scheduler on the wall clock whose queue is the same binary heap as the virtual one's
 * (heap-action.ts), with one Node timer for the earliest action. RxJS's asyncScheduler gives
 * every action its own setInterval: at 100 000 SAs, with a rekey, an expiry and a liveness timer
 * each, that is hundreds of thousands of Node timer objects (memory per SA) and a
 * setInterval/clearInterval pair per re-arm (CPU per event). Here scheduling and cancelling are
 * O(log n) on the heap, and the Node timer moves only when the earliest deadline does.
 *
 * Semantics, as asyncScheduler's where the engine depends on them:
 * - nothing runs inside `schedule`; work runs from a timer callback, on a later macrotask;
 * - work due at the same time runs in the order it was (re)scheduled;
 * - work scheduled while a batch runs waits for the next callback, even with delay 0, so I/O is
 *   read between batches;
 * - an action that throws is closed and the error reaches the process (an uncaught exception),
 *   after the rest of the batch has run and the timer is armed again.
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import { HeapAction, precedes, type ActionQueue, type Work } from './heap-action.js';
import { IndexedMinHeap } from './indexed-heap.js';

/** Node's setTimeout fires at once above 2^31−1 ms; a later head is reached in steps. */
const MAX_NODE_DELAY_MS = 2 ** 31 - 1;

export class HeapRealScheduler implements SchedulerLike {
  #seq = 0;
  readonly #heap = new IndexedMinHeap<HeapAction<unknown>>(precedes);
  #timer: NodeJS.Timeout | undefined;
  /** The due time the Node timer is set for (Infinity when none is). */
  #timerDueMs = Infinity;
  #running = false;
  readonly #queue: ActionQueue = {
    enqueue: (action, delay) => {
      this.#heap.remove(action);
      action.dueMs = this.now() + (delay > 0 ? delay : 0);
      action.seq = this.#seq++;
      this.#heap.push(action);
      if (!this.#running && action.dueMs < this.#timerDueMs) this.#arm();
    },
    // A timer left set for a removed head fires, finds nothing due and re-arms: cheaper than
    // moving the Node timer on every cancel. An empty queue holds no timer, so the process can
    // exit once every timer is cancelled (as with asyncScheduler).
    remove: (action) => {
      this.#heap.remove(action);
      if (this.#heap.size === 0 && !this.#running) this.close();
    },
  };

  constructor(private readonly clock: () => number = Date.now) {}

  now(): number {
    return this.clock();
  }

  schedule<T>(work: Work<T>, delay = 0, state?: T): Subscription {
    return new HeapAction<T>(this.#queue, work).schedule(state, delay);
  }

  /** Actions waiting in the queue. */
  get pending(): number {
    return this.#heap.size;
  }

  /** Stops the Node timer (the queue stays): nothing runs until something is scheduled again. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    const head = this.#heap.peek();
    if (head === undefined) {
      this.#timer = undefined;
      this.#timerDueMs = Infinity;
      return;
    }
    this.#timerDueMs = head.dueMs;
    this.#timer = setTimeout(() => this.#fire(), Math.min(MAX_NODE_DELAY_MS, Math.max(0, head.dueMs - this.now())));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDueMs = Infinity;
    this.#running = true;
    const nowMs = this.now();
    // Only what was queued before this batch: work it schedules waits for the next macrotask.
    const batchEnd = this.#seq;
    let failure: { error: unknown } | undefined;
    try {
      for (let next = this.#heap.peek(); next !== undefined && next.dueMs <= nowMs && next.seq < batchEnd; next = this.#heap.peek()) {
        this.#heap.remove(next);
        try {
          next.execute();
        } catch (error) {
          next.unsubscribe();
          failure ??= { error };
        }
      }
    } finally {
      this.#running = false;
      this.#arm();
    }
    if (failure !== undefined) throw failure.error;
  }
}
