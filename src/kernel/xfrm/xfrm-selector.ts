/**
 * struct xfrm_selector (linux/xfrm.h): which packets a policy (or an SA's inner traffic) covers.
 * Addresses and ports are in network order, the family and the other integers in host order.
 * A port matches when (packet port & mask) == (port & mask): mask 0 is any port, 0xffff one port.
 */
import { formatIp } from '../../wire/ip-address.js';
import { XFRM_SELECTOR } from './xfrm-layout.js';
import { XfrmParseError, requireBytes } from './xfrm-parse-error.js';
import { addressOctets, checkedPrefixLength, checkedUnsigned, familyCode, familyFromCode, type XfrmFamily } from './xfrm-spec-checks.js';

export interface XfrmSelectorSpec {
  readonly family: XfrmFamily;
  readonly source: string;
  readonly sourcePrefixLength: number;
  readonly destination: string;
  readonly destinationPrefixLength: number;
  /** 0 (the default) is any port. For ICMP the kernel matches the type here. */
  readonly sourcePort?: number;
  /** Defaults to 0xffff for a port other than 0, to 0 (any) for port 0. */
  readonly sourcePortMask?: number;
  /** 0 (the default) is any port. For ICMP the kernel matches the code here. */
  readonly destinationPort?: number;
  readonly destinationPortMask?: number;
  /** IP protocol number (6 TCP, 17 UDP); 0, the default, is any. */
  readonly ipProtocol?: number;
}

/** A selector as the kernel reports it. */
export interface XfrmSelector {
  readonly family: XfrmFamily;
  readonly source: string;
  readonly sourcePrefixLength: number;
  readonly destination: string;
  readonly destinationPrefixLength: number;
  readonly sourcePort: number;
  readonly sourcePortMask: number;
  readonly destinationPort: number;
  readonly destinationPortMask: number;
  readonly ipProtocol: number;
  /** The interface the packet went out on (acquires), or 0. */
  readonly ifindex: number;
}

export function writeSelector(target: Buffer, at: number, spec: XfrmSelectorSpec): void {
  const L = XFRM_SELECTOR;
  addressOctets(spec.destination, spec.family, 'selector destination').copy(target, at + L.daddr);
  addressOctets(spec.source, spec.family, 'selector source').copy(target, at + L.saddr);
  const destinationPort = checkedUnsigned(spec.destinationPort ?? 0, 16, 'selector destination port');
  const sourcePort = checkedUnsigned(spec.sourcePort ?? 0, 16, 'selector source port');
  target.writeUInt16BE(destinationPort, at + L.dport);
  target.writeUInt16BE(checkedUnsigned(spec.destinationPortMask ?? defaultMask(destinationPort), 16, 'selector destination port mask'), at + L.dport_mask);
  target.writeUInt16BE(sourcePort, at + L.sport);
  target.writeUInt16BE(checkedUnsigned(spec.sourcePortMask ?? defaultMask(sourcePort), 16, 'selector source port mask'), at + L.sport_mask);
  target.writeUInt16LE(familyCode(spec.family), at + L.family);
  target.writeUInt8(checkedPrefixLength(spec.destinationPrefixLength, spec.family, 'selector destination prefix length'), at + L.prefixlen_d);
  target.writeUInt8(checkedPrefixLength(spec.sourcePrefixLength, spec.family, 'selector source prefix length'), at + L.prefixlen_s);
  target.writeUInt8(checkedUnsigned(spec.ipProtocol ?? 0, 8, 'selector IP protocol'), at + L.proto);
}

function defaultMask(port: number): number {
  return port === 0 ? 0 : 0xffff;
}

/**
 * The selector at `at`. A selector with family 0 (an SA installed without one) takes
 * `fallbackFamily`, the family of the struct around it; without one, family 0 is an error.
 */
export function readSelector(source: Buffer, at: number, base: number, fallbackFamily?: XfrmFamily): XfrmSelector {
  const L = XFRM_SELECTOR;
  requireBytes(source, at, L.sizeof, 'xfrm_selector', base);
  const code = source.readUInt16LE(at + L.family);
  const family = code === 0 ? fallbackFamily : familyFromCode(code);
  if (family === undefined) {
    throw new XfrmParseError({ code: 'bad-value', offset: base + at + L.family, what: 'xfrm_selector', reason: `family ${code} is neither AF_INET nor AF_INET6` });
  }
  return {
    family,
    destination: readAddress(source, at + L.daddr, family),
    source: readAddress(source, at + L.saddr, family),
    destinationPort: source.readUInt16BE(at + L.dport),
    destinationPortMask: source.readUInt16BE(at + L.dport_mask),
    sourcePort: source.readUInt16BE(at + L.sport),
    sourcePortMask: source.readUInt16BE(at + L.sport_mask),
    destinationPrefixLength: source.readUInt8(at + L.prefixlen_d),
    sourcePrefixLength: source.readUInt8(at + L.prefixlen_s),
    ipProtocol: source.readUInt8(at + L.proto),
    ifindex: source.readInt32LE(at + L.ifindex),
  };
}

/** An xfrm_address_t as text: the first 4 octets for IPv4, all 16 for IPv6. Bounds are the caller's. */
export function readAddress(source: Buffer, at: number, family: XfrmFamily): string {
  return formatIp(source.subarray(at, at + (family === 4 ? 4 : 16)));
}
