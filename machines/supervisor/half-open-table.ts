/**
 * The responder IKE SAs that have not completed IKE_AUTH (RFC 7296 2.6: half-open), with what
 * admission needs of them: how many there are, how many from each address (strongSwan's per-IP
 * cookie and block thresholds) and the memory they hold (each one's IKE_SA_INIT request plus a
 * fixed estimate of its state).
 */
export interface HalfOpenSa {
  readonly address: string;
  readonly bytes: number;
}

/**
 * What a half-open responder costs the process beyond its request: its live state (the XState
 * actor and its context: nonces, SPIs, the DH key pair, the answer it sent; its timers and table
 * entries) is about 16 KB of heap and Buffers (test/engine/half-open-memory.test.ts,
 * bench/intake.bench.ts), but under a flood the resident size grows by 40 to 60 KB per half-open
 * SA (bench/intake.bench.ts, bench:flood): the garbage collector's headroom over a heap that
 * churns, part of it fixed, and OpenSSL's key objects. 40 KiB is counted, so that
 * `halfOpenBudgetBytes` is near what the process grows by.
 */
export const HALF_OPEN_STATE_BYTES = 40 * 1024;

export class HalfOpenTable {
  private readonly byId = new Map<string, HalfOpenSa>();
  private readonly byAddress = new Map<string, number>();
  private total = 0;

  get size(): number {
    return this.byId.size;
  }

  /** Estimated bytes all half-open SAs hold. */
  get bytes(): number {
    return this.total;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  from(address: string): number {
    return this.byAddress.get(address) ?? 0;
  }

  add(id: string, sa: HalfOpenSa): void {
    this.delete(id);
    this.byId.set(id, sa);
    this.byAddress.set(sa.address, this.from(sa.address) + 1);
    this.total += sa.bytes;
  }

  delete(id: string): void {
    const sa = this.byId.get(id);
    if (sa === undefined) return;
    this.byId.delete(id);
    const left = this.from(sa.address) - 1;
    if (left > 0) this.byAddress.set(sa.address, left);
    else this.byAddress.delete(sa.address);
    this.total -= sa.bytes;
  }

  clear(): void {
    this.byId.clear();
    this.byAddress.clear();
    this.total = 0;
  }
}
