/**
 * IKE_SA_INIT requests from an address of the test's choosing, as a responder receives them, for
 * the admission tests: each attempt has its own SPIi, nonce and key pair, and can be sent again
 * with the COOKIE the responder asked for (RFC 7296 2.6).
 */
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { buildIkeSaInitRequest } from '../../src/ikev2/exchanges/ike-sa-init.js';
import { offerProposals, preferredDhGroup } from '../../src/ikev2/exchanges/negotiation.js';
import type { Datagram } from '../../src/ports.js';
import { NotifyType, PayloadType, decodeMessage, isUnknownPayload, type IkeMessage, type NotifyPayload } from '../../src/wire/index.js';
import { connectionPair, seededRandom } from './fixtures.js';

export interface StrangerAttempt {
  readonly spiI: Buffer;
  /** The request as the responder at `responder` receives it. */
  readonly datagram: Datagram;
  /** The same request with the responder's COOKIE as its first payload. */
  withCookie(cookie: Buffer): Datagram;
}

let attempts = 0;

export function strangerInit(address: string, responder = '192.0.2.2'): StrangerAttempt {
  const random = seededRandom(`${address}#${attempts++}`);
  const { a } = connectionPair();
  const offer = offerProposals(a.ikePolicy.proposalSets, 'ike', Buffer.alloc(0), cryptoRegistry);
  const keyPair = cryptoRegistry.dhGroup(preferredDhGroup(offer)!)!.generateKeyPair(random);
  const local = { address, port: 500 };
  const remote = { address: responder, port: 500 };
  const spiI = random(8);
  const Ni = random(32);
  const build = (cookie?: Buffer): Datagram => ({
    local: remote,
    remote: local,
    bytes: buildIkeSaInitRequest({ spiI, Ni, keyPair, offer, local, remote, fragmentation: false, ...(cookie === undefined ? {} : { cookie }) }),
  });
  return { spiI, datagram: build(), withCookie: build };
}

export function decoded(bytes: Buffer): IkeMessage {
  const m = decodeMessage(bytes);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}

export function notifiesOf(m: IkeMessage): NotifyPayload[] {
  return m.payloads.filter((p): p is NotifyPayload => !isUnknownPayload(p) && p.type === PayloadType.N);
}

/** The COOKIE of a responder's stateless answer (2.6), or undefined. */
export function cookieIn(bytes: Buffer): Buffer | undefined {
  return notifiesOf(decoded(bytes)).find((n) => n.notifyType === NotifyType.COOKIE)?.data;
}
