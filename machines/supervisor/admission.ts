/**
 * Whether a fresh IKE_SA_INIT request becomes a responder: a connection must fit its addresses,
 * the limits on IKE SAs and half-open SAs must hold, and under load (RFC 7296 2.6) the initiator
 * must return the COOKIE we answered it with, statelessly, first.
 */
import type { CookieGenerator } from '../../src/ikev2/cookie.js';
import { connectionsForAddresses } from '../../src/ikev2/exchanges/connection-policy.js';
import { cookieOf, cookieResponse } from '../../src/ikev2/exchanges/ike-sa-init.js';
import type { Datagram } from '../../src/ports.js';
import { PayloadType, findPayload, type IkeMessage } from '../../src/wire/index.js';
import type { LogLevel } from '../effects.js';
import type { MachinePorts } from '../ports.js';
import type { SupervisorContext } from './supervisor-context.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '%any']);

export type Admission =
  | { readonly kind: 'admit'; readonly candidates: string[] }
  | { readonly kind: 'cookie'; readonly response: Buffer }
  | { readonly kind: 'refuse'; readonly counter: 'noConnection' | 'refusedLimits'; readonly level: LogLevel; readonly fields: object; readonly message: string };

export function createAdmission(ports: MachinePorts, cookies: CookieGenerator) {
  return (context: SupervisorContext, datagram: Datagram, message: IkeMessage): Admission => {
    const { settings, connections } = ports.config.current();
    const local = WILDCARDS.has(datagram.local.address) ? undefined : datagram.local.address;
    // A socket bound to a wildcard does not know the address the peer used: any connection's
    // local address is then possible.
    const candidates = connectionsForAddresses(connections, local ?? '%any', datagram.remote.address, local === undefined);
    if (candidates.length === 0) {
      return { kind: 'refuse', counter: 'noConnection', level: 'info', fields: { remote: datagram.remote.address }, message: 'IKE_SA_INIT from a peer no connection is configured for: dropped' };
    }
    if (context.entries.size >= settings.maxIkeSas || context.halfOpen.size >= settings.maxHalfOpen) {
      return { kind: 'refuse', counter: 'refusedLimits', level: 'warn', fields: { ikeSas: context.entries.size, halfOpen: context.halfOpen.size }, message: 'IKE_SA_INIT refused: limits reached' };
    }
    const h = message.header;
    if (context.halfOpen.size >= settings.cookieThreshold) {
      // RFC 7296 2.6: under load, answer statelessly with a cookie until the initiator returns it.
      const Ni = findPayload(message.payloads, PayloadType.Nonce)?.data ?? Buffer.alloc(0);
      const cookie = cookieOf(message);
      if (cookie === undefined || !cookies.verify(cookie, Ni, datagram.remote.address, h.spiI)) {
        return { kind: 'cookie', response: cookieResponse(h, cookies.cookie(Ni, datagram.remote.address, h.spiI)) };
      }
    }
    return { kind: 'admit', candidates: candidates.map((c) => c.name) };
  };
}
