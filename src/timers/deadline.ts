/**
 * One absolute deadline as an observable, safe for any deadline length on any scheduler.
 *
 * Node's setTimeout (which RxJS's asyncScheduler uses) treats a delay above 2^31−1 ms (24.8
 * days) as 1 ms (STACK.md), so a 30-day lifetime armed naively fires at once. Here no single
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
  if (!(maxDelayMs >= 1)) throw new RangeError(`deadline$: maxDelayMs ${maxDelayMs} must be at least 1`);
  return new Observable<number>((subscriber) => {
    let chunk: Subscription | undefined;
    const arm = (): void => {
      const nowMs = scheduler.now();
      const remaining = atMs - nowMs;
      chunk = timer(Math.min(Math.max(remaining, 0), maxDelayMs), scheduler).subscribe(() => {
        const left = atMs - scheduler.now();
        // The second test stops a fractional deadline from looping when `now + left` rounds back
        // to `now` (float addition); the clock cannot get any closer than that.
        if (left <= 0 || scheduler.now() + left === scheduler.now()) {
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
