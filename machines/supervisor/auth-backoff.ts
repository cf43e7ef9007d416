/**
 * Online PSK guessing slowed down (RFC 7296 5 warns that a PSK is exposed to it): after
 * `threshold` failed authentications of peers from one address, new IKE_SA_INIT requests from it
 * are dropped for `baseSeconds`, doubling with each further failure up to `maxSeconds`. A
 * successful authentication from the address forgets it, and so does an hour without failures.
 *
 * Only a peer that completed IKE_SA_INIT (so received our answer at its address) and sent an
 * IKE_AUTH can add an address; still, the table is bounded (least recently failed first out)
 * so that many addresses cannot grow it without end.
 */
export interface AuthBackoffSettings {
  readonly threshold: number;
  readonly baseSeconds: number;
  readonly maxSeconds: number;
}

interface Failures {
  count: number;
  lastMs: number;
  blockedUntilMs: number;
}

/** Failures are forgotten this long after the last one (and after the block it caused). */
export const AUTH_FAILURE_MEMORY_MS = 3_600_000;
export const AUTH_BACKOFF_TABLE_SIZE = 10_000;

export type AuthFailureOutcome = { readonly blockedForMs: number; readonly failures: number } | undefined;

export class AuthBackoff {
  /** In order of the last failure (a Map keeps insertion order): the first is the stalest. */
  private readonly table = new Map<string, Failures>();

  constructor(private readonly capacity = AUTH_BACKOFF_TABLE_SIZE) {}

  get size(): number {
    return this.table.size;
  }

  /** Until when (ms) the address is blocked, or undefined. */
  blockedUntil(address: string, nowMs: number): number | undefined {
    const f = this.table.get(address);
    if (f === undefined) return undefined;
    if (nowMs - Math.max(f.lastMs, f.blockedUntilMs) >= AUTH_FAILURE_MEMORY_MS) {
      this.table.delete(address);
      return undefined;
    }
    return nowMs < f.blockedUntilMs ? f.blockedUntilMs : undefined;
  }

  /** A failed authentication from `address`; says how long it is now blocked, if it is. */
  failed(address: string, nowMs: number, settings: AuthBackoffSettings): AuthFailureOutcome {
    this.blockedUntil(address, nowMs); // forgets a stale entry
    const f = this.table.get(address) ?? { count: 0, lastMs: nowMs, blockedUntilMs: 0 };
    f.count++;
    f.lastMs = nowMs;
    this.table.delete(address);
    this.table.set(address, f);
    while (this.table.size > this.capacity) {
      const stalest = this.table.keys().next().value as string;
      this.table.delete(stalest);
    }
    if (settings.threshold <= 0 || f.count < settings.threshold) return undefined;
    const exponent = Math.min(f.count - settings.threshold, 30);
    const blockedForMs = Math.min(settings.maxSeconds, settings.baseSeconds * 2 ** exponent) * 1000;
    f.blockedUntilMs = nowMs + blockedForMs;
    return { blockedForMs, failures: f.count };
  }

  succeeded(address: string): void {
    this.table.delete(address);
  }

  clear(): void {
    this.table.clear();
  }
}
