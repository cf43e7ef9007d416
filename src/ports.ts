/**
 * Ports: the only ways the engine reaches the world. The daemon passes real implementations
 * (UDP sockets, the RxJS timer service on the async scheduler, the kernel backend, pino); tests
 * pass virtual ones. The machines read the clock and randomness through
 * these and act only through effects (machines/effects.ts) that the engine's interpreter carries
 * out over them; no machine imports `node:dgram`, `node:crypto` randomness or `Date.now()`.
 */
import type { RandomPort } from './crypto/types.js';

export type { RandomPort };

/** An IP address in textual form (`192.0.2.1`, `2001:db8::1`) and a UDP port. */
export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/**
 * One IKE datagram. `bytes` is the IKE message itself: on the NAT-T port the transport adds
 * and strips the 4-octet non-ESP marker (RFC 3948 2.2), so machines never see it.
 */
export interface Datagram {
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly bytes: Buffer;
}

export interface NetworkPort {
  send(datagram: Datagram): void;
}

/** Milliseconds on the scheduler's clock (wall clock in the daemon, virtual in tests). */
export interface ClockPort {
  now(): number;
}

/**
 * How busy the process is: the share of the last moments its event loop spent working rather
 * than waiting for input, 0..1 (src/daemon/event-loop-load.ts in the daemon; 0 in tests). In one
 * thread, DH work for new negotiations and reading the sockets compete: admission stops taking on
 * new DH work while the loop has no time to spare (machines/supervisor/admission.ts).
 */
export interface LoadPort {
  utilization(): number;
}

/** An event the timer service delivers back to the machine that armed it. */
export interface TimerEvent {
  readonly type: string;
}

/**
 * Named one-shot timers per owner (an actor's system id). Re-arming a name replaces it; the
 * service delivers `event` to `owner` when `atMs` (on the ClockPort's clock) is reached.
 * Deadlines are absolute so a machine can keep them in its context and a restored snapshot
 * re-arms them (XState's own `after` delays are not part of a persisted snapshot).
 */
export interface TimerPort {
  arm(owner: string, name: string, atMs: number, event: TimerEvent): void;
  cancel(owner: string, name: string): void;
  cancelAll(owner: string): void;
}

/** What a machine logs through: pino-compatible, already bound to connection and SPIs by the caller. */
export interface LogPort {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
  child(bindings: object): LogPort;
  /**
   * Whether a record at `level` would be written (pino's own method). A writer asks first, so a
   * record below the level costs no child logger and no formatting; a port without it gets every
   * record.
   */
  isLevelEnabled?(level: string): boolean;
}
