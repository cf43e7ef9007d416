/**
 * The TimerPort the machines use (src/ports.ts), built on an RxJS scheduler so the same code runs
 * on the wall clock in the daemon (HeapRealScheduler) and on a virtual scheduler in tests and
 * replay.
 *
 * - Timers are named per owner (an actor's system id); arming a name that is already armed
 *   replaces it, so a machine can re-arm from its context after a snapshot restore (XState 5
 *   leaves `after` delays out of getPersistedSnapshot(), so they cannot carry deadlines).
 * - Deadlines are absolute on the scheduler's clock. One already past fires on the scheduler's
 *   next turn, never inside `arm`, so the machine executing the arming action is not re-entered.
 * - Deadlines beyond 2^31−1 ms are chunked (see deadline.ts) so Node does not fire them early.
 * - A timer is removed from the service before its event is delivered, so `deliver` may re-arm
 *   the same name (a rekey re-arming itself) without racing the old one.
 * - Same deadline, same owner or not: delivered in the order armed (the scheduler keeps FIFO
 *   among equal due times). For deadlines beyond one clamp chunk the order follows the chunks.
 *
 * The scheduler must be asynchronous (a heap scheduler or asyncScheduler): queueScheduler runs
 * delay-0 work synchronously and would break the "never inside arm" rule.
 */
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import type { ClockPort, TimerEvent, TimerPort } from '../ports.js';
import { MAX_TIMER_DELAY_MS, checkMaxDelay, chunkDelay, deadlineReached } from './deadline.js';

export interface TimerServiceOptions {
  readonly scheduler: SchedulerLike;
  /** Hands a due event to its owner (in the daemon: the actor system's `get(owner).send`). */
  readonly deliver: (owner: string, event: TimerEvent) => void;
  /**
   * Recorder hook, called just before `deliver` for every firing with the
   * deadline the timer was armed for; the firing time itself is `scheduler.now()`, which equals
   * `atMs` on a virtual scheduler and is at or after it on the real one.
   */
  readonly onFire?: (owner: string, name: string, event: TimerEvent, atMs: number) => void;
  /** Longest single delay handed to the scheduler. Default MAX_TIMER_DELAY_MS (Node's limit). */
  readonly maxDelayMs?: number;
}

export interface TimerService extends TimerPort, ClockPort {
  /** Deadline of the armed timer `owner`/`name`, or undefined. */
  deadlineOf(owner: string, name: string): number | undefined;
  /** Armed timers, of one owner or of all. */
  pending(owner?: string): number;
  /** Cancels every timer (daemon shutdown). */
  dispose(): void;
}

/**
 * One armed timer, and the state its scheduler action carries: the action's work is one function
 * per service, not a closure per timer (at 100 000 SAs with several timers each, closures and
 * their contexts were hundreds of bytes per SA).
 */
interface ArmedTimer {
  readonly owner: string;
  readonly name: string;
  readonly atMs: number;
  readonly event: TimerEvent;
  /** The current chunk's scheduler action; replaced when a long deadline is re-armed (deadline.ts). */
  chunk: Subscription | undefined;
}

export function createTimerService(options: TimerServiceOptions): TimerService {
  const { scheduler, deliver, onFire } = options;
  const maxDelayMs = options.maxDelayMs ?? MAX_TIMER_DELAY_MS;
  checkMaxDelay(maxDelayMs);
  // owner → its timers: the per-owner index that makes cancelAll proportional to that owner's
  // timers. A short array, not a Map per owner: an owner holds a handful of timers (an SA one to
  // three, the log summaries one per kind of record), searched by name faster than hashed, and a
  // Map's hash table costs over a hundred bytes per owner (two owners per IKE SA with a Child SA).
  const byOwner = new Map<string, ArmedTimer[]>();
  let total = 0;

  const find = (timers: readonly ArmedTimer[] | undefined, name: string): ArmedTimer | undefined => {
    if (timers === undefined) return undefined;
    for (const t of timers) if (t.name === name) return t;
    return undefined;
  };

  const forget = (armed: ArmedTimer, timers: ArmedTimer[]): void => {
    timers.splice(timers.indexOf(armed), 1);
    total--;
    if (timers.length === 0) byOwner.delete(armed.owner);
  };

  const cancel = (owner: string, name: string): void => {
    const timers = byOwner.get(owner);
    const armed = find(timers, name);
    if (timers === undefined || armed === undefined) return;
    forget(armed, timers);
    armed.chunk?.unsubscribe();
  };

  const arm = (owner: string, name: string, atMs: number, event: TimerEvent): void => {
    if (!Number.isFinite(atMs)) throw new RangeError(`arm ${owner}/${name}: deadline ${atMs} is not finite`);
    cancel(owner, name);
    const armed: ArmedTimer = { owner, name, atMs, event, chunk: undefined };
    const timers = byOwner.get(owner);
    // A new owner's array is made with its first timer: `[]` then push reserves 17 slots.
    if (timers === undefined) byOwner.set(owner, [armed]);
    else timers.push(armed);
    total++;
    // An asynchronous scheduler never runs an action inside `schedule`, so `armed` is in the index
    // before it can fire, and a deadline already past waits for the scheduler's next turn.
    scheduleChunk(armed);
  };

  /** The same chunking as deadline$, without the Observable and Subscriber of an RxJS timer(). */
  const scheduleChunk = (armed: ArmedTimer): void => {
    armed.chunk = scheduler.schedule(runChunk, chunkDelay(armed.atMs, scheduler.now(), maxDelayMs), armed);
  };

  function runChunk(this: SchedulerAction<ArmedTimer>, armed?: ArmedTimer): void {
    if (armed === undefined) return;
    if (!deadlineReached(armed.atMs, scheduler.now())) return scheduleChunk(armed);
    const { owner, name, event, atMs } = armed;
    const current = byOwner.get(owner);
    if (current === undefined || !current.includes(armed)) return; // replaced or cancelled meanwhile
    forget(armed, current);
    onFire?.(owner, name, event, atMs);
    deliver(owner, event);
  }

  const cancelAll = (owner: string): void => {
    const timers = byOwner.get(owner);
    if (timers === undefined) return;
    byOwner.delete(owner);
    total -= timers.length;
    for (const armed of timers) armed.chunk?.unsubscribe();
  };

  return {
    now: () => scheduler.now(),
    arm,
    cancel,
    cancelAll,
    deadlineOf: (owner, name) => find(byOwner.get(owner), name)?.atMs,
    pending: (owner) => (owner === undefined ? total : (byOwner.get(owner)?.length ?? 0)),
    dispose: () => {
      for (const owner of [...byOwner.keys()]) cancelAll(owner);
    },
  };
}
