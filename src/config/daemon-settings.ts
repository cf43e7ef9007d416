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
  /**
   * Where the SAs and policies go: 'xfrm', the Linux kernel (what protects traffic: the default,
   * needs CAP_NET_ADMIN), or 'memory', kept in the process and carrying nothing (the demo, tests).
   */
  readonly kernel: KernelBackendName;
  /** Lets lifetimes under MINIMUM_LIFETIME_SECONDS through (tests and the demo), with a warning. */
  readonly allowShortLifetimes: boolean;
  /** NAT-T keepalive interval (RFC 3948 4): strongSwan's default keep_alive is 20 s. */
  readonly natKeepaliveSeconds: number;
}

/** The kernel backends the daemon can run on (src/daemon/kernel-backend.ts opens them). */
export type KernelBackendName = 'xfrm' | 'memory';

export const DEFAULT_DAEMON_SETTINGS: DaemonSettings = Object.freeze({
  listen: Object.freeze(['0.0.0.0', '::']),
  ports: Object.freeze({ ike: 500, natt: 4500 }),
  control: '/run/ikekm/ikekm.sock',
  // A VPN daemon that negotiated SAs but protected no traffic would surprise whoever runs it.
  kernel: 'xfrm',
  allowShortLifetimes: false,
  natKeepaliveSeconds: 20,
});

/** Kernel backends the loader accepts. */
export const KERNEL_BACKENDS: readonly KernelBackendName[] = Object.freeze(['xfrm', 'memory']);
