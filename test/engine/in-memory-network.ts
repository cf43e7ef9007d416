/**
 * An in-memory UDP network for engine tests: engines attach at (address, port) and send
 * datagrams that are delivered on the virtual scheduler, with configurable loss, duplication and
 * delay drawn from a seeded PRNG, so every run of a test sees the same impairments.
 *
 * A `rewrite` hook lets a test play NAT (change the source address/port on the way) and a
 * `filter` hook lets it drop chosen datagrams (e.g. "lose the first IKE_AUTH response").
 */
import { createHash } from 'node:crypto';
import type { SchedulerLike } from 'rxjs';
import type { Datagram, Endpoint, NetworkPort } from '../../src/ports.js';

/**
 * A reproducible uniform [0, 1) stream: SHA-256 of (seed, counter). Slower than an arithmetic
 * PRNG but free of the short-range correlations those show when draws come in fixed patterns
 * (loss, duplication, delay per datagram), which a retransmission test would otherwise meet.
 */
export function seededPrng(seed: number): () => number {
  let counter = 0;
  let block = Buffer.alloc(0);
  let offset = 32;
  return () => {
    if (offset + 4 > block.length) {
      block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      offset = 0;
    }
    const value = block.readUInt32BE(offset) / 4294967296;
    offset += 4;
    return value;
  };
}

export interface Impairment {
  /** Probability (0..1) that a datagram is lost. */
  readonly loss?: number;
  /** Probability that a delivered datagram is delivered twice. */
  readonly duplication?: number;
  /** Delivery delay in ms, uniformly in [min, max]. Default 1..5. */
  readonly delayMs?: { readonly min: number; readonly max: number };
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  filtered: number;
  unroutable: number;
}

const key = (e: Endpoint): string => `${e.address}|${e.port}`;

export class InMemoryNetwork {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, duplicated: 0, filtered: 0, unroutable: 0 };
  impairment: Impairment;
  /** Return false to drop the datagram (counted as filtered). */
  filter: ((d: Datagram) => boolean) | undefined;
  /** Change a datagram on its way (e.g. NAT): applied before delivery. */
  rewrite: ((d: Datagram) => Datagram) | undefined;
  /** Every datagram handed to the network, in order (what a capture would see at the sender). */
  readonly trace: Datagram[] = [];
  /** With the trace: what became of each datagram. */
  readonly fates: { atMs: number; datagram: Datagram; fate: 'filtered' | 'lost' | 'sent' | 'delivered' | 'unroutable' }[] = [];
  traceEnabled = false;

  readonly #receivers = new Map<string, (d: Datagram) => void>();
  readonly #random: () => number;

  constructor(
    private readonly scheduler: SchedulerLike,
    options: { readonly seed?: number; readonly impairment?: Impairment } = {},
  ) {
    this.#random = seededPrng(options.seed ?? 1);
    this.impairment = options.impairment ?? {};
  }

  /** Datagrams sent (copies included) that have not arrived yet: 0 when every exchange is answered. */
  get inFlight(): number {
    const { sent, lost, filtered, duplicated, delivered, unroutable } = this.stats;
    return sent - lost - filtered + duplicated - delivered - unroutable;
  }

  /** Registers a receiver for datagrams addressed to `at`. */
  attach(at: Endpoint, receive: (d: Datagram) => void): void {
    this.#receivers.set(key(at), receive);
  }

  detach(at: Endpoint): void {
    this.#receivers.delete(key(at));
  }

  /** The NetworkPort an engine sends through. */
  readonly port: NetworkPort = {
    send: (datagram: Datagram) => this.#send(datagram),
  };

  #delay(): number {
    const { min, max } = this.impairment.delayMs ?? { min: 1, max: 5 };
    return min + Math.floor(this.#random() * (max - min + 1));
  }

  #send(datagram: Datagram): void {
    this.stats.sent++;
    if (this.traceEnabled) this.trace.push(datagram);
    const fate = (f: 'filtered' | 'lost' | 'sent'): void => {
      if (this.traceEnabled) this.fates.push({ atMs: this.scheduler.now(), datagram, fate: f });
    };
    if (this.filter !== undefined && !this.filter(datagram)) {
      this.stats.filtered++;
      fate('filtered');
      return;
    }
    if (this.#random() < (this.impairment.loss ?? 0)) {
      this.stats.lost++;
      fate('lost');
      return;
    }
    fate('sent');
    const copies = this.#random() < (this.impairment.duplication ?? 0) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    // Copy the bytes: the sender may reuse or zero its buffer, a real network would not care.
    const bytes = Buffer.from(datagram.bytes);
    for (let i = 0; i < copies; i++) {
      const delay = this.#delay();
      this.scheduler.schedule(() => this.#deliver({ ...datagram, bytes: Buffer.from(bytes) }), delay);
    }
  }

  #deliver(sent: Datagram): void {
    // What the receiver sees: the datagram arrives at `remote`, coming from `local`.
    const seen = this.rewrite ? this.rewrite(sent) : sent;
    const receive = this.#receivers.get(key(seen.remote));
    if (receive === undefined) {
      this.stats.unroutable++;
      if (this.traceEnabled) this.fates.push({ atMs: this.scheduler.now(), datagram: sent, fate: 'unroutable' });
      return;
    }
    this.stats.delivered++;
    if (this.traceEnabled) this.fates.push({ atMs: this.scheduler.now(), datagram: sent, fate: 'delivered' });
    receive({ local: seen.remote, remote: seen.local, bytes: seen.bytes });
  }
}
