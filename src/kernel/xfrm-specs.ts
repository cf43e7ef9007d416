/**
 * ikekm's kernel objects (kernel-port.ts) as XFRM specs (src/kernel/xfrm/): the ESP algorithms by
 * their Linux crypto names, traffic selector ranges as prefix and port masks, and policy
 * priorities that prefer the more specific selector. Pure.
 */
import { EncrId, IntegId, parseIp } from '../wire/index.js';
import { KernelError } from './kernel-error.js';
import type { KernelPolicy, KernelSa, KernelTrap, TrafficSelectorRange } from './kernel-port.js';
import type { XfrmEncryptionSpec, XfrmFamily, XfrmIntegritySpec, XfrmPolicySpec, XfrmSaSpec, XfrmSelectorSpec } from './xfrm/index.js';

/** strongSwan's default (charon.replay_window): 32 packets of anti-replay on inbound SAs. */
export const REPLAY_WINDOW = 32;

/** Lower is preferred; a policy's priority is this minus its specificity (see policyPriority). */
const PRIORITY_BASE = 100_000;

export function familyOf(address: string): XfrmFamily {
  const octets = parseIp(address);
  if (octets === undefined) throw new KernelError('invalid', `not an IP address: ${JSON.stringify(address)}`);
  return octets.length === 16 ? 6 : 4;
}

/** The ESP transforms of RFC 7296 3.3.2 by the names the Linux crypto API gives them. */
export function encryptionSpec(sa: KernelSa): XfrmEncryptionSpec {
  const { id, key } = sa.encryption;
  switch (id) {
    case EncrId.ENCR_AES_GCM_16:
      // RFC 4106 8.1: the KEYMAT for the key carries the 4-octet salt after it.
      return { algorithm: 'rfc4106(gcm(aes))', key, icvBits: 128 };
    case EncrId.ENCR_CHACHA20_POLY1305:
      // RFC 7634 2: a 32-octet key plus a 4-octet salt.
      return { algorithm: 'rfc7539esp(chacha20,poly1305)', key, icvBits: 128 };
    case EncrId.ENCR_AES_CBC:
      return { algorithm: 'cbc(aes)', key };
    default:
      throw new KernelError('invalid', `no XFRM name for ESP encryption transform ${id}`);
  }
}

/** Integrity with its truncation: RFC 2404 (96), RFC 3566 (96), RFC 4868 (half the hash). */
export function integritySpec(sa: KernelSa): XfrmIntegritySpec | undefined {
  const integrity = sa.integrity;
  if (integrity === undefined || integrity.id === IntegId.NONE) return undefined;
  const { key } = integrity;
  switch (integrity.id) {
    case IntegId.AUTH_HMAC_SHA1_96:
      return { algorithm: 'hmac(sha1)', key, truncationBits: 96 };
    case IntegId.AUTH_AES_XCBC_96:
      return { algorithm: 'xcbc(aes)', key, truncationBits: 96 };
    case IntegId.AUTH_HMAC_SHA2_256_128:
      return { algorithm: 'hmac(sha256)', key, truncationBits: 128 };
    case IntegId.AUTH_HMAC_SHA2_384_192:
      return { algorithm: 'hmac(sha384)', key, truncationBits: 192 };
    case IntegId.AUTH_HMAC_SHA2_512_256:
      return { algorithm: 'hmac(sha512)', key, truncationBits: 256 };
    default:
      throw new KernelError('invalid', `no XFRM name for ESP integrity transform ${integrity.id}`);
  }
}

export function saSpec(sa: KernelSa): XfrmSaSpec {
  const integrity = integritySpec(sa);
  return {
    family: familyOf(sa.destination),
    source: sa.source,
    destination: sa.destination,
    spi: sa.spi,
    protocol: 'esp',
    mode: sa.mode,
    reqid: sa.reqid,
    // Anti-replay matters on the receiving side only (RFC 4303 3.4.3), but Linux refuses an ESN
    // SA whose replay window is 0 (EINVAL), outbound ones too: those get the window, unused.
    replayWindow: sa.direction === 'in' || sa.esn ? REPLAY_WINDOW : 0,
    esn: sa.esn,
    encryption: encryptionSpec(sa),
    ...(integrity === undefined ? {} : { integrity }),
    ...(sa.encapsulation === undefined ? {} : { encapsulation: { type: 'espinudp', sourcePort: sa.encapsulation.sourcePort, destinationPort: sa.encapsulation.destinationPort } }),
    limits: {
      ...(sa.softBytes === undefined ? {} : { softBytes: sa.softBytes }),
      ...(sa.hardBytes === undefined ? {} : { hardBytes: sa.hardBytes }),
    },
  };
}

/**
 * The prefix that covers an address range: exact for a CIDR block; for another range the
 * smallest block containing it (an XFRM selector has no ranges; strongSwan widens the same way).
 */
export function coveringPrefix(start: string, end: string): { address: string; length: number } {
  const a = parseIp(start);
  const b = parseIp(end);
  if (a === undefined || b === undefined || a.length !== b.length) throw new KernelError('invalid', `not an address range: ${start}-${end}`);
  let length = 0;
  while (length < a.length * 8) {
    const octet = length >> 3;
    const bit = 0x80 >> (length & 7);
    if ((a[octet]! & bit) !== (b[octet]! & bit)) break;
    length++;
  }
  return { address: start, length };
}

/** A port range as port and mask: one port exactly, everything as any, else the covering aligned block. */
export function portMask(start: number, end: number): { port: number; mask: number } {
  if (start === 0 && end === 0xffff) return { port: 0, mask: 0 };
  let bits = 16;
  while (bits > 0 && start >> (16 - bits) !== end >> (16 - bits)) bits--;
  const mask = bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
  return { port: start & mask, mask };
}

/** The selector of a policy in `direction`: out matches our side as source, in and fwd the peer's. */
export function selectorSpec(direction: KernelPolicy['direction'], local: TrafficSelectorRange, remote: TrafficSelectorRange): XfrmSelectorSpec {
  const [source, destination] = direction === 'out' ? [local, remote] : [remote, local];
  const s = coveringPrefix(source.startAddress, source.endAddress);
  const d = coveringPrefix(destination.startAddress, destination.endAddress);
  const sp = portMask(source.startPort, source.endPort);
  const dp = portMask(destination.startPort, destination.endPort);
  return {
    family: familyOf(s.address),
    source: s.address,
    sourcePrefixLength: s.length,
    destination: d.address,
    destinationPrefixLength: d.length,
    sourcePort: sp.port,
    sourcePortMask: sp.mask,
    destinationPort: dp.port,
    destinationPortMask: dp.mask,
    ipProtocol: local.ipProtocol === remote.ipProtocol ? local.ipProtocol : 0,
  };
}

/**
 * The more specific selector wins (lower value): longer prefixes first, then selectors with ports,
 * then with a protocol, as strongSwan orders its policies.
 */
export function policyPriority(selector: XfrmSelectorSpec): number {
  const ports = (selector.sourcePortMask ?? 0) !== 0 || (selector.destinationPortMask ?? 0) !== 0 ? 2 : 0;
  const protocol = (selector.ipProtocol ?? 0) !== 0 ? 1 : 0;
  return PRIORITY_BASE - ((selector.sourcePrefixLength + selector.destinationPrefixLength) << 2) - ports - protocol;
}

export function policySpec(policy: KernelPolicy | (KernelTrap & { readonly direction: 'out' })): XfrmPolicySpec {
  const selector = selectorSpec(policy.direction, policy.local, policy.remote);
  const tunnel = policy.mode === 'tunnel';
  return {
    direction: policy.direction,
    selector,
    priority: policyPriority(selector),
    action: 'allow',
    templates: [
      {
        family: tunnel ? familyOf(policy.tunnelDestination) : selector.family,
        // Transport mode: any endpoints (the packet's own addresses are the SA's).
        ...(tunnel ? { source: policy.tunnelSource, destination: policy.tunnelDestination } : {}),
        protocol: 'esp',
        mode: policy.mode,
        reqid: policy.reqid,
      },
    ],
  };
}
