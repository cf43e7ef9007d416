/**
 * What our IKE_SA_INIT messages announce (RFC 7296 1.2): NAT detection (2.23) and, when
 * fragmentation is on, IKEV2_FRAGMENTATION_SUPPORTED (RFC 7383 2.3), in request and response
 * alike. Not SIGNATURE_HASH_ALGORITHMS (RFC 7427 4): ikekm authenticates with preshared keys only,
 * so it has no signature hashes to offer.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { buildIkeSaInitRequest, respondToIkeSaInit } from '../../src/ikev2/exchanges/ike-sa-init.js';
import { offerProposals, preferredDhGroup } from '../../src/ikev2/exchanges/negotiation.js';
import { parseProposal, type AlgorithmSet } from '../../src/policy/proposal-syntax.js';
import { NotifyType, PayloadType, decodeMessage, isUnknownPayload, type IkeMessage } from '../../src/wire/index.js';

const I = { address: '192.0.2.1', port: 500 };
const R = { address: '192.0.2.2', port: 500 };

function ikeSet(text: string): AlgorithmSet {
  const r = parseProposal(text, 'ike');
  if (!r.ok) throw r.error;
  return r.value;
}

function decoded(bytes: Buffer): IkeMessage {
  const m = decodeMessage(bytes);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}

const notifyTypes = (m: IkeMessage): number[] =>
  m.payloads.flatMap((p) => (!isUnknownPayload(p) && p.type === PayloadType.N ? [p.notifyType] : []));

/** One IKE_SA_INIT request and the response to it, both as decoded messages. */
function exchange(fragmentation: boolean): { request: IkeMessage; response: IkeMessage } {
  const sets = [ikeSet('aes128gcm16-prfsha256-x25519')];
  const offer = offerProposals(sets, 'ike', Buffer.alloc(0), cryptoRegistry);
  const keyPair = cryptoRegistry.dhGroup(preferredDhGroup(offer)!)!.generateKeyPair(randomBytes);
  const request = buildIkeSaInitRequest({ spiI: randomBytes(8), Ni: randomBytes(32), keyPair, offer, local: I, remote: R, fragmentation });
  const answer = respondToIkeSaInit({
    message: decoded(request),
    spiR: randomBytes(8),
    sets,
    registry: cryptoRegistry,
    random: randomBytes,
    nonceLength: 32,
    local: R,
    remote: I,
    fragmentation,
  });
  if (answer.kind !== 'accept') throw new Error(`refused: ${answer.reason}`);
  return { request: decoded(request), response: decoded(answer.response) };
}

describe('IKE_SA_INIT notifies', () => {
  it('request and response carry NAT detection and IKEV2_FRAGMENTATION_SUPPORTED, and nothing else', () => {
    const { request, response } = exchange(true);
    for (const m of [request, response]) {
      expect(notifyTypes(m)).toEqual([NotifyType.NAT_DETECTION_SOURCE_IP, NotifyType.NAT_DETECTION_DESTINATION_IP, NotifyType.IKEV2_FRAGMENTATION_SUPPORTED]);
    }
  });

  it('without fragmentation, NAT detection alone', () => {
    const { request, response } = exchange(false);
    for (const m of [request, response]) {
      expect(notifyTypes(m)).toEqual([NotifyType.NAT_DETECTION_SOURCE_IP, NotifyType.NAT_DETECTION_DESTINATION_IP]);
    }
  });

  it('never SIGNATURE_HASH_ALGORITHMS: there is no signature authentication to announce', () => {
    for (const fragmentation of [true, false]) {
      const { request, response } = exchange(fragmentation);
      expect(notifyTypes(request)).not.toContain(NotifyType.SIGNATURE_HASH_ALGORITHMS);
      expect(notifyTypes(response)).not.toContain(NotifyType.SIGNATURE_HASH_ALGORITHMS);
    }
  });
});
