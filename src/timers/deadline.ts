/**
 * One absolute deadline as an observable, safe for any deadline length on any scheduler.
 *
 * Node's setTimeout (which RxJS's asyncScheduler uses) treats a delay above 2^31−1 ms (24.8
 * days) as 1 ms (seen on Node 20), so a 30-day lifetime armed naively fires at once. Here no single
 * scheduled delay exceeds MAX_TIMER_DELAY_MS: a longer wait is cut into chunks and re-armed from
 * the clock until the deadline is reached. The same chunking runs on virtual schedulers, where
 * it costs one extra action per 24.8 days and keeps tests faithful to production.
 */
import { Observable, timer, type SchedulerLike, type Subscription } from 'rxjs';

/** Largest delay Node's timers honour (a signed 32-bit millisecond count). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Emits `atMs` once the scheduler's clock reaches `atMs`, then completes.
 *
 * Never emits synchronously on subscribe: a deadline already past is scheduled with delay 0, so
 * it arrives on the scheduler's next turn. This keeps a machine that arms a timer from inside
 * an action from being re-entered before that action returns.
 *
 * A real clock can read a hair short of the deadline when its timer fires (Node's timers run on
 * a monotonic clock, Date.now() on the wall clock); the remainder is simply re-armed, so the
 * emission never precedes `atMs` on the scheduler's clock.
 */
export function deadline$(atMs: number, scheduler: SchedulerLike, maxDelayMs = MAX_TIMER_DELAY_MS): Observable<number> {
  if (Number.isNaN(atMs)) throw new RangeError('deadline$: deadline is NaN');
  checkMaxDelay(maxDelayMs);
  return new Observable<number>((subscriber) => {
    let chunk: Subscription | undefined;
    const arm = (): void => {
      chunk = timer(chunkDelay(atMs, scheduler.now(), maxDelayMs), scheduler).subscribe(() => {
        if (deadlineReached(atMs, scheduler.now())) {
          subscriber.next(atMs);
          subscriber.complete();
        } else {
          arm();
        }
      });
    };
    arm();
    return () => chunk?.unsubscribe();
  });
}

/** The delay to schedule now towards `atMs`: the remaining time, at least 0, at most `maxDelayMs`. */
export function chunkDelay(atMs: number, nowMs: number, maxDelayMs = MAX_TIMER_DELAY_MS): number {
  return Math.min(Math.max(atMs - nowMs, 0), maxDelayMs);
}

/**
 * Whether a chunk that just fired at `nowMs` completes the wait for `atMs`. Besides `nowMs >=
 * atMs` it accepts a clock that cannot get any closer: when `nowMs + remaining` rounds back to
 * `nowMs` (float addition) re-arming would loop at the same instant forever.
 */
export function deadlineReached(atMs: number, nowMs: number): boolean {
  const remaining = atMs - nowMs;
  return remaining <= 0 || nowMs + remaining === nowMs;
}

export function checkMaxDelay(maxDelayMs: number): void {
  if (!(maxDelayMs >= 1)) throw new RangeError(`maxDelayMs ${maxDelayMs} must be at least 1`);
}
