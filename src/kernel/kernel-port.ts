/**
 * What a Child SA machine asks of the kernel (or of whatever stands in for it): install the two
 * ESP SAs of a Child SA and the policies that steer traffic into them, delete them, and report
 * how many bytes they have carried (lifetimes in kilobytes, RFC 7296 2.8). Backends: `memory`
 * (tests, demo), `keylog` (a decorator that also writes Wireshark's esp_sa table), later `xfrm`.
 *
 * Every call is asynchronous because the XFRM backend talks netlink; a machine invokes them as
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

export interface KernelPort {
  installSa(sa: KernelSa): Promise<void>;
  deleteSa(destination: string, spi: number): Promise<void>;
  installPolicy(policy: KernelPolicy): Promise<void>;
  deletePolicy(policy: KernelPolicy): Promise<void>;
  /** Bytes and packets carried so far; undefined when the SA is not installed. */
  usage(destination: string, spi: number): Promise<SaUsage | undefined>;
}
