/**
 * IKE_SA_INIT requests from strangers, as a flood brings them: valid requests (the responder's
 * connection accepts them) from addresses and SPIs of our choosing, which never go further.
 */
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { buildIkeSaInitRequest } from '../../src/ikev2/exchanges/ike-sa-init.js';
import { offerProposals, preferredDhGroup } from '../../src/ikev2/exchanges/negotiation.js';
import type { Datagram } from '../../src/ports.js';
import { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from '../../src/config/model.js';
import { connectionPair, seededRandom } from './fixtures.js';
import { Lab, type LabOptions } from './lab.js';

/** The responder's address in the Lab (side b). */
export const RESPONDER = { address: '192.0.2.2', port: 500 };

/** A valid IKE_SA_INIT request from `address`, as the responder receives it. */
export function strangerInitBytes(address: string): Buffer {
  const random = seededRandom(address);
  const { a } = connectionPair();
  const offer = offerProposals(a.ikePolicy.proposalSets, 'ike', Buffer.alloc(0), cryptoRegistry);
  const keyPair = cryptoRegistry.dhGroup(preferredDhGroup(offer)!)!.generateKeyPair(random);
  return buildIkeSaInitRequest({ spiI: random(8), Ni: random(32), keyPair, offer, local: { address, port: 500 }, remote: RESPONDER, fragmentation: false });
}

/**
 * The `n`th datagram of a flood of `bytes` from 198.51.100.0/24 and beyond: a fresh copy (as a
 * socket hands each datagram over) with its own SPIi, so each is a new IKE_SA_INIT (2.1).
 */
export function floodDatagram(bytes: Uint8Array, n: number): Datagram {
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(n, 4);
  const address = `198.51.${100 + ((n >> 8) & 0x7f)}.${n & 0xff}`;
  return { local: RESPONDER, remote: { address, port: 500 }, bytes: copy };
}

/** A Lab whose responder (b) accepts IKE_SA_INIT from any address, as a road-warrior gateway does. */
export function openResponderLab(options: LabOptions = { silent: true }, settings: Partial<EngineSettings> = {}): Lab {
  const lab = new Lab(options);
  const { b } = connectionPair();
  lab.b.engine.reload({ settings: { ...DEFAULT_ENGINE_SETTINGS, ...settings }, connections: [{ ...b, remote: { ...b.remote, address: '%any' } }] });
  return lab;
}

/**
 * Settings under which every valid IKE_SA_INIT makes a half-open SA (no COOKIE, no rate): what a
 * flood that returns our COOKIEs gets, and the way to measure what each half-open SA costs.
 */
export const ADMIT_EVERY_INIT: Partial<EngineSettings> = { cookieThreshold: 1_000_000, ikeSaInitPerSecond: 1_000_000 };
