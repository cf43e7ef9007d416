/**
 * Request retransmission, RFC 7296 2.1: the initiator of an exchange retransmits its request
 * until it gets the response or gives up and deletes the IKE SA; the responder never
 * retransmits on a timer (it only answers retransmitted requests).
 *
 * The schedule is strongSwan's, so ikekm and a strongSwan peer behave alike with the same
 * settings (strongSwan's retransmission page: charon.retransmit_timeout = 4.0 s,
 * retransmit_base = 1.8, retransmit_tries = 5):
 * - `tries` counts RETRANSMISSIONS after the original send: tries = 5 means 6 transmissions.
 * - the wait after transmission n (n = 0 for the original) is initialMs × factor^n, capped at
 *   `limitMs` if given (strongSwan's retransmit_limit);
 * - after the last retransmission the exchange waits once more, initialMs × factor^tries, then
 *   gives up.
 * With the defaults: retransmissions at 4, 11.2, 24.16, 47.488, 89.478 s after the original
 * send (waits 4, 7.2, 12.96, 23.328, 41.99 s) and giving up 75.582 s later, at 165.06 s.
 * Delays are whole milliseconds, truncated. strongSwan's optional retransmit_jitter is not
 * modelled here (it would need a RandomPort draw per step).
 */
import { concat, defer, map, type Observable, type SchedulerLike } from 'rxjs';
import { deadline$ } from './deadline.js';

export interface RetransmitOptions {
  /** Wait after the original send, ms. Default 4000 (retransmit_timeout 4.0). */
  readonly initialMs?: number;
  /** Growth of each successive wait. Default 1.8 (retransmit_base). */
  readonly factor?: number;
  /** Retransmissions after the original send before giving up. Default 5 (retransmit_tries). */
  readonly tries?: number;
  /** Upper bound on any single wait, ms (retransmit_limit). Default: none. */
  readonly limitMs?: number;
}

export const RETRANSMIT_DEFAULTS = { initialMs: 4000, factor: 1.8, tries: 5 } as const;

export interface RetransmitSchedule {
  readonly tries: number;
  /**
   * `delaysMs[n]` is the wait after transmission n (0 = the original send): entries 0..tries−1
   * lead to retransmission n+1, the last (index `tries`) leads to giving up.
   */
  readonly delaysMs: readonly number[];
  /** `retransmitAtOffsetsMs[n]`: when retransmission n+1 is due, in ms after the original send. */
  readonly retransmitAtOffsetsMs: readonly number[];
  /** When the exchange is abandoned, in ms after the original send. */
  readonly giveUpAtOffsetMs: number;
}

export function retransmitSchedule(options: RetransmitOptions = {}): RetransmitSchedule {
  const initialMs = options.initialMs ?? RETRANSMIT_DEFAULTS.initialMs;
  const factor = options.factor ?? RETRANSMIT_DEFAULTS.factor;
  const tries = options.tries ?? RETRANSMIT_DEFAULTS.tries;
  const limitMs = options.limitMs ?? Infinity;
  if (!(initialMs > 0 && Number.isFinite(initialMs))) throw new RangeError(`retransmit initialMs ${initialMs} must be > 0`);
  if (!(factor >= 1 && Number.isFinite(factor))) throw new RangeError(`retransmit factor ${factor} must be >= 1`);
  if (!(Number.isInteger(tries) && tries >= 0)) throw new RangeError(`retransmit tries ${tries} must be an integer >= 0`);
  if (!(limitMs > 0)) throw new RangeError(`retransmit limitMs ${limitMs} must be > 0`);

  const delaysMs: number[] = [];
  const offsetsMs: number[] = [];
  let offsetMs = 0;
  for (let n = 0; n <= tries; n++) {
    const exact = Math.min(initialMs * factor ** n, limitMs);
    // Truncate to whole ms. Float powers land a few ulps off (4000 × 1.8^3 = 23328.000000000004);
    // the relative nudge stops a value a few ulps BELOW an integer from losing a whole ms.
    const delayMs = Math.floor(exact * (1 + 1e-12));
    delaysMs.push(delayMs);
    offsetMs += delayMs;
    offsetsMs.push(offsetMs);
  }
  return {
    tries,
    delaysMs,
    retransmitAtOffsetsMs: offsetsMs.slice(0, tries),
    giveUpAtOffsetMs: offsetMs,
  };
}

export type RetransmitStep =
  | { readonly kind: 'retransmit'; readonly attempt: number; readonly delayMs: number; readonly atOffsetMs: number }
  | { readonly kind: 'give-up'; readonly delayMs: number; readonly atOffsetMs: number };

/**
 * The next step after `attempt` retransmissions have been sent (0 right after the original
 * send). `atOffsetMs` is measured from the original send, so a machine keeps
 * `firstSentAtMs + atOffsetMs` in its context as an absolute deadline for the TimerPort;
 * `delayMs` is the same step measured from the previous transmission.
 */
export function nextRetransmit(schedule: RetransmitSchedule, attempt: number): RetransmitStep {
  if (!(Number.isInteger(attempt) && attempt >= 0)) throw new RangeError(`retransmit attempt ${attempt} must be an integer >= 0`);
  if (attempt < schedule.tries) {
    return {
      kind: 'retransmit',
      attempt: attempt + 1,
      delayMs: schedule.delaysMs[attempt] ?? 0,
      atOffsetMs: schedule.retransmitAtOffsetsMs[attempt] ?? 0,
    };
  }
  return { kind: 'give-up', delayMs: schedule.delaysMs[schedule.tries] ?? 0, atOffsetMs: schedule.giveUpAtOffsetMs };
}

export type RetransmitEvent = { readonly type: 'RETRANSMIT'; readonly attempt: number } | { readonly type: 'RETRANSMIT_TIMEOUT' };

/**
 * The schedule as a stream, timed from subscription (= the original send): RETRANSMIT with
 * attempt 1..tries at their offsets, then RETRANSMIT_TIMEOUT, then completion. Unsubscribe when
 * the response arrives. Offsets are absolute from the start, so steps do not accumulate drift.
 */
export function retransmit$(schedule: RetransmitSchedule, scheduler: SchedulerLike): Observable<RetransmitEvent> {
  return defer(() => {
    const sentAtMs = scheduler.now();
    const retransmissions = schedule.retransmitAtOffsetsMs.map((offsetMs, index) =>
      deadline$(sentAtMs + offsetMs, scheduler).pipe(map((): RetransmitEvent => ({ type: 'RETRANSMIT', attempt: index + 1 }))),
    );
    const giveUp = deadline$(sentAtMs + schedule.giveUpAtOffsetMs, scheduler).pipe(
      map((): RetransmitEvent => ({ type: 'RETRANSMIT_TIMEOUT' })),
    );
    return concat(...retransmissions, giveUp);
  });
}
