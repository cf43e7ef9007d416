/**
 * The exchange modules on their own, without machines: IKE_SA_INIT and IKE_AUTH between two
 * sides calling the builders and checkers directly, so a failure here points at the protocol
 * layer, not at the state machines.
 */
import { describe, expect, it } from 'vitest';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { openMessage, sealMessage, headerFor } from '../../src/ikev2/ike-sa-session.js';
import { createChildOffer } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import { connectionSelectors } from '../../src/ikev2/exchanges/connection-policy.js';
import { buildIkeAuthRequest, processIkeAuthResponse, respondToIkeAuth } from '../../src/ikev2/exchanges/ike-auth.js';
import {
  buildIkeSaInitRequest,
  processIkeSaInitResponse,
  respondToIkeSaInit,
} from '../../src/ikev2/exchanges/ike-sa-init.js';
import { checkMessage } from '../../src/ikev2/exchanges/message-rules.js';
import { EXCHANGES } from '../../src/ikev2/exchanges/index.js';
import { IKE_SA_INIT_REQUEST } from '../../src/ikev2/exchanges/ike-sa-init.js';
import { offerProposals, preferredDhGroup } from '../../src/ikev2/exchanges/negotiation.js';
import { ExchangeType, decodeMessage, type IkeMessage } from '../../src/wire/index.js';
import { connectionPair, seededRandom } from './fixtures.js';

const registry = cryptoRegistry;
const A = { address: '192.0.2.1', port: 500 };
const B = { address: '192.0.2.2', port: 500 };

function decoded(bytes: Buffer): IkeMessage {
  const m = decodeMessage(bytes);
  if (!m.ok) throw new Error(m.error.message);
  return m.value;
}

function initExchange(ikeA: string[], ikeB: string[] = ikeA, pskB?: string) {
  const { a, b } = connectionPair({ ike: ikeA, ikeB, ...(pskB === undefined ? {} : { pskB }) });
  const randomA = seededRandom('a');
  const randomB = seededRandom('b');
  const spiI = randomA(8);
  const offer = offerProposals(a.ikePolicy.proposalSets, 'ike', Buffer.alloc(0), registry);
  const group = preferredDhGroup(offer)!;
  const keyPair = registry.dhGroup(group)!.generateKeyPair(randomA);
  const request = { spiI, Ni: randomA(32), keyPair, offer, local: A, remote: B, fragmentation: true };
  const m1 = buildIkeSaInitRequest(request);
  const r = respondToIkeSaInit({
    message: decoded(m1),
    spiR: randomB(8),
    sets: b.ikePolicy.proposalSets,
    registry,
    random: randomB,
    nonceLength: 32,
    local: B,
    remote: A,
    fragmentation: true,
  });
  return { a, b, randomA, randomB, request, m1, r };
}

describe('the exchange table', () => {
  it('describes each exchange consistently: type, direction, protection', () => {
    for (const [name, x] of Object.entries(EXCHANGES)) {
      expect(x.request.exchangeType).toBe(ExchangeType[name as keyof typeof ExchangeType]);
      expect(x.response.exchangeType).toBe(x.request.exchangeType);
      expect([x.request.response, x.response.response]).toEqual([false, true]);
      expect(x.request.encrypted).toBe(name !== 'IKE_SA_INIT');
      expect(x.response.encrypted).toBe(name !== 'IKE_SA_INIT');
    }
  });
});

describe('IKE_SA_INIT', () => {
  it('the request follows its rule', () => {
    const { m1 } = initExchange(['aes128-sha256-modp2048']);
    const m = decoded(m1);
    expect(checkMessage(IKE_SA_INIT_REQUEST, m.payloads).ok).toBe(true);
    expect(m.header.exchangeType).toBe(ExchangeType.IKE_SA_INIT);
  });

  for (const ike of ['aes128-sha256-modp2048', 'aes256gcm16-prfsha384-ecp384', 'aes128gcm16-prfsha256-x25519']) {
    it(`both sides derive the same keys with ${ike}`, () => {
      const { request, r } = initExchange([ike]);
      expect(r.kind).toBe('accept');
      if (r.kind !== 'accept') return;
      const out = processIkeSaInitResponse({ request, message: decoded(r.response), local: A, remote: B, registry });
      expect(out.kind).toBe('established');
      if (out.kind !== 'established') return;
      expect(out.security.keys.SK_d.equals(r.security.keys.SK_d)).toBe(true);
      expect(out.security.keys.SK_ei.equals(r.security.keys.SK_ei)).toBe(true);
      expect(out.nat).toEqual({ supported: true, localBehindNat: false, remoteBehindNat: false });
      expect(out.peerFragmentation).toBe(true);
    });
  }

  it('answers NO_PROPOSAL_CHOSEN with both sides in the reason', () => {
    const { r } = initExchange(['aes128-sha256-modp2048'], ['aes256gcm16-prfsha384-ecp384']);
    expect(r.kind).toBe('reject');
    if (r.kind !== 'reject') return;
    expect(r.notify).toBe('NO_PROPOSAL_CHOSEN');
    expect(r.reason).toMatch(/aes128-sha256.*modp2048/);
    expect(r.reason).toMatch(/aes256gcm16.*ecp384/);
  });

  it('answers INVALID_KE_PAYLOAD with the group it wants, and the initiator accepts to retry', () => {
    const { request, r } = initExchange(['aes128-sha256-modp2048-ecp256'], ['aes128-sha256-ecp256']);
    expect(r.kind).toBe('reject');
    if (r.kind !== 'reject') return;
    expect(r.notify).toBe('INVALID_KE_PAYLOAD');
    const out = processIkeSaInitResponse({ request, message: decoded(r.response), local: A, remote: B, registry });
    expect(out).toEqual({ kind: 'invalid-ke', group: 19 });
  });
});

describe('IKE_AUTH with a PSK', () => {
  function authExchange(pskB?: string) {
    const { a, b, randomA, randomB, request, m1, r } = initExchange(['aes128gcm16-prfsha256-x25519'], undefined, pskB);
    if (r.kind !== 'accept') throw new Error('no SA');
    const out = processIkeSaInitResponse({ request, message: decoded(r.response), local: A, remote: B, registry });
    if (out.kind !== 'established') throw new Error('no SA');
    const tsA = connectionSelectors(a);
    const child = createChildOffer({ sets: a.dataPolicy.proposalSets, inIkeAuth: true, localTs: tsA.local, remoteTs: tsA.remote, mode: 'tunnel', registry, random: randomA });
    const psk = { kind: 'psk', psk: a.local.psk!.bytes } as const;
    const inner = buildIkeAuthRequest({ sa: out.security, registry, realMessage1: m1, Nr: out.Nr, connection: a, own: psk, certReq: [], child, initialContact: true });
    const bytes = sealMessage(out.security, headerFor(out.security, ExchangeType.IKE_AUTH, 1, false), inner, registry, randomA);
    const opened = openMessage(r.security, bytes, registry);
    if (!opened.ok) throw new Error(opened.error.kind);
    const answer = respondToIkeAuth({ sa: r.security, registry, random: randomB, realMessage1: m1, realMessage2: r.response, Ni: r.Ni, Nr: r.Nr, candidates: [b], inner: opened.value.inner });
    const back = sealMessage(r.security, headerFor(r.security, ExchangeType.IKE_AUTH, 1, true), answer.response, registry, randomB);
    const reopened = openMessage(out.security, back, registry);
    if (!reopened.ok) throw new Error(reopened.error.kind);
    const result = processIkeAuthResponse({ sa: out.security, registry, realMessage2: r.response, Ni: request.Ni, Nr: out.Nr, connection: a, own: psk, peer: psk, inner: reopened.value.inner, child });
    return { answer, result };
  }

  it('authenticates both sides and creates the first Child SA with matching keys', () => {
    const { answer, result } = authExchange();
    expect(answer.kind).toBe('authenticated');
    expect(result.kind).toBe('authenticated');
    if (answer.kind !== 'authenticated' || result.kind !== 'authenticated') return;
    expect(answer.initialContact).toBe(true);
    expect(answer.child?.kind).toBe('created');
    expect(result.child?.kind).toBe('created');
    if (answer.child?.kind !== 'created' || result.child?.kind !== 'created') return;
    const i = result.child.params;
    const rr = answer.child.params;
    expect(i.outboundSpi).toBe(rr.inboundSpi);
    expect(i.inboundSpi).toBe(rr.outboundSpi);
    expect(i.keys.encrI.equals(rr.keys.encrI)).toBe(true);
    expect(i.keys.encrR.equals(rr.keys.encrR)).toBe(true);
  });

  it('a wrong PSK gives AUTHENTICATION_FAILED naming the ID and the method', () => {
    const { answer, result } = authExchange('not the right key');
    expect(answer.kind).toBe('auth-failed');
    if (answer.kind === 'auth-failed') expect(answer.reason).toMatch(/192\.0\.2\.1.*PSK/);
    expect(result.kind).toBe('auth-failed');
  });
});
