/**
 * What a Child SA machine asks of the kernel (or of whatever stands in for it): install the two
 * ESP SAs of a Child SA and the policies that steer traffic into them, delete them, and report
 * how many bytes they have carried (lifetimes in kilobytes, RFC 7296 2.8). Backends: `memory`
 * (tests, demo), `xfrm` (the Linux kernel, xfrm-kernel.ts), `keylog` (a decorator over either
 * that also writes Wireshark's esp_sa table).
 *
 * Every call is asynchronous because the Linux backend talks netlink; a machine invokes them as
 * promise actors and moves on their result.
 */
import type { EncrId, IntegId } from '../wire/iana.js';

/** An IPv4 or IPv6 traffic selector range (RFC 7296 3.13.1), addresses in textual form. */
export interface TrafficSelectorRange {
  readonly ipProtocol: number; // 0 = any
  readonly startPort: number;
  readonly endPort: number;
  readonly startAddress: string;
  readonly endAddress: string;
}

/** One direction of a Child SA: what `ip xfrm state` would hold. Keys are secrets: never log them. */
export interface KernelSa {
  readonly connection: string;
  readonly direction: 'in' | 'out';
  readonly protocol: 'esp';
  /** SPI as the peer or we chose it (4 octets, RFC 4303 2.1), as an unsigned number. */
  readonly spi: number;
  /** Outer addresses: for 'out' local → remote, for 'in' remote → local. */
  readonly source: string;
  readonly destination: string;
  readonly mode: 'tunnel' | 'transport';
  /** UDP encapsulation ports when NAT was detected (RFC 3948); absent for plain ESP. */
  readonly encapsulation?: { readonly sourcePort: number; readonly destinationPort: number };
  readonly encryption: { readonly id: EncrId; readonly keyLengthBits?: number; readonly key: Buffer };
  readonly integrity?: { readonly id: IntegId; readonly key: Buffer };
  readonly esn: boolean;
  /** Byte lifetimes (RFC 7296 2.8: rekey on soft, delete on hard). */
  readonly softBytes?: number;
  readonly hardBytes?: number;
  /** Ties the SA to its policies, as XFRM's reqid does. */
  readonly reqid: number;
}

export interface KernelPolicy {
  readonly connection: string;
  readonly direction: 'in' | 'out' | 'fwd';
  readonly local: TrafficSelectorRange;
  readonly remote: TrafficSelectorRange;
  readonly mode: 'tunnel' | 'transport';
  /** Outer addresses of the template (tunnel endpoints). */
  readonly tunnelSource: string;
  readonly tunnelDestination: string;
  readonly reqid: number;
}

export interface SaUsage {
  readonly bytes: number;
  readonly packets: number;
}

/** What `KernelPort.readUsage` read: `usage` and `policyLastUse` answered at once. */
export interface KernelUsage {
  sa(destination: string, spi: number): SaUsage | undefined;
  /** Absent when no policy has a time of last use (none used yet, or a backend that cannot tell). */
  policyLastUse?(policy: KernelPolicy): number | undefined;
}

export interface KernelPort {
  installSa(sa: KernelSa): Promise<void>;
  deleteSa(destination: string, spi: number): Promise<void>;
  installPolicy(policy: KernelPolicy): Promise<void>;
  deletePolicy(policy: KernelPolicy): Promise<void>;
  /** Bytes and packets carried so far; undefined when the SA is not installed. */
  usage(destination: string, spi: number): Promise<SaUsage | undefined>;
  /**
   * When traffic last used `policy` (one installPolicy installed), in ms since the epoch as the
   * kernel's real-time clock has it (whole seconds); undefined when nothing has used it since it
   * was installed, or when it is not installed. This is the time of the last packet, which an SA
   * cannot tell: XFRM stamps an SA only at its first packet but a policy at every use (each
   * inbound or forwarded packet it checks, each outbound route lookup it resolves to an SA), so
   * strongSwan reads the time of last use from the policies too. Backends that know nothing of
   * it leave it out.
   */
  policyLastUse?(policy: KernelPolicy): Promise<number | undefined>;
  /**
   * Every ESP SA's counters and every policy's last use at once, for a status of many Child SAs
   * (100 000 of them would otherwise be 500 000 calls of `usage` and `policyLastUse`, and as many
   * promises). Its answers are theirs, read synchronously. Backends that can read their whole
   * state in one go offer it; without it the engine asks SA by SA.
   */
  readUsage?(): Promise<KernelUsage>;
  /**
   * Backends that enforce the SAs' byte limits themselves (XFRM) report reaching them, soft or
   * hard, here; the others leave it out and the Child SAs poll `usage`. Returns the function that
   * stops listening. The listener runs outside any other call of the port and must not throw.
   */
  onExpire?(listener: (expire: KernelSaExpire) => void): () => void;
  /** Backends whose kernel hands out the inbound SPIs (XFRM_MSG_ALLOCSPI) offer them here. */
  readonly spis?: SpiAllocator;
}

/**
 * The reqids ikekm gives its connections' SAs and policies ('KM' in the top half): a kernel
 * shared with another key manager (strongSwan numbers from 1) tells them apart, and ikekm
 * restarted after a crash finds and removes what it left.
 */
export const IKEKM_REQIDS = { first: 0x4b4d_0001, last: 0x4b4d_ffff } as const;

export function isIkekmReqid(reqid: number): boolean {
  return reqid >= IKEKM_REQIDS.first && reqid <= IKEKM_REQIDS.last;
}

/**
 * Inbound ESP SPIs (RFC 4303 2.1) unique among this node's Child SAs. XFRM's ALLOCSPI reserves
 * one in the kernel for an SA from `source` to `destination`; without such a kernel the engine
 * draws them itself. Released when the SA is gone or was never made.
 */
export interface SpiAllocator {
  allocate(sa: { readonly source: string; readonly destination: string }): number | Promise<number>;
  release(spi: number, destination: string): void | Promise<void>;
}

/** An SA reached a soft limit (rekey it) or a hard one (the kernel removes it). */
export interface KernelSaExpire {
  readonly destination: string;
  readonly spi: number;
  readonly hard: boolean;
}

/**
 * A trap (strongSwan `start_action = trap`, swanctl `start_action = trap`): an outbound policy for
 * a connection's configured selectors whose template has no SA behind it yet. Traffic it matches
 * is not sent in the clear: the kernel holds it and asks the key manager for an SA (an acquire,
 * XFRM_MSG_ACQUIRE). A trap stays installed while the connection is configured, so the SA comes
 * back on the next packet after it went away.
 *
 * Only the outbound direction is trapped: an acquire is raised by a packet we are about to send.
 */
export interface KernelTrap {
  readonly connection: string;
  /** Our side's selector (packet source) and the peer's (packet destination), as configured. */
  readonly local: TrafficSelectorRange;
  readonly remote: TrafficSelectorRange;
  readonly mode: 'tunnel' | 'transport';
  /** Outer addresses of the template: ours and the peer's. */
  readonly tunnelSource: string;
  readonly tunnelDestination: string;
  /** The template's reqid: the acquire carries it back, as XFRM's acquire carries its template's. */
  readonly reqid: number;
}

/**
 * The selector of one outbound packet, as XFRM's acquire reports it (xfrm_selector: addresses,
 * protocol, ports). Ports are absent for protocols without them. ICMP and ICMPv6 have none: their
 * Type and Code travel as one 16-bit value, Type << 8 | Code, in `sourcePort`, which is what an
 * ICMP traffic selector's "port" is (RFC 7296 3.13.1).
 */
export interface KernelPacket {
  readonly source: string;
  readonly destination: string;
  /** IP protocol number (6 TCP, 17 UDP, 1 ICMP, ...). */
  readonly ipProtocol: number;
  readonly sourcePort?: number;
  readonly destinationPort?: number;
}

/** The kernel asks for an SA: a packet matched a trap (or a policy whose SA is gone). */
export interface KernelAcquire {
  readonly connection: string;
  readonly reqid: number;
  /** The packet that triggered it: RFC 7296 2.9 lets the initiator put it first in TSi/TSr. */
  readonly packet: KernelPacket;
  /** The selectors of the policy the packet matched. */
  readonly local: TrafficSelectorRange;
  readonly remote: TrafficSelectorRange;
}

/**
 * What a key manager needs for on-demand connections, beside KernelPort (which is all a Child SA
 * machine needs, so it stays as it is): install and delete traps, and hear the acquires.
 */
export interface KernelTrapPort {
  /** KernelError('exists') when a trap with the same selectors is installed (XFRM: one policy per selector and direction). */
  installTrap(trap: KernelTrap): Promise<void>;
  /** Identified by its selectors, as installTrap; KernelError('not-found') when there is none. */
  deleteTrap(trap: KernelTrap): Promise<void>;
  /**
   * Calls `listener` for each acquire; returns the function that stops it. Listeners are called
   * outside any install/delete call and must not throw.
   */
  onAcquire(listener: (acquire: KernelAcquire) => void): () => void;
}

/** A backend that can do both (memory, xfrm, keylog over either). */
export type TrappingKernelPort = KernelPort & KernelTrapPort;
