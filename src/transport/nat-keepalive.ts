/**
 * NAT-keepalives (RFC 3948 2.3, RFC 7296 2.23): when we are behind a NAT, a one-octet 0xFF
 * datagram goes from our NAT-T socket to the peer every interval so the NAT keeps the UDP mapping
 * open while no IKE or ESP traffic flows. The receiver ignores it. The interval is a local
 * matter; 20 s is strongSwan's `keep_alive` default, below the 30 s or more that common NATs keep
 * an idle UDP mapping.
 *
 * Time comes from an injected RxJS scheduler, so tests run it virtually.
 * This sends on a fixed period; it does not skip a keepalive when other traffic went out
 * (RFC 3948 allows either).
 */
import { interval, type SchedulerLike, type Subscription } from 'rxjs';
import type { Endpoint } from '../ports.js';
import { NATT_KEEPALIVE } from '../wire/natt.js';

export const DEFAULT_NAT_KEEPALIVE_INTERVAL_MS = 20_000;

/** Sends bytes as they are (no non-ESP marker): `UdpTransport.sendRaw` fits. */
export type RawSend = (local: Endpoint, remote: Endpoint, bytes: Buffer) => void;

export interface NatKeepaliveOptions {
  readonly scheduler: SchedulerLike;
  readonly send: RawSend;
  readonly intervalMs?: number;
  /** A throwing `send` is reported here and the keepalives go on (UdpTransport.sendRaw never throws). */
  readonly onError?: (error: unknown, remote: Endpoint) => void;
}

const keyOf = (remote: Endpoint): string => `${remote.address}|${remote.port}`;

export class NatKeepalive {
  private readonly timers = new Map<string, Subscription>();
  private readonly intervalMs: number;

  constructor(private readonly options: NatKeepaliveOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULT_NAT_KEEPALIVE_INTERVAL_MS;
    if (!Number.isFinite(this.intervalMs) || this.intervalMs <= 0) throw new RangeError(`keepalive interval must be positive: ${this.intervalMs}`);
  }

  /**
   * Starts (or restarts, e.g. after the local endpoint changed with MOBIKE or a NAT rebinding)
   * keepalives to `remote` from `local`, the NAT-T endpoint. The first one goes one interval from now.
   */
  start(remote: Endpoint, local: Endpoint): void {
    this.stop(remote);
    const from: Endpoint = { address: local.address, port: local.port };
    const to: Endpoint = { address: remote.address, port: remote.port };
    const subscription = interval(this.intervalMs, this.options.scheduler).subscribe(() => this.sendOne(from, to));
    this.timers.set(keyOf(remote), subscription);
  }

  private sendOne(local: Endpoint, remote: Endpoint): void {
    try {
      this.options.send(local, remote, NATT_KEEPALIVE);
    } catch (error) {
      // An error escaping an RxJS subscriber would end the interval and surface as an uncaught exception.
      this.options.onError?.(error, remote);
    }
  }

  stop(remote: Endpoint): void {
    const key = keyOf(remote);
    this.timers.get(key)?.unsubscribe();
    this.timers.delete(key);
  }

  stopAll(): void {
    for (const subscription of this.timers.values()) subscription.unsubscribe();
    this.timers.clear();
  }

  /** Peers we currently keep a NAT mapping open to. */
  active(): Endpoint[] {
    return [...this.timers.keys()].map((key) => {
      const split = key.lastIndexOf('|');
      return { address: key.slice(0, split), port: Number(key.slice(split + 1)) };
    });
  }
}
