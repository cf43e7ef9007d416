/**
 * A negotiated Child SA as the kernel port wants it: the two ESP SAs (RFC 4303), one per
 * direction, with their keys (RFC 7296 2.17), and the policies (RFC 4301 4.4.1) that steer the
 * traffic the narrowed selectors describe into them.
 */
import type { CryptoRegistry } from '../crypto/registry.js';
import type { KernelPolicy, KernelSa } from '../kernel/kernel-port.js';
import type { EncrId, IntegId } from '../wire/index.js';
import type { ChildSaParams } from './exchanges/child-sa-negotiation.js';
import { childCipherOf, childKeysByDirection } from './ike-sa-session.js';
import type { Selector } from '../policy/traffic-selectors.js';

export interface ChildSaPlacement {
  readonly connection: string;
  /** Outer addresses: ours and the peer's. */
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** UDP encapsulation when a NAT was detected (RFC 3948): our port, the peer's port. */
  readonly encapsulation?: { readonly localPort: number; readonly remotePort: number } | undefined;
  readonly reqid: number;
  readonly softBytes?: number | undefined;
  readonly hardBytes?: number | undefined;
}

export interface ChildSaKernelState {
  readonly inbound: KernelSa;
  readonly outbound: KernelSa;
  readonly policies: readonly KernelPolicy[];
}

function range(s: Selector): KernelPolicy['local'] {
  return { ipProtocol: s.ipProtocol, startPort: s.startPort, endPort: s.endPort, startAddress: s.startAddress, endAddress: s.endAddress };
}

export function childSaKernelState(params: ChildSaParams, placement: ChildSaPlacement, registry: CryptoRegistry): ChildSaKernelState {
  const cipher = childCipherOf(params.transforms, registry);
  const keys = childKeysByDirection(params.keys, params.exchangeRole);
  const bits = params.transforms.encrKeyLengthBits;
  const sa = (direction: 'in' | 'out'): KernelSa => {
    const k = direction === 'in' ? keys.inbound : keys.outbound;
    const enc = placement.encapsulation;
    return {
      connection: placement.connection,
      direction,
      protocol: 'esp',
      spi: direction === 'in' ? params.inboundSpi : params.outboundSpi,
      source: direction === 'in' ? placement.remoteAddress : placement.localAddress,
      destination: direction === 'in' ? placement.localAddress : placement.remoteAddress,
      mode: params.mode,
      ...(enc === undefined
        ? {}
        : {
            encapsulation:
              direction === 'in'
                ? { sourcePort: enc.remotePort, destinationPort: enc.localPort }
                : { sourcePort: enc.localPort, destinationPort: enc.remotePort },
          }),
      encryption: { id: cipher.encryption.id as EncrId, ...(bits === undefined ? {} : { keyLengthBits: bits }), key: k.encr },
      ...(cipher.integrity === undefined ? {} : { integrity: { id: cipher.integrity.id as IntegId, key: k.integ } }),
      esn: params.transforms.esn,
      ...(placement.softBytes === undefined ? {} : { softBytes: placement.softBytes }),
      ...(placement.hardBytes === undefined ? {} : { hardBytes: placement.hardBytes }),
      reqid: placement.reqid,
    };
  };
  return { inbound: sa('in'), outbound: sa('out'), policies: childSaPolicies(params, placement) };
}

/**
 * The policies alone: out, in and (tunnel mode) fwd for each pair of a local and a remote
 * selector of the same family.
 */
export function childSaPolicies(params: Pick<ChildSaParams, 'localTs' | 'remoteTs' | 'mode'>, placement: ChildSaPlacement): KernelPolicy[] {
  const policies: KernelPolicy[] = [];
  for (const local of params.localTs) {
    for (const remote of params.remoteTs) {
      if (local.family !== remote.family) continue;
      const base = { connection: placement.connection, mode: params.mode, reqid: placement.reqid };
      policies.push({ ...base, direction: 'out', local: range(local), remote: range(remote), tunnelSource: placement.localAddress, tunnelDestination: placement.remoteAddress });
      policies.push({ ...base, direction: 'in', local: range(local), remote: range(remote), tunnelSource: placement.remoteAddress, tunnelDestination: placement.localAddress });
      if (params.mode === 'tunnel') {
        policies.push({ ...base, direction: 'fwd', local: range(local), remote: range(remote), tunnelSource: placement.remoteAddress, tunnelDestination: placement.localAddress });
      }
    }
  }
  return policies;
}
