/**
 * What the exchanges read from a connection's configuration, in their terms: traffic selectors
 * parsed from CIDR strings, the identities, and which connection a responder applies to a peer.
 */
import type { ConnectionConfig, IdentityConfig } from '../../config/model.js';
import { formatIdentity } from '../../config/model.js';
import type { Identity } from '../../wire/index.js';
import { hasWildcard, nameFromDer, nameMatches } from '../../pki/distinguished-name.js';
import { addressSpan, formatSelector, intersect, isSubsetOf, narrowTrafficSelectors, selectorFromCidr, type Selector } from '../../policy/traffic-selectors.js';

function parseAll(cidrs: readonly string[], connection: string, side: string): Selector[] {
  return cidrs.map((c) => {
    const r = selectorFromCidr(c);
    if (!r.ok) throw new RangeError(`connection ${connection}: traffic.${side} '${c}': ${r.error}`);
    return r.value;
  });
}

interface ConnectionSelectors {
  readonly local: readonly Selector[];
  readonly remote: readonly Selector[];
}

/**
 * Parsed once per configuration object (a reload makes new ones): every Child SA negotiation
 * reads them, and the SAs keep them (narrowing returns them when they are the answer).
 */
const parsedSelectors = new WeakMap<ConnectionConfig, ConnectionSelectors>();

/** Our configured selectors: local (our side) and remote. */
export function connectionSelectors(c: ConnectionConfig): ConnectionSelectors {
  let parsed = parsedSelectors.get(c);
  if (parsed === undefined) {
    parsed = Object.freeze({ local: Object.freeze(parseAll(c.traffic.local, c.name, 'local')), remote: Object.freeze(parseAll(c.traffic.remote, c.name, 'remote')) });
    parsedSelectors.set(c, parsed);
  }
  return parsed;
}

/**
 * The packet a Child SA is started for (an on-demand trap's acquire), as a selector pair: its
 * source with our side's (TSi of our offer), its destination with the peer's (TSr).
 */
export interface TriggerSelectors {
  readonly local: Selector;
  readonly remote: Selector;
}

/**
 * What we offer as initiator of a Child SA of `c`: the configured selectors, preceded, when the SA
 * is started for a packet, by that packet's own. RFC 7296 2.9: "the first Traffic Selector of TSi
 * and TSr SHOULD be very specific and contain the addresses in the packet triggering the request",
 * so that a responder whose policy is narrower than ours can still pick the traffic that is
 * waiting. A packet outside the configured selectors (it cannot have hit our trap) is not offered.
 */
export function offeredSelectors(c: ConnectionConfig, trigger?: TriggerSelectors): ConnectionSelectors {
  const configured = connectionSelectors(c);
  if (trigger === undefined) return configured;
  const within = (packet: Selector, list: readonly Selector[]): Selector | undefined => {
    for (const s of list) {
      const i = intersect(packet, s);
      if (i !== undefined) return i;
    }
    return undefined;
  };
  const local = within(trigger.local, configured.local);
  const remote = within(trigger.remote, configured.remote);
  if (local === undefined || remote === undefined) return configured;
  return { local: [local, ...configured.local], remote: [remote, ...configured.remote] };
}

/** A configured address that stands for any: `%any`, or an unspecified address. */
export function isAnyAddress(configured: string): boolean {
  return configured === '%any' || configured === '0.0.0.0' || configured === '::';
}

/** `%any` (or an unspecified address) matches every peer address. */
export function addressMatches(configured: string, actual: string): boolean {
  return isAnyAddress(configured) || configured === actual;
}

/** Connections a responder may use for an IKE_SA_INIT from `remote` to `local` (addresses only). */
export function connectionsForAddresses(
  connections: readonly ConnectionConfig[],
  localAddress: string,
  remoteAddress: string,
  anyLocal = false,
): ConnectionConfig[] {
  return connections.filter(
    (c) => (anyLocal || addressMatches(c.local.address, localAddress)) && addressMatches(c.remote.address, remoteAddress),
  );
}

/**
 * Does the peer's ID match the configured one? The same type and value; a configured DN matches
 * as strongSwan's does: attribute by attribute, without regard to case, `*` for any value.
 */
export function identityMatches(configured: IdentityConfig, received: Identity): boolean {
  if (configured.kind === 'der-asn1-dn' && received.kind === 'der-asn1-dn') {
    const pattern = nameFromDer(configured.der);
    const actual = nameFromDer(received.der);
    return pattern.ok && actual.ok && nameMatches(pattern.value, actual.value);
  }
  return configured.kind === received.kind && formatIdentity(configured) === formatIdentity(received);
}

/** Is the configured ID one value (sent as IDr), not a pattern (a DN with `*`)? */
export function isExactIdentity(configured: IdentityConfig): boolean {
  if (configured.kind !== 'der-asn1-dn') return true;
  const dn = nameFromDer(configured.der);
  return dn.ok && !hasWildcard(dn.value);
}

/**
 * Connections that may carry Child SAs of an IKE SA made under `ike`: same addresses, same IDs
 * and PSK, same IKE policy. Together they act as one strongSwan connection with several
 * `children{}`: the IKE SA is authenticated once, each Child SA takes its data policy from the
 * one whose traffic selectors fit. `ike` itself comes first.
 */
export function childConfigCandidates(ike: ConnectionConfig, all: readonly ConnectionConfig[]): ConnectionConfig[] {
  const same = (c: ConnectionConfig): boolean =>
    c.name !== ike.name &&
    c.local.address === ike.local.address &&
    c.remote.address === ike.remote.address &&
    c.local.id.kind === ike.local.id.kind &&
    formatIdentity(c.local.id) === formatIdentity(ike.local.id) &&
    c.remote.id.kind === ike.remote.id.kind &&
    formatIdentity(c.remote.id) === formatIdentity(ike.remote.id) &&
    sameCredentials(c, ike) &&
    c.ikePolicy.name === ike.ikePolicy.name;
  return [ike, ...all.filter(same)];
}

/** The same PSK, or the same certificate and trust (an IKE SA authenticated once serves both). */
function sameCredentials(a: ConnectionConfig, b: ConnectionConfig): boolean {
  if (a.ikePolicy.auth !== b.ikePolicy.auth) return false;
  if (a.local.psk !== undefined || b.local.psk !== undefined) return a.local.psk !== undefined && b.local.psk !== undefined && a.local.psk.bytes.equals(b.local.psk.bytes);
  const same = (x: readonly Buffer[] | undefined, y: readonly Buffer[] | undefined): boolean =>
    (x ?? []).length === (y ?? []).length && (x ?? []).every((d, i) => d.equals(y![i]!));
  return same(a.local.certificate?.chain, b.local.certificate?.chain) && same(a.remote.trust?.anchors, b.remote.trust?.anchors) && same(a.remote.trust?.crls, b.remote.trust?.crls);
}

export type ChildConfigChoice =
  | { readonly kind: 'chosen'; readonly connection: ConnectionConfig; readonly why: string }
  | { readonly kind: 'none'; readonly why: string };

const describe = (list: readonly Selector[]): string => (list.length === 0 ? 'none' : list.map(formatSelector).join(' '));

/**
 * The responder's child config for offered TSi/TSr (strongSwan's select_child_cfg, RFC 7296 2.9):
 * among the candidates, one whose selectors contain the whole offer (no narrowing needed) wins
 * over one that must narrow it; among equals the most specific configuration, then the first in
 * configuration order. None when no candidate's selectors intersect the offer (TS_UNACCEPTABLE).
 */
export function selectChildConfig(
  candidates: readonly ConnectionConfig[],
  offered: { readonly TSi: readonly Selector[]; readonly TSr: readonly Selector[] },
): ChildConfigChoice {
  let best: { connection: ConnectionConfig; covers: boolean; span: bigint } | undefined;
  const misfits: string[] = [];
  for (const c of candidates) {
    const ts = connectionSelectors(c);
    // TSi is the initiator's side, our remote (2.9).
    const narrowed = narrowTrafficSelectors(offered, ts);
    if (!narrowed.ok) {
      misfits.push(candidates.length === 1 ? narrowed.error.reason : `${c.name}: local ${c.traffic.local.join(' ')} remote ${c.traffic.remote.join(' ')}`);
      continue;
    }
    const covers = isSubsetOf(offered.TSi, ts.remote) && isSubsetOf(offered.TSr, ts.local);
    const size = addressSpan(ts.local) + addressSpan(ts.remote);
    if (best === undefined || (covers && !best.covers) || (covers === best.covers && size < best.span)) best = { connection: c, covers, span: size };
  }
  const offer = `TSi ${describe(offered.TSi)}, TSr ${describe(offered.TSr)}`;
  if (best === undefined) {
    // One candidate: the narrowing's own words (received TSi/TSr, configured remote/local).
    if (misfits.length === 1 && misfits[0] !== undefined) return { kind: 'none', why: misfits[0] };
    return { kind: 'none', why: `no connection's traffic selectors fit the offer ${offer}; configured: ${misfits.join('; ') || 'none'}` };
  }
  const c = best.connection;
  return {
    kind: 'chosen',
    connection: c,
    why: `${best.covers ? 'its selectors contain' : 'its selectors narrow (RFC 7296 2.9)'} the offer ${offer}: local ${c.traffic.local.join(' ')} remote ${c.traffic.remote.join(' ')}${candidates.length > 1 ? ` (of ${candidates.map((x) => x.name).join(', ')})` : ''}`,
  };
}
