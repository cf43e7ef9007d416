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
  /**
   * How far the JavaScript heap may grow past what a full garbage collection left alive before
   * the next one, in percent (V8's --heap-growing-percent); 0 leaves it to V8, which lets a
   * growing heap double and keeps the pages. Applied when the daemon starts (src/daemon/heap-growth.ts).
   */
  readonly heapGrowthPercent: number;
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
  // Measured with 10 000 SAs: RSS per SA 34 KB with V8's growth, 20 KB with 25 %.
  heapGrowthPercent: 25,
});

/** Beyond V8's own default factor (up to 4×) a setting would only cost memory. */
export const MAX_HEAP_GROWTH_PERCENT = 300;

/** Kernel backends the loader accepts. */
export const KERNEL_BACKENDS: readonly KernelBackendName[] = Object.freeze(['xfrm', 'memory']);
