/**
 * A token bucket on the machines' clock (virtual in tests): `ratePerSecond` tokens a second,
 * holding at most `burst`. The rate is passed at each take, so a reloaded setting applies at once.
 */
export class TokenBucket {
  private tokens: number | undefined;
  private lastMs = 0;

  /** Takes one token if there is one. */
  take(nowMs: number, ratePerSecond: number, burst = ratePerSecond): boolean {
    if (!(ratePerSecond > 0)) return false;
    const capacity = Math.max(1, burst);
    const elapsed = Math.max(0, nowMs - this.lastMs);
    this.tokens = this.tokens === undefined ? capacity : Math.min(capacity, this.tokens + (elapsed * ratePerSecond) / 1000);
    this.lastMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
