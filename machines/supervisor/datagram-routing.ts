/**
 * Where an inbound datagram goes (RFC 7296 2.2: our SPI identifies the SA): to the IKE SA it
 * belongs to, to a new responder when it is a fresh IKE_SA_INIT request, or nowhere. Pure: the
 * supervisor acts on the answer.
 */
import type { Datagram } from '../../src/ports.js';
import { ExchangeType, decodeMessage, ikeSpiHex, isNewIkeSaInitRequest, peekIkeSaInitRequest, type IkeMessage, type IkeSaInitPeek } from '../../src/wire/index.js';

export type Route =
  | { readonly kind: 'forward'; readonly id: string; readonly message: IkeMessage }
  /**
   * An IKE_SA_INIT request that no SA answers yet: a new responder, if admitted. Only peeked at
   * (its header, Ni, COOKIE): admission answers most of a flood without decoding the rest.
   */
  | { readonly kind: 'new-responder'; readonly init: IkeSaInitPeek; readonly initKey: string }
  | { readonly kind: 'malformed'; readonly reason: string }
  /** No SA of ours has this SPI (RFC 7296 2.21.4: perhaps we restarted and forgot it). */
  | { readonly kind: 'unknown-spi'; readonly message: IkeMessage };

export interface RoutingTables {
  /** Our SPI (hex) → IKE SA actor id. */
  readonly bySpi: ReadonlyMap<string, string>;
  /** IKE_SA_INIT requests (remote, SPIi) → responder actor, so retransmissions reach it (2.1). */
  readonly byInit: ReadonlyMap<string, string>;
}

export const initKeyOf = (d: Datagram, spiI: Uint8Array): string => `${d.remote.address}|${d.remote.port}|${ikeSpiHex(spiI)}`;

export const isZeroSpi = (b: Uint8Array): boolean => b.every((x) => x === 0);

export function routeDatagram(tables: RoutingTables, datagram: Datagram): Route {
  if (isNewIkeSaInitRequest(datagram.bytes)) {
    const initKey = initKeyOf(datagram, datagram.bytes.subarray(0, 8));
    // A retransmission of a request we answer (2.1) goes to its responder, decoded.
    if (!tables.byInit.has(initKey)) {
      const peeked = peekIkeSaInitRequest(datagram.bytes);
      return peeked.ok ? { kind: 'new-responder', init: peeked.value, initKey } : { kind: 'malformed', reason: peeked.error.message };
    }
  }
  const decoded = decodeMessage(datagram.bytes);
  if (!decoded.ok) return { kind: 'malformed', reason: decoded.error.message };
  const message = decoded.value;
  const h = message.header;
  let id: string | undefined;
  if (h.flags.initiator) {
    // From the original initiator: we are the responder and our SPI is SPIr.
    if (isZeroSpi(h.spiR)) {
      if (h.exchangeType !== ExchangeType.IKE_SA_INIT || h.flags.response || h.messageId !== 0) return { kind: 'unknown-spi', message };
      // Known to byInit (isNewIkeSaInitRequest and the check above): a retransmission.
      id = tables.byInit.get(initKeyOf(datagram, h.spiI));
    } else {
      id = tables.bySpi.get(ikeSpiHex(h.spiR));
    }
  } else {
    id = tables.bySpi.get(ikeSpiHex(h.spiI));
  }
  return id === undefined ? { kind: 'unknown-spi', message } : { kind: 'forward', id, message };
}
