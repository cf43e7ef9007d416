/**
 * A negotiated Child SA as the kernel port wants it: the two ESP SAs (RFC 4303), one per
 * direction, with their keys (RFC 7296 2.17), and the policies (RFC 4301 4.4.1) that steer the
 * traffic the narrowed selectors describe into them.
 */
import type { CryptoRegistry } from '../crypto/registry.js';
import type { KernelPolicy, KernelSa } from '../kernel/kernel-port.js';
import type { EncrId, IntegId } from '../wire/index.js';
import type { ChildSaParams, KeptChildSaParams } from './exchanges/child-sa-negotiation.js';
import { childCipherOf, childKeysByDirection } from './ike-sa-session.js';
import { isSubsetOf, type Selector } from '../policy/traffic-selectors.js';

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

export function childSaKernelState(params: KeptChildSaParams, placement: ChildSaPlacement, registry: CryptoRegistry): ChildSaKernelState {
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
 * selector of the same family that no other pair covers (policyPairs).
 */
export function childSaPolicies(params: Pick<ChildSaParams, 'localTs' | 'remoteTs' | 'mode'>, placement: ChildSaPlacement): KernelPolicy[] {
  const policies: KernelPolicy[] = [];
  const { localAddress: us, remoteAddress: peer } = placement;
  for (const { local, remote } of policyPairs(params.localTs, params.remoteTs)) {
    policies.push(policy(placement, params.mode, 'out', local, remote, us, peer));
    policies.push(policy(placement, params.mode, 'in', local, remote, peer, us));
    if (params.mode === 'tunnel') policies.push(policy(placement, params.mode, 'fwd', local, remote, peer, us));
  }
  return policies;
}

/**
 * One policy, as a literal of one shape rather than a spread of shared fields: this runs for
 * every kernel effect of every Child SA and for each Child SA of a status, and V8 builds spread
 * objects several times slower.
 */
function policy(
  placement: ChildSaPlacement,
  mode: ChildSaParams['mode'],
  direction: KernelPolicy['direction'],
  local: Selector,
  remote: Selector,
  tunnelSource: string,
  tunnelDestination: string,
): KernelPolicy {
  return { connection: placement.connection, direction, local: range(local), remote: range(remote), mode, tunnelSource, tunnelDestination, reqid: placement.reqid };
}

/**
 * The selector pairs a Child SA's policies are made of: every local with every remote selector of
 * its family (RFC 7296 2.9: the SA carries TSi x TSr), less the pairs another pair covers. A peer
 * that keeps the packet's selectors of an on-demand start next to the configured ones (2.9 allows
 * both) would otherwise leave four pairs where one carries all of it; every pair leads to the same
 * SAs, so the covered ones only crowd the policy database.
 */
export function policyPairs(localTs: readonly Selector[], remoteTs: readonly Selector[]): Array<{ local: Selector; remote: Selector }> {
  // The common case, one selector a side: one pair (or none across families), nothing to cover.
  if (localTs.length === 1 && remoteTs.length === 1) {
    const local = localTs[0]!;
    const remote = remoteTs[0]!;
    return local.family === remote.family ? [{ local, remote }] : [];
  }
  const pairs = localTs.flatMap((local) => remoteTs.filter((remote) => remote.family === local.family).map((remote) => ({ local, remote })));
  const covers = (outer: (typeof pairs)[number], inner: (typeof pairs)[number]): boolean =>
    isSubsetOf([inner.local], [outer.local]) && isSubsetOf([inner.remote], [outer.remote]);
  // A pair goes when another covers it; of two equal pairs the first stays.
  return pairs.filter((pair, i) => !pairs.some((other, j) => j !== i && covers(other, pair) && (!covers(pair, other) || j < i)));
}
