/**
 * SA lifetimes (RFC 7296 2.8): an IKE SA or Child SA is rekeyed when its soft lifetime runs out
 * and deleted at its hard lifetime. RFC 7296 leaves the values to local policy; ikekm follows
 * what strongSwan users expect (swanctl.conf rekey_time / life_time / rand_time):
 * - rekey (soft) deadline = now + rekeySeconds − a uniform random jitter in [0, jitterSeconds],
 *   so SAs set up together do not all rekey in the same second, and the two peers rarely start
 *   a rekey collision (RFC 7296 2.8.1);
 * - hard deadline = now + lifetimeSeconds, not jittered; default 110 % of rekeySeconds
 *   (strongSwan's life_time default);
 * - jitter default = lifetimeSeconds − rekeySeconds (strongSwan's rand_time default), and never
 *   more than rekeySeconds so the rekey deadline is not in the past.
 * The jitter comes only from the injected RandomPort, so the same draws give the same deadlines
 * (tests script them).
 */
import type { Observable, SchedulerLike } from 'rxjs';
import { concat, map } from 'rxjs';
import type { RandomPort } from '../ports.js';
import { deadline$ } from './deadline.js';

/** Hard lifetime as a multiple of the rekey time when none is given (strongSwan: 110 %). */
export const DEFAULT_HARD_LIFETIME_FACTOR = 1.1;

export interface LifetimePolicy {
  /** Soft lifetime: time until the SA is rekeyed. */
  readonly rekeySeconds: number;
  /** Hard lifetime: time until the SA is deleted. Default rekeySeconds × 1.1. */
  readonly lifetimeSeconds?: number;
  /** Most the rekey may be moved earlier. Default lifetimeSeconds − rekeySeconds. */
  readonly jitterSeconds?: number;
}

export interface LifetimeDeadlines {
  readonly rekeyAtMs: number;
  readonly expireAtMs: number;
}

/**
 * Bytes drawn per jitter. Scaling a 48-bit draw onto n outcomes skews each outcome's chance by
 * at most n / 2^48 relative: under 2^-21 for a 24 h range counted in ms.
 */
const JITTER_DRAW_BYTES = 6;

/**
 * A uniform integer in [0, maxInclusive] from one 48-bit draw of `random`. No draw when
 * maxInclusive is 0 (nothing to choose), so a policy without jitter consumes no randomness.
 */
export function uniformIntInclusive(random: RandomPort, maxInclusive: number): number {
  if (!(Number.isSafeInteger(maxInclusive) && maxInclusive >= 0)) {
    throw new RangeError(`uniformIntInclusive: ${maxInclusive} is not a non-negative safe integer`);
  }
  if (maxInclusive === 0) return 0;
  const bytes = random(JITTER_DRAW_BYTES);
  if (bytes.length < JITTER_DRAW_BYTES) throw new RangeError(`RandomPort returned ${bytes.length} of ${JITTER_DRAW_BYTES} bytes`);
  const fraction = bytes.readUIntBE(0, JITTER_DRAW_BYTES) / 2 ** (8 * JITTER_DRAW_BYTES); // [0, 1)
  return Math.min(maxInclusive, Math.floor(fraction * (maxInclusive + 1)));
}

export function lifetimeDeadlines(policy: LifetimePolicy, nowMs: number, random: RandomPort): LifetimeDeadlines {
  const { rekeySeconds } = policy;
  const lifetimeSeconds = policy.lifetimeSeconds ?? rekeySeconds * DEFAULT_HARD_LIFETIME_FACTOR;
  const jitterSeconds = policy.jitterSeconds ?? lifetimeSeconds - rekeySeconds;
  if (!(rekeySeconds > 0 && Number.isFinite(rekeySeconds))) throw new RangeError(`rekeySeconds ${rekeySeconds} must be > 0`);
  if (!(lifetimeSeconds >= rekeySeconds && Number.isFinite(lifetimeSeconds))) {
    throw new RangeError(`lifetimeSeconds ${lifetimeSeconds} must be >= rekeySeconds ${rekeySeconds}`);
  }
  if (!(jitterSeconds >= 0)) throw new RangeError(`jitterSeconds ${jitterSeconds} must be >= 0`);
  const rekeyMs = Math.round(rekeySeconds * 1000);
  const jitterMs = uniformIntInclusive(random, Math.min(Math.round(jitterSeconds * 1000), rekeyMs));
  return {
    rekeyAtMs: nowMs + rekeyMs - jitterMs,
    expireAtMs: nowMs + Math.round(lifetimeSeconds * 1000),
  };
}

export type LifetimeEvent = { readonly type: 'SOFT_EXPIRE' } | { readonly type: 'HARD_EXPIRE' };

/** The lifetime events: one object each, shared by every timer armed with them (memory per SA). */
export const SOFT_EXPIRE = Object.freeze({ type: 'SOFT_EXPIRE' } as const);
export const HARD_EXPIRE = Object.freeze({ type: 'HARD_EXPIRE' } as const);

/** SOFT_EXPIRE at the rekey deadline, HARD_EXPIRE at the hard one, then completion. */
export function lifetime$(deadlines: LifetimeDeadlines, scheduler: SchedulerLike): Observable<LifetimeEvent> {
  return concat(
    deadline$(deadlines.rekeyAtMs, scheduler).pipe(map((): LifetimeEvent => SOFT_EXPIRE)),
    deadline$(deadlines.expireAtMs, scheduler).pipe(map((): LifetimeEvent => HARD_EXPIRE)),
  );
}

/**
 * Byte lifetimes of a Child SA (RFC 7296 2.8: rekey at the soft limit, delete at the hard one).
 * Counted by the kernel (KernelPort.usage); an absent limit means "no limit".
 */
export interface ByteLimits {
  readonly softBytes?: number;
  readonly hardBytes?: number;
}

/**
 * Completes a byte-lifetime policy: with only a soft limit the hard one is 110 % of it (the
 * same rule as the time lifetimes), with only a hard limit there is no byte-triggered rekey.
 */
export function byteLifetime(limits: ByteLimits): ByteLimits {
  const { softBytes } = limits;
  const hardBytes = limits.hardBytes ?? (softBytes === undefined ? undefined : Math.floor(softBytes * DEFAULT_HARD_LIFETIME_FACTOR));
  for (const [what, value] of [['softBytes', softBytes], ['hardBytes', hardBytes]] as const) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value > 0)) throw new RangeError(`${what} ${value} must be a positive integer`);
  }
  if (softBytes !== undefined && hardBytes !== undefined && softBytes > hardBytes) {
    throw new RangeError(`softBytes ${softBytes} exceeds hardBytes ${hardBytes}`);
  }
  return { ...(softBytes === undefined ? {} : { softBytes }), ...(hardBytes === undefined ? {} : { hardBytes }) };
}

export type ByteExpiry = 'none' | 'soft' | 'hard';

/** Which byte limit a usage sample has reached ('hard' wins when both are). Pure: the caller polls. */
export function byteExpiry(usageBytes: number, limits: ByteLimits): ByteExpiry {
  if (limits.hardBytes !== undefined && usageBytes >= limits.hardBytes) return 'hard';
  if (limits.softBytes !== undefined && usageBytes >= limits.softBytes) return 'soft';
  return 'none';
}
