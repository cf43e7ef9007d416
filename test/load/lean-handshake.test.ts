/**
 * The load generator's handshake against ikekm's own engine as the responder (in one process, on
 * virtual time): what it sends must set up real IKE SAs and Child SAs, key for key, and what a
 * responder refuses must come back as a failure with the responder's reason.
 */
import { describe, expect, it } from 'vitest';
import { LeanHandshake } from '../../src/load/lean-handshake.js';
import { DEFAULT_SIGNATURE_POLICY, parseIdentityConfig, privateKeyHandle, type ConnectionConfig, type EngineSettings } from '../../src/config/model.js';
import type { KeyAlgorithm } from '../../src/pki/certificate-builder.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import { testCa, testCertificate, type TestCa } from '../support/test-pki.js';
import { connectionPair } from '../engine/fixtures.js';
import { Lab } from '../engine/lab.js';
import { decodeMessage, PayloadType, type NoncePayload, type SaPayload } from '../../src/wire/index.js';
import { generatorShared, runLabHandshakes } from './lab-generator.js';

interface RunOptions {
  readonly pskB?: string;
  readonly espB?: string[];
  readonly settings?: Partial<EngineSettings>;
  /** Both sides authenticate with certificates of these keys instead of the PSK. */
  readonly certificates?: { readonly a: KeyAlgorithm; readonly b: KeyAlgorithm; readonly trustB?: TestCa };
}

/** A lab whose side b answers; the generator stands where side a would, on its own port. */
async function runHandshakes(count: number, options: RunOptions = {}) {
  const plain = connectionPair({ ike: ['aes128gcm16-prfsha256-x25519'], esp: ['aes128gcm16'], ...(options.pskB === undefined ? {} : { pskB: options.pskB }), ...(options.espB === undefined ? {} : { espB: options.espB }) });
  const pair = options.certificates === undefined ? plain : withCertificates(plain, options.certificates);
  // One source address for all: the per-address flood thresholds stand aside, as in a load test.
  const settings = { cookieThresholdPerAddress: 1000, blockThresholdPerAddress: 1000, cookieThreshold: 1000, ...options.settings };
  const lab = new Lab({ connections: { a: [], b: [pair.b] }, silent: true, settings, startMs: Date.now() });
  const shared = generatorShared(pair.a);
  const outcomes = await runLabHandshakes(lab, shared, count);
  return { lab, outcomes, shared };
}

const ca = testCa('C=CH, O=ikekm, CN=ikekm Load CA');

/** Both connections of the pair with certificates from `ca` (the responder may trust another CA). */
function withCertificates(pair: { a: ConnectionConfig; b: ConnectionConfig }, keys: NonNullable<RunOptions['certificates']>): { a: ConnectionConfig; b: ConnectionConfig } {
  const side = (c: ConnectionConfig, name: 'a' | 'b', key: KeyAlgorithm, peer: string, trusted: TestCa): ConnectionConfig => {
    const cert = testCertificate(ca, `C=CH, O=ikekm, CN=${name}.load.test`, { key, san: [`${name}.load.test`] });
    const subject = parseCertificate(cert.der);
    const anchor = parseCertificate(trusted.der);
    if (!subject.ok || !anchor.ok) throw new Error('test certificate does not parse');
    return {
      ...c,
      ikePolicy: { ...c.ikePolicy, auth: 'pubkey', signature: DEFAULT_SIGNATURE_POLICY },
      local: { address: c.local.address, port: c.local.port, id: { kind: 'der-asn1-dn', der: subject.value.subject.der }, certificate: { chain: [cert.der], sendCert: 'ifasked' }, privateKey: privateKeyHandle(cert.privateKey) },
      remote: { ...c.remote, id: parseIdentityConfig(`C=CH, O=ikekm, CN=${peer}.load.test`), trust: { anchors: [trusted.der], crls: [], caHashes: [anchor.value.spkiSha1] } },
    };
  };
  return { a: side(pair.a, 'a', keys.a, 'b', ca), b: side(pair.b, 'b', keys.b, 'a', keys.trustB ?? ca) };
}

describe('LeanHandshake against the ikekm engine', () => {
  it('authenticates with certificates both ways (RSA and ECDSA keys, RFC 7427 signatures)', async () => {
    const { lab, outcomes } = await runHandshakes(6, { certificates: { a: 'rsa-2048', b: 'ecdsa-p256' } });
    expect(outcomes.map((o) => (o.kind === 'failed' ? `${o.reason}: ${o.detail}` : o.kind))).toEqual(Array.from({ length: 6 }, () => 'established'));
    expect(lab.b.engine.status().filter((s) => s.state === 'established' && s.children.length === 1)).toHaveLength(6);
  });

  it("a responder that does not trust the generator's CA answers AUTHENTICATION_FAILED", async () => {
    const other = testCa('C=CH, O=elsewhere, CN=Other CA');
    const { outcomes } = await runHandshakes(2, { certificates: { a: 'ecdsa-p256', b: 'ecdsa-p256', trustB: other } });
    expect(outcomes.map((o) => (o.kind === 'failed' ? o.reason : o.kind))).toEqual(['AUTHENTICATION_FAILED', 'AUTHENTICATION_FAILED']);
  });

  it('sends an IKE_SA_INIT request whose proposals carry no SPI (RFC 7296 3.3.1), with its own SPIi and nonce', async () => {
    const { shared } = await runHandshakes(0);
    const first = new LeanHandshake(shared, Buffer.alloc(8, 1));
    const second = new LeanHandshake(shared, Buffer.alloc(8, 2));
    const decoded = decodeMessage(first.firstRequest);
    if (!decoded.ok) throw decoded.error;
    const sa = decoded.value.payloads.find((p) => p.type === PayloadType.SA) as SaPayload;
    expect(sa.proposals.map((p) => p.spi.length)).toEqual([0]);
    expect(decoded.value.header.spiI.equals(Buffer.alloc(8, 1))).toBe(true);
    const nonceOf = (bytes: Buffer): string => {
      const m = decodeMessage(bytes);
      if (!m.ok) throw m.error;
      return (m.value.payloads.find((p) => p.type === PayloadType.Nonce) as NoncePayload).data.toString('hex');
    };
    expect(nonceOf(first.firstRequest)).not.toBe(nonceOf(second.firstRequest));
  });

  it('sets up IKE SAs with their first Child SA, reusing one key pair', async () => {
    const { lab, outcomes, shared } = await runHandshakes(20);
    expect(outcomes).toEqual(Array.from({ length: 20 }, () => ({ kind: 'established', childSa: true })));
    const established = lab.b.engine.status().filter((s) => s.state === 'established');
    expect(established).toHaveLength(20);
    expect(established.every((s) => s.children.length === 1 && s.children[0]!.state === 'installed')).toBe(true);
    // The responder installed the Child SAs' ESP SAs: two per handshake.
    expect(lab.b.kernel.sas()).toHaveLength(40);
    expect(shared.keyPairs.size).toBe(1);
  });

  it('answers COOKIE demands (RFC 7296 2.6) by starting again with the cookie', async () => {
    const { outcomes, lab } = await runHandshakes(5, { settings: { cookieThreshold: 1 } });
    expect(outcomes.map((o) => o.kind)).toEqual(['established', 'established', 'established', 'established', 'established']);
    // The first is admitted; it is half-open when the other four arrive, which get a COOKIE each.
    expect(lab.b.engine.counters().cookiesSent).toBe(4);
  });

  it("reports the responder's refusal of our PSK with its notify", async () => {
    const { outcomes } = await runHandshakes(3, { pskB: 'another key' });
    expect(outcomes.map((o) => (o.kind === 'failed' ? o.reason : o.kind))).toEqual(['AUTHENTICATION_FAILED', 'AUTHENTICATION_FAILED', 'AUTHENTICATION_FAILED']);
  });

  it('a refused Child SA fails the handshake, named by the notify', async () => {
    const { outcomes, lab } = await runHandshakes(2, { espB: ['aes256gcm16'] });
    expect(outcomes.map((o) => (o.kind === 'failed' ? o.reason : o.kind))).toEqual(['NO_PROPOSAL_CHOSEN', 'NO_PROPOSAL_CHOSEN']);
    // RFC 7296 2.21.3: the IKE SA stays up without the Child SA.
    expect(lab.b.engine.status().filter((s) => s.state === 'established')).toHaveLength(2);
  });
});
