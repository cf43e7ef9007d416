/**
 * The `daemon:` section: what the ikekm process binds and where it listens for control clients.
 * The engine's part of it (the NAT-T port) goes into EngineSettings; the rest is for src/daemon.
 */

export interface DaemonSettings {
  /** Addresses to bind the IKE sockets to. */
  readonly listen: readonly string[];
  /** UDP ports: IKE (RFC 7296 2) and NAT traversal (RFC 3948, RFC 7296 2.23). */
  readonly ports: { readonly ike: number; readonly natt: number };
  /** Unix socket of the control protocol (created 0600). */
  readonly control: string;
  /** SA and policy backend; only the in-memory one so far ('xfrm' comes later). */
  readonly kernel: 'memory';
  /** Lets lifetimes under MINIMUM_LIFETIME_SECONDS through (tests and the demo), with a warning. */
  readonly allowShortLifetimes: boolean;
  /** NAT-T keepalive interval (RFC 3948 4): strongSwan's default keep_alive is 20 s. */
  readonly natKeepaliveSeconds: number;
}

export const DEFAULT_DAEMON_SETTINGS: DaemonSettings = Object.freeze({
  listen: Object.freeze(['0.0.0.0', '::']),
  ports: Object.freeze({ ike: 500, natt: 4500 }),
  control: '/run/ikekm/ikekm.sock',
  kernel: 'memory',
  allowShortLifetimes: false,
  natKeepaliveSeconds: 20,
});

/** Kernel backends the loader accepts; extended when src/kernel gains one. */
export const KERNEL_BACKENDS: readonly DaemonSettings['kernel'][] = Object.freeze(['memory']);
