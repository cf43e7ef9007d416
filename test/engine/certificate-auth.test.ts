/**
 * Signature authentication with X.509 certificates between two engines (RFC 7296 2.15, 3.6,
 * 3.7; RFC 7427): each side signs its AUTH octets through the signing port and checks the peer's
 * certificate chain before it believes the peer's AUTH; both steps are states of the chart. What
 * a refusal says names the certificate and the rule, on the side that refuses; the other side is
 * told AUTHENTICATION_FAILED (2.21.2). A record of such a negotiation replays byte for byte.
 */
import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ENGINE_SETTINGS, DEFAULT_SIGNATURE_POLICY, parseIdentityConfig, privateKeyHandle, type ConnectionConfig, type SignaturePolicy } from '../../src/config/model.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { parseCertificate } from '../../src/pki/certificate.js';
import type { KeyAlgorithm } from '../../src/pki/certificate-builder.js';
import type { RecordEntry } from '../../src/replay/record-entry.js';
import { recordJournal } from '../../src/replay/record-journal.js';
import { replayRecord } from '../../src/replay/replay.js';
import { testCa, testCertificate, testCrl, type TestCa, type TestCertificate } from '../support/test-pki.js';
import { connectionPair } from './fixtures.js';
import { Lab } from './lab.js';

const NOW = Date.parse('2026-12-05T12:00:00Z');
const ca = testCa('C=CH, O=ikekm, CN=ikekm Test CA', { nowMs: NOW });

interface Side {
  readonly certificate: TestCertificate;
  /** Intermediates sent after the end entity. */
  readonly chain?: readonly Buffer[];
  /** The ID written; undefined: the certificate's subject DN. */
  readonly id?: string;
  readonly trust?: { readonly cas: readonly TestCa[]; readonly crls?: readonly Buffer[] };
  readonly signature?: Partial<SignaturePolicy>;
  readonly sendCert?: 'always' | 'ifasked';
}

function gateway(name: 'a' | 'b', key: KeyAlgorithm = 'ecdsa-p256', issuer: TestCa = ca): TestCertificate {
  return testCertificate(issuer, `C=CH, O=ikekm, CN=gw-${name}.example`, { key, san: [`gw-${name}.example`, name === 'a' ? '192.0.2.1' : '192.0.2.2'], nowMs: NOW });
}

const caHash = (c: TestCa): Buffer => {
  const parsed = parseCertificate(c.der);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value.spkiSha1;
};

function withCertificates(c: ConnectionConfig, own: Side, remoteId: string | undefined): ConnectionConfig {
  const subject = parseCertificate(own.certificate.der);
  if (!subject.ok) throw new Error(subject.error);
  const cas = own.trust?.cas ?? [ca];
  return {
    ...c,
    ikePolicy: { ...c.ikePolicy, auth: 'pubkey', signature: { ...DEFAULT_SIGNATURE_POLICY, ...own.signature } },
    local: {
      address: c.local.address,
      port: c.local.port,
      id: own.id === undefined ? { kind: 'der-asn1-dn', der: subject.value.subject.der } : parseIdentityConfig(own.id),
      certificate: { chain: [own.certificate.der, ...(own.chain ?? [])], sendCert: own.sendCert ?? 'ifasked' },
      privateKey: privateKeyHandle(own.certificate.privateKey),
    },
    remote: {
      ...c.remote,
      ...(remoteId === undefined ? {} : { id: parseIdentityConfig(remoteId) }),
      trust: { anchors: cas.map((x) => x.der), crls: own.trust?.crls ?? [], caHashes: cas.map(caHash) },
    },
  };
}

/** A and B with certificates; by default each expects the other's subject DN. */
function certificateLab(a: Side, b: Side, options: { readonly remoteIdA?: string; readonly remoteIdB?: string; readonly journal?: { a: RecordEntry[]; b: RecordEntry[] } } = {}) {
  const pair = connectionPair();
  const states = { a: [] as string[], b: [] as string[] };
  const dn = (s: Side) => s.id ?? `C=CH, O=ikekm, CN=${s.certificate.subject.split('CN=')[1]}`;
  const records = options.journal;
  const lab = new Lab({
    startMs: NOW,
    connections: { a: [withCertificates(pair.a, a, options.remoteIdA ?? dn(b))], b: [withCertificates(pair.b, b, options.remoteIdB ?? dn(a))] },
    inspect: (side, e: InspectionEvent) => {
      const id = (e.actorRef as { id?: string }).id ?? '';
      if (e.type !== '@xstate.snapshot' || !id.startsWith('ike-') || id.includes('/')) return;
      const value = (e.snapshot as { value?: unknown }).value;
      if (value !== undefined) states[side].push(JSON.stringify(value));
    },
    ...(records === undefined ? {} : { journal: (side: 'a' | 'b', start: Parameters<typeof recordJournal>[1]) => recordJournal((entry) => records[side].push(entry), start) }),
  });
  return { lab, states };
}

const failures = (lab: Lab, side: 'a' | 'b') => lab[side].events.filter((e) => e.kind === 'ike-sa-failed');
const logged = (lab: Lab, side: 'a' | 'b', message: string) => lab[side].logs.filter((l) => l.message === message).map((l) => l.fields);

describe('signature authentication between two engines', () => {
  it('ECDSA initiator, RSA responder: each signs (RFC 7427 method 14), checks the other chain, and the first Child SA comes up', async () => {
    const { lab, states } = certificateLab({ certificate: gateway('a', 'ecdsa-p256') }, { certificate: gateway('b', 'rsa-2048') });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    // The steps are states of the chart, in this order on each side.
    const order = (list: string[], ...wanted: string[]) => wanted.map((w) => list.findIndex((s) => s.includes(w)));
    const a = order(states.a, '"ikeAuth":"signing"', '"ikeAuth":"allocatingSpi"', '"ikeAuth":"awaitingResponse"', '"ikeAuth":"checkingPeer"', '"established"');
    expect(a.every((i) => i >= 0)).toBe(true);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    const b = order(states.b, '"awaitingIkeAuth":"waiting"', '"awaitingIkeAuth":"checkingPeer"', '"awaitingIkeAuth":"signing"', '"awaitingIkeAuth":"allocatingSpi"', '"established"');
    expect(b.every((i) => i >= 0)).toBe(true);
    expect([...b].sort((x, y) => x - y)).toEqual(b);
    // Each names what the other proved with.
    expect(logged(lab, 'a', 'IKE_AUTH done: IKE SA established')[0]?.method).toBe('RSASSA-PKCS1-v1_5 SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "C=CH, O=ikekm, CN=gw-b.example"');
    expect(logged(lab, 'b', 'IKE_AUTH answered: IKE SA established')[0]?.method).toBe('ECDSA SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "C=CH, O=ikekm, CN=gw-a.example"');
    expect(lab.a.engine.status()[0]?.peerId).toBe('C=CH, O=ikekm, CN=gw-b.example');
    expect(lab.b.engine.status()[0]?.peerId).toBe('C=CH, O=ikekm, CN=gw-a.example');
    expect(logged(lab, 'b', "the peer's certificate checked out")[0]).toMatchObject({ chain: ['C=CH, O=ikekm, CN=gw-a.example', 'C=CH, O=ikekm, CN=ikekm Test CA'] });
  });

  it('the older methods when the policy keeps to them: RSA with SHA-1 (method 1), ECDSA P-256 (method 9)', async () => {
    const classic = { digitalSignature: false };
    const { lab } = certificateLab({ certificate: gateway('a', 'rsa-2048'), signature: classic }, { certificate: gateway('b', 'ecdsa-p256'), signature: classic });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    expect(logged(lab, 'b', 'IKE_AUTH answered: IKE SA established')[0]?.method).toMatch(/^RSASSA-PKCS1-v1_5 SHA-1 \(AUTH method RSA_DIGITAL_SIGNATURE\)/);
    expect(logged(lab, 'a', 'IKE_AUTH done: IKE SA established')[0]?.method).toMatch(/^ECDSA SHA-256 \(AUTH method ECDSA_SHA256_P256\)/);
  });

  for (const classicSide of ['a', 'b'] as const) {
    it(`a policy that keeps to the older methods (the ${classicSide === 'a' ? 'initiator' : 'responder'}'s) announces no SIGNATURE_HASH_ALGORITHMS, so neither side signs with method 14 (RFC 7427 4)`, async () => {
      const classic = { signature: { digitalSignature: false } };
      const { lab } = certificateLab(
        { certificate: gateway('a', 'rsa-2048'), ...(classicSide === 'a' ? classic : {}) },
        { certificate: gateway('b', 'ecdsa-p256'), ...(classicSide === 'b' ? classic : {}) },
      );
      lab.a.engine.initiate('lab');
      expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
      // Each side names the method the other signed with.
      expect(logged(lab, 'b', 'IKE_AUTH answered: IKE SA established')[0]?.method).toMatch(/^RSASSA-PKCS1-v1_5 SHA-1 \(AUTH method RSA_DIGITAL_SIGNATURE\)/);
      expect(logged(lab, 'a', 'IKE_AUTH done: IKE SA established')[0]?.method).toMatch(/^ECDSA SHA-256 \(AUTH method ECDSA_SHA256_P256\)/);
    });
  }

  it('RSASSA-PSS when the policy asks for it', async () => {
    const { lab } = certificateLab({ certificate: gateway('a', 'rsa-2048'), signature: { rsaPadding: 'pss' } }, { certificate: gateway('b', 'rsa-2048') });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    expect(logged(lab, 'b', 'IKE_AUTH answered: IKE SA established')[0]?.method).toMatch(/^RSASSA-PSS SHA-256 salt 32 \(AUTH method DIGITAL_SIGNATURE\)/);
    expect(logged(lab, 'a', 'IKE_AUTH done: IKE SA established')[0]?.method).toMatch(/^RSASSA-PKCS1-v1_5 SHA-256/);
  });

  it('a chain with an intermediate CA: each side sends its intermediate after the end entity, and trusts only the root', async () => {
    const intermediateA = testCa('C=CH, O=ikekm, CN=Intermediate A', { nowMs: NOW, issuer: ca });
    const intermediateB = testCa('C=CH, O=ikekm, CN=Intermediate B', { nowMs: NOW, issuer: ca, key: 'rsa-2048' });
    const a = gateway('a', 'ecdsa-p256', intermediateA);
    const b = gateway('b', 'rsa-2048', intermediateB);
    const { lab } = certificateLab({ certificate: a, chain: [intermediateA.der] }, { certificate: b, chain: [intermediateB.der] });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    expect(logged(lab, 'b', "the peer's certificate checked out")[0]).toMatchObject({ chain: ['C=CH, O=ikekm, CN=gw-a.example', 'C=CH, O=ikekm, CN=Intermediate A', 'C=CH, O=ikekm, CN=ikekm Test CA'] });
    expect(logged(lab, 'a', "the peer's certificate checked out")[0]).toMatchObject({ chain: ['C=CH, O=ikekm, CN=gw-b.example', 'C=CH, O=ikekm, CN=Intermediate B', 'C=CH, O=ikekm, CN=ikekm Test CA'] });
  });

  it('a DN pattern with a wildcard accepts any gateway of the organisation; FQDN IDs in the SAN work too', async () => {
    const { lab } = certificateLab({ certificate: gateway('a'), id: 'gw-a.example' }, { certificate: gateway('b') }, { remoteIdB: 'gw-a.example', remoteIdA: 'C=CH, O=ikekm, CN=*' });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    expect(lab.b.engine.status()[0]?.peerId).toBe('gw-a.example');
    expect(lab.a.engine.status()[0]?.peerId).toBe('C=CH, O=ikekm, CN=gw-b.example');
  });

  it("a revoked initiator certificate: the responder names it, its issuer and serial, and the CRL; the initiator hears AUTHENTICATION_FAILED", async () => {
    const a = gateway('a');
    const crl = testCrl(ca, [{ certificate: a, reason: 'keyCompromise' }], NOW);
    const { lab, states } = certificateLab({ certificate: a }, { certificate: gateway('b'), trust: { cas: [ca], crls: [crl.der] } });
    lab.a.engine.initiate('lab');
    await lab.runUntil(() => failures(lab, 'a').length > 0 && failures(lab, 'b').length > 0, 60_000);
    const serial = [...a.serial].map((o) => o.toString(16).padStart(2, '0')).join(':');
    const [refusal] = failures(lab, 'b');
    expect(refusal?.reason).toBe(
      `the peer's certificate is refused for connection lab: "C=CH, O=ikekm, CN=gw-a.example" (issuer "C=CH, O=ikekm, CN=ikekm Test CA", serial ${serial}): revoked at 2026-12-05T11:59:00Z (keyCompromise) by the CRL of "C=CH, O=ikekm, CN=ikekm Test CA" (thisUpdate 2026-12-05T11:00:00Z)`,
    );
    expect(refusal?.notify).toBe('AUTHENTICATION_FAILED');
    expect(failures(lab, 'a')[0]).toMatchObject({ notify: 'AUTHENTICATION_FAILED' });
    // The responder refused before it signed anything.
    expect(states.b.some((s) => s.includes('"awaitingIkeAuth":"signing"'))).toBe(false);
    expect(lab.a.engine.size() + lab.b.engine.size()).toBe(0);
  });

  it("an ID its certificate does not name: refused, naming the ID and what the certificate has (RFC 7296 3.5)", async () => {
    const { lab } = certificateLab({ certificate: gateway('a'), id: 'mail.example' }, { certificate: gateway('b') }, { remoteIdB: 'mail.example' });
    lab.a.engine.initiate('lab');
    await lab.runUntil(() => failures(lab, 'b').length > 0, 60_000);
    expect(failures(lab, 'b')[0]?.reason).toMatch(
      /^the peer's certificate is refused for connection lab: "C=CH, O=ikekm, CN=gw-a\.example" \(issuer .*\) does not name the peer's ID mail\.example: it has subject "C=CH, O=ikekm, CN=gw-a\.example", subjectAltName DNS:gw-a\.example, IP:192\.0\.2\.1/,
    );
  });

  it("a responder whose certificate comes from a CA the initiator does not trust: the initiator refuses it and tells it so (2.21.2)", async () => {
    const other = testCa('C=CH, O=elsewhere, CN=Other CA', { nowMs: NOW });
    const { lab } = certificateLab({ certificate: gateway('a') }, { certificate: gateway('b', 'ecdsa-p256', other), trust: { cas: [ca] } });
    lab.a.engine.initiate('lab');
    await lab.runUntil(() => failures(lab, 'a').length > 0 && lab.b.events.some((e) => e.kind === 'ike-sa-down'), 60_000);
    expect(failures(lab, 'a')[0]?.reason).toContain(
      `"C=CH, O=ikekm, CN=gw-b.example" (issuer "C=CH, O=elsewhere, CN=Other CA", serial`,
    );
    expect(failures(lab, 'a')[0]?.reason).toContain(`issued by "C=CH, O=elsewhere, CN=Other CA" which is neither among the peer's certificates nor a configured CA (configured: "C=CH, O=ikekm, CN=ikekm Test CA")`);
    // B had answered and considered the IKE SA up; A's INFORMATIONAL ends it.
    expect(lab.b.events.find((e) => e.kind === 'ike-sa-down')).toMatchObject({ cause: 'peer-rejected' });
  });

  it('an expired certificate is refused at the virtual time of the check', async () => {
    const a = testCertificate(ca, 'C=CH, O=ikekm, CN=gw-a.example', { san: ['gw-a.example'], nowMs: NOW, notAfterMs: NOW - 3_600_000 });
    const { lab } = certificateLab({ certificate: a }, { certificate: gateway('b') });
    lab.a.engine.initiate('lab');
    await lab.runUntil(() => failures(lab, 'b').length > 0, 60_000);
    expect(failures(lab, 'b')[0]?.reason).toMatch(/: expired at 2026-12-05T11:00:00Z \(now 2026-12-05T12:00:0\dZ\)$/);
  });

  it("a certificate of the wrong key type for the policy (auth: ecdsa-signature) is refused", async () => {
    const { lab } = certificateLab({ certificate: gateway('a', 'rsa-2048') }, { certificate: gateway('b'), signature: { keyType: 'ecdsa' } });
    lab.a.engine.initiate('lab');
    await lab.runUntil(() => failures(lab, 'b').length > 0, 60_000);
    expect(failures(lab, 'b')[0]?.reason).toBe(
      `the peer's certificate is refused for connection lab: IKE policy lab-ike authenticates with ECDSA signatures, but the key of the peer's certificate "C=CH, O=ikekm, CN=gw-a.example" is RSA-2048`,
    );
  });

  it("both sides' records replay byte for byte: the signatures and the certificate verdicts are recorded answers", async () => {
    const records = { a: [] as RecordEntry[], b: [] as RecordEntry[] };
    const { lab } = certificateLab({ certificate: gateway('a') }, { certificate: gateway('b', 'rsa-2048') }, { journal: records });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    for (const side of ['a', 'b'] as const) {
      const answers = records[side].filter((e) => e.t === 'in' && e.input.kind === 'deliver').map((e) => (e.t === 'in' && e.input.kind === 'deliver' ? e.input.event.type : ''));
      expect(answers).toEqual(expect.arrayContaining(['SIGNED', 'PEER_CERTIFICATES_CHECKED']));
      expect(JSON.stringify(records[side])).not.toContain('PRIVATE KEY');
      const outcome = await replayRecord(records[side], { registry: cryptoRegistry });
      expect(outcome).toMatchObject({ ok: true });
    }
  });

  it("a responder that cannot sign (no private key here) answers AUTHENTICATION_FAILED, and does not count it as the initiator's failure", async () => {
    const a = gateway('a');
    const { lab } = certificateLab({ certificate: a }, { certificate: gateway('b') });
    const b = withCertificates(connectionPair().b, { certificate: gateway('b') }, 'C=CH, O=ikekm, CN=gw-a.example');
    lab.b.engine.reload({ settings: DEFAULT_ENGINE_SETTINGS, connections: [{ ...b, local: { ...b.local, privateKey: undefined } }] });
    lab.a.engine.initiate('lab');
    await lab.runUntil(() => failures(lab, 'a').length > 0 && failures(lab, 'b').length > 0, 60_000);
    expect(failures(lab, 'b')[0]).toMatchObject({ reason: 'our signature could not be made: connection lab has no private key' });
    expect(failures(lab, 'b')[0]).not.toHaveProperty('notify');
    expect(failures(lab, 'a')[0]).toMatchObject({ notify: 'AUTHENTICATION_FAILED' });
  });
});
