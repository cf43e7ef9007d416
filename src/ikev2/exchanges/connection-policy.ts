/**
 * What the exchanges read from a connection's configuration, in their terms: traffic selectors
 * parsed from CIDR strings, the identities, and which connection a responder applies to a peer.
 */
import type { ConnectionConfig, IdentityConfig } from '../../config/model.js';
import { formatIdentity } from '../../config/model.js';
import type { Identity } from '../../wire/index.js';
import { selectorFromCidr, type Selector } from '../traffic-selectors.js';

function parseAll(cidrs: readonly string[], connection: string, side: string): Selector[] {
  return cidrs.map((c) => {
    const r = selectorFromCidr(c);
    if (!r.ok) throw new RangeError(`connection ${connection}: traffic.${side} '${c}': ${r.error}`);
    return r.value;
  });
}

/** Our configured selectors: local (our side) and remote. */
export function connectionSelectors(c: ConnectionConfig): { local: Selector[]; remote: Selector[] } {
  return { local: parseAll(c.traffic.local, c.name, 'local'), remote: parseAll(c.traffic.remote, c.name, 'remote') };
}

/** `%any` (or an unspecified address) matches every peer address. */
export function addressMatches(configured: string, actual: string): boolean {
  return configured === '%any' || configured === '0.0.0.0' || configured === '::' || configured === actual;
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

export function identityMatches(configured: IdentityConfig, received: Identity): boolean {
  return configured.kind === received.kind && formatIdentity(configured) === formatIdentity(received);
}
