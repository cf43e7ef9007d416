/**
 * An RxJS scheduler action kept in an IndexedMinHeap, ordered by (due time, scheduling sequence):
 * what both heap schedulers queue (heap-virtual-scheduler.ts on virtual time, heap-real-scheduler.ts
 * on the wall clock). Re-scheduling moves it in the heap; unsubscribing removes it at once.
 */
import { Subscription, type SchedulerAction } from 'rxjs';
import type { HeapNode } from './indexed-heap.js';

export type Work<T> = (this: SchedulerAction<T>, state?: T) => void;

/** What an action needs from its scheduler; kept off the scheduler's public surface. */
export interface ActionQueue {
  enqueue(action: HeapAction<unknown>, delay: number): void;
  remove(action: HeapAction<unknown>): void;
}

export class HeapAction<T> extends Subscription implements SchedulerAction<T>, HeapNode {
  heapIndex = -1;
  dueMs = 0;
  seq = 0;
  #state: T | undefined;

  constructor(
    private readonly queue: ActionQueue,
    private readonly work: Work<T>,
  ) {
    super();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.#state = state;
    this.queue.enqueue(this as HeapAction<unknown>, delay);
    return this;
  }

  execute(): void {
    this.work.call(this, this.#state);
  }

  override unsubscribe(): void {
    if (this.closed) return;
    this.queue.remove(this as HeapAction<unknown>);
    this.#state = undefined;
    super.unsubscribe();
  }
}

export const precedes = (a: HeapAction<unknown>, b: HeapAction<unknown>): boolean =>
  a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
