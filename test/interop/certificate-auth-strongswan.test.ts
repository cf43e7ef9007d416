/**
 * Signature authentication with X.509 certificates between ikekm (side a, one engine on real
 * UDP, support/ikekm-peer.ts) and strongSwan's charon (side b), both holding certificates that
 * `ikekm pki` issued in the lab from one root CA per suite (support/lab-pki.ts):
 *
 * - ECDSA P-256 gateways, each side initiating: both sign with Digital Signature (AUTH method
 *   14, RFC 7427) and ECDSA with SHA-256, charon's log and ikekm's log say so, the keys match;
 *   P-384 with SHA-384;
 * - RSASSA-PSS both ways: this suite's charon runs with `rsa_pss = yes`, so every RSA Digital
 *   Signature it makes is PSS (RFC 4055 parameters in the AlgorithmIdentifier), and ikekm signs
 *   with PSS when its policy says `rsaPadding: pss`;
 * - a chain with an intermediate CA per side (`ikekm pki issue --ca-flag`), only the root
 *   trusted on both sides: each sends its intermediate after its end entity (RFC 7296 3.6) and
 *   the other builds the chain from it;
 * - ikekm's ID an FQDN its certificate carries as subjectAltName (RFC 7296 3.5, RFC 4945 3.1),
 *   charon's accepted by ikekm through a DN pattern with a wildcard, each side initiating;
 * - ikekm keeping to the older methods (`signature: { digitalSignature: false }`): RSA Digital
 *   Signature (method 1, SHA-1) on the wire;
 * - RSA-4096 certificates with an RSA-4096 intermediate, each side initiating: each IKE_AUTH
 *   is several times the 1280-octet datagram limit both sides keep, goes as SKF fragments (RFC
 *   7383) both ways, and the SA comes up;
 * - at the end tshark, with nothing but ikekm's key table, decrypts every IKE_AUTH and shows the
 *   AUTH method and CERT payloads of each.
 *
 * A second suite runs charon with `charon.signature_authentication = no` (no
 * SIGNATURE_HASH_ALGORITHMS, RFC 7427 4): with RSA both sides fall back to method 1, with ECDSA
 * P-256 to method 9 (RFC 4754), each way.
 *
 * RSA-2048 through `ikekm daemon` and its YAML, and a revoked certificate, are in
 * daemon-certificates-strongswan.test.ts.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import type { Lab } from './harness/netns.js';
import { describeInterop } from './harness/requirements.js';
import { labPubkeyConf, type LabPubkeyOptions } from './harness/swanctl-conf.js';
import type { IkeSaInfo } from './harness/vici.js';
import {
  AUTH_METHOD,
  CERTIFICATE_TSHARK_FIELDS,
  charonAuthentications,
  expectIkeAuthOnWire,
  ikeAuthOnWire,
  ikekmRecords,
  type CharonAuthentication,
} from './support/certificate-expect.js';
import { CHARON_READY, expectFreshKeysMatch, ikekmInitiates, nothingLeft, useIkekmCharonLab, type IkekmCharonLab, type Peers } from './support/ikekm-charon-lab.js';
import { ESP_CASES, IKE_CASES, expectNoMalformed, expectNoSecretsInIkekmLog, ikekmSa } from './support/ikekm-expect.js';
import type { PeerConnectionJson } from './support/ikekm-peer-config.js';
import { LabPki, installForCharon, type LabKeyType, type PkiEntity } from './support/lab-pki.js';
import { runTshark } from '../support/tshark.js';

const IKE = IKE_CASES.cbc;
const ESP = ESP_CASES.gcm;
const ROOT_DN = 'C=CH, O=ikekm, CN=ikekm Lab Root CA';

/** Both gateways of a case: ikekm's (a) with the file it loads, charon's (b). */
interface Gateways {
  readonly a: PkiEntity;
  /** ikekm's `cert` file: its end entity, then its intermediates. */
  readonly aFile: string;
  readonly b: PkiEntity;
  /** charon's intermediates (loaded into x509/, so it sends them). */
  readonly bIntermediates: readonly PkiEntity[];
}

/** What one IKE SA of a case must show on the wire (checked by the last test of the suite). */
interface WireExpectation {
  readonly name: string;
  readonly spiI: string;
  readonly request: string;
  readonly response: string;
  readonly requestCerts?: number;
  readonly responseCerts?: number;
  /** Both IKE_AUTH messages go as at least this many SKF fragments. */
  readonly minFragments?: number;
}

function ikekmConnection(lab: Lab, gw: Gateways, ca: PkiEntity, extra: Partial<PeerConnectionJson> = {}): PeerConnectionJson {
  return {
    name: 'lab',
    ike: [IKE.proposal],
    esp: [ESP.proposal],
    mode: 'tunnel',
    auth: 'pubkey',
    // No id: the certificate's subject DN, as strongSwan's default.
    local: { address: lab.a.outer4, cert: gw.aFile, key: gw.a.key },
    remote: { address: lab.b.outer4, id: gw.b.dn, ca: [ca.cert] },
    traffic: { local: [`${lab.a.inner4}/32`], remote: [`${lab.b.inner4}/32`] },
    // Listening: charon may initiate; ikekm initiates on command all the same.
    start: 'listen',
    ...extra,
  };
}

/** The suite's PKI and the steps its tests repeat. */
function certificateLab(env: IkekmCharonLab, rootType: LabKeyType) {
  let pki: LabPki | undefined;
  let root: PkiEntity | undefined;

  beforeAll(async () => {
    const { lab } = env.peers();
    pki = new LabPki(join(lab.dir, 'pki'));
    root = await pki.rootCa('root', ROOT_DN, rootType);
    installForCharon(join(lab.dir, 'b'), { cas: [root] });
  }, 60_000);

  // A case that failed half-way must not leave its SA to the next one.
  afterEach(async () => {
    const { charon, ikekm } = env.peers();
    if ((await charon.listSas()).length === 0) return;
    await ikekm.terminate({ connection: 'lab' });
    await charon.terminate({ ike: 'lab' }, { force: true, timeoutS: 2, allowFailure: true });
  });

  const ready = (): { pki: LabPki; root: PkiEntity } => {
    if (pki === undefined || root === undefined) throw new Error('the lab PKI was not made');
    return { pki, root };
  };

  /**
   * Gateway certificates for a case (OU = tag keeps each case's names apart), issued by the
   * root or through `intermediates` CAs of their own per side; charon's go into its folders.
   */
  const gateways = async (tag: string, type: LabKeyType, options: { readonly intermediates?: boolean; readonly intermediateType?: LabKeyType } = {}): Promise<Gateways> => {
    const { lab } = env.peers();
    const { pki, root } = ready();
    const issuerFor = async (side: 'a' | 'b'): Promise<PkiEntity> =>
      options.intermediates === true
        ? pki.issue(root, `int-${side}-${tag}`, { dn: `C=CH, O=ikekm, OU=${tag}, CN=ikekm Lab Intermediate CA ${side.toUpperCase()}`, type: options.intermediateType ?? type, caFlag: true })
        : root;
    const [issuerA, issuerB] = [await issuerFor('a'), await issuerFor('b')];
    const a = await pki.issue(issuerA, `gw-a-${tag}`, { dn: `C=CH, O=ikekm, OU=${tag}, CN=gw-a.lab.example`, san: ['gw-a.lab.example', lab.a.outer4], type });
    const b = await pki.issue(issuerB, `gw-b-${tag}`, { dn: `C=CH, O=ikekm, OU=${tag}, CN=gw-b.lab.example`, san: ['gw-b.lab.example', lab.b.outer4], type });
    const bIntermediates = issuerB === root ? [] : [issuerB];
    installForCharon(join(lab.dir, 'b'), { certs: [b, ...bIntermediates], keys: [b] });
    const aFile = issuerA === root ? a.cert : pki.bundle(`gw-a-${tag}-chain`, [a, issuerA]);
    return { a, aFile, b, bIntermediates };
  };

  /** charon: `auth = pubkey` with gateway b, only the root trusted for a; ikekm: gateway a, only the root trusted for b. */
  const configure = async (gw: Gateways, theirs: Partial<LabPubkeyOptions> = {}, ours: Partial<PeerConnectionJson> = {}): Promise<void> => {
    const { lab, charon, ikekm } = env.peers();
    const { root } = ready();
    charon.writeConf(labPubkeyConf(lab, 'b', { proposals: IKE.proposal, espProposals: ESP.proposal, cert: `${gw.b.name}.pem`, remoteId: gw.a.dn, cacerts: ['root.pem'], ...theirs }));
    await charon.loadAll();
    await ikekm.reload([ikekmConnection(lab, gw, root, ours)]);
  };

  return { ready, gateways, configure };
}

interface Established {
  readonly theirs: IkeSaInfo;
  /** charon's log from the start of the negotiation. */
  readonly charonLog: string;
  /** ikekm's record of the IKE SA's establishment. */
  readonly record: Record<string, unknown>;
}

/** ikekm initiates; both sides up, both agree, the keys match. */
async function ikekmUp(p: Peers, ourId = 'CN=gw-a.lab.example'): Promise<Established & { readonly id: string }> {
  const { charon, ikekm } = p;
  const since = ikekm.events().length;
  const logFrom = charon.log().length;
  const linesFrom = ikekm.logLines().length;
  const { id, sas } = await ikekmInitiates(p, { since, thisSa: true, orFailed: true, charonReady: CHARON_READY.oneSaFirstChildInstalled });
  const theirs = sas[0]!;
  const ours = ikekmSa(await ikekm.status(), theirs.spiI, theirs.spiR);
  expect(ours).toMatchObject({ id, role: 'initiator', state: 'established', peerId: theirs.localId });
  expect(theirs).toMatchObject({ state: 'ESTABLISHED', initiator: false });
  expect(theirs.remoteId.endsWith(ourId)).toBe(true);
  await expectFreshKeysMatch(p, theirs, { ike: IKE, esp: ESP, initiator: 'ikekm' });
  const [record] = ikekmRecords(ikekm.logLines().slice(linesFrom), 'IKE_AUTH done: IKE SA established');
  expect(record).toBeDefined();
  return { id, theirs, charonLog: charon.log().slice(logFrom), record: record! };
}

/** charon initiates; both sides up, both agree, the keys match. */
async function charonUp(p: Peers): Promise<Established> {
  const { charon, ikekm } = p;
  const since = ikekm.events().length;
  const logFrom = charon.log().length;
  const linesFrom = ikekm.logLines().length;
  await charon.initiate('net', { timeoutS: 10 });
  const up = await ikekm.waitForEvent((e: SaEvent) => e.kind === 'child-sa-up' || e.kind === 'ike-sa-failed', 10_000, { since, what: 'the Child SA' });
  expect(up.kind).toBe('child-sa-up');
  const [theirs] = await charon.listSas();
  expect(theirs).toMatchObject({ state: 'ESTABLISHED', initiator: true });
  const ours = ikekmSa(await ikekm.status(), theirs?.spiI, theirs?.spiR);
  expect(ours).toMatchObject({ role: 'responder', state: 'established', peerId: theirs?.localId });
  await expectFreshKeysMatch(p, theirs, { ike: IKE, esp: ESP, initiator: 'charon' });
  const [record] = ikekmRecords(ikekm.logLines().slice(linesFrom), 'IKE_AUTH answered: IKE SA established');
  expect(record).toBeDefined();
  return { theirs: theirs!, charonLog: charon.log().slice(logFrom), record: record! };
}

/** Either side deletes; nothing is left on either. */
async function down(p: Peers, by: 'ikekm' | 'charon'): Promise<void> {
  if (by === 'ikekm') await p.ikekm.terminate({ connection: 'lab' });
  else await p.charon.terminate({ ike: 'lab' });
  await nothingLeft(p, { live: true });
}

/** charon authenticated a and itself (b) with these methods, in its log of the negotiation. */
function expectCharonAuthenticated(log: string, gw: Gateways, methods: { readonly peer: string; readonly myself: string }): void {
  const seen = charonAuthentications(log);
  expect(seen).toEqual(expect.arrayContaining<CharonAuthentication>([
    { id: gw.a.dn, myself: false, method: methods.peer },
    { id: gw.b.dn, myself: true, method: methods.myself },
  ]));
  expect(seen).toHaveLength(2);
}

/** tshark with ikekm's IKE key table only, on the suite's capture: every IKE_AUTH as expected. */
async function expectWire(env: IkekmCharonLab, expectations: readonly WireExpectation[]): Promise<void> {
  const { ikekm } = env.peers();
  const capture = env.capture();
  await capture?.stop();
  const { packets } = await runTshark(capture?.file ?? '', { ikev2Table: await ikekm.ikeKeylogLines(), fields: CERTIFICATE_TSHARK_FIELDS, filter: 'isakmp' });
  const exchanges = ikeAuthOnWire(packets);
  expect(exchanges.size).toBe(expectations.length);
  for (const e of expectations) {
    const seen = expectIkeAuthOnWire(exchanges, e.spiI, e);
    if (e.minFragments !== undefined) {
      for (const m of [seen.request, seen.response]) {
        expect(m?.fragmented, `${e.name}: SKF`).toBe(true);
        expect(m?.datagrams, `${e.name}: fragments`).toBeGreaterThanOrEqual(e.minFragments);
        // RFC 7383 2.5.1: no datagram above the 1280 octets both sides keep to.
        expect(m?.largestIpLength, `${e.name}: largest datagram`).toBeLessThanOrEqual(1280);
      }
    }
  }
  expectNoMalformed(packets);
}

describeInterop(
  'ikekm and strongSwan authenticate with certificates from ikekm pki',
  () => {
    // rsa_pss: charon signs with RSASSA-PSS wherever it signs with RSA and Digital Signature, so
    // ikekm reads strongSwan's RFC 4055 parameters; PKCS#1 v1.5 from charon is the daemon file's.
    const env = useIkekmCharonLab({ capture: true, charonSettings: '  rsa_pss = yes' });
    const { gateways, configure } = certificateLab(env, 'ecdsa-p256');
    const wire: WireExpectation[] = [];

    it('ECDSA P-256, ikekm initiates: Digital Signature (14) with ECDSA SHA-256 both ways, the keys match', async () => {
      const p = env.peers();
      const gw = await gateways('ecdsa', 'ecdsa-p256');
      await configure(gw);
      const up = await ikekmUp(p);
      expectCharonAuthenticated(up.charonLog, gw, { peer: 'ECDSA_WITH_SHA256_DER', myself: 'ECDSA_WITH_SHA256_DER' });
      expect(up.record.method).toBe(`ECDSA SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"`);
      wire.push({ name: 'ecdsa, ikekm initiates', spiI: up.theirs.spiI, request: AUTH_METHOD.DIGITAL_SIGNATURE, response: AUTH_METHOD.DIGITAL_SIGNATURE });
      await down(p, 'ikekm');
    });

    it('ECDSA P-256, charon initiates: the same, ikekm answering', async () => {
      const p = env.peers();
      const gw = await gateways('ecdsa2', 'ecdsa-p256');
      await configure(gw);
      const up = await charonUp(p);
      expectCharonAuthenticated(up.charonLog, gw, { peer: 'ECDSA_WITH_SHA256_DER', myself: 'ECDSA_WITH_SHA256_DER' });
      expect(up.record.method).toBe(`ECDSA SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"`);
      wire.push({ name: 'ecdsa, charon initiates', spiI: up.theirs.spiI, request: AUTH_METHOD.DIGITAL_SIGNATURE, response: AUTH_METHOD.DIGITAL_SIGNATURE });
      await down(p, 'charon');
    });

    for (const initiator of ['ikekm', 'charon'] as const) {
      it(`an intermediate CA per side, only the root trusted, ${initiator} initiates: each sends its intermediate and the other builds the chain`, async () => {
        const p = env.peers();
        const gw = await gateways(`chain-${initiator}`, 'rsa-2048', { intermediates: true });
        await configure(gw);
        const linesFrom = p.ikekm.logLines().length;
        const up = initiator === 'ikekm' ? await ikekmUp(p) : await charonUp(p);
        expectCharonAuthenticated(up.charonLog, gw, { peer: 'RSA_EMSA_PKCS1_SHA2_256', myself: 'RSA_EMSA_PSS_SHA2_256_SALT_32' });
        const intA = `C=CH, O=ikekm, OU=chain-${initiator}, CN=ikekm Lab Intermediate CA A`;
        const intB = `C=CH, O=ikekm, OU=chain-${initiator}, CN=ikekm Lab Intermediate CA B`;
        // charon took ikekm's intermediate from its CERT payloads and sent its own.
        expect(up.charonLog).toContain(`received issuer cert "${intA}"`);
        expect(up.charonLog).toContain(`using untrusted intermediate certificate "${intA}"`);
        expect(up.charonLog).toContain(`using trusted ca certificate "${ROOT_DN}"`);
        expect(up.charonLog).toContain(`sending issuer cert "${intB}"`);
        const [checked] = ikekmRecords(p.ikekm.logLines().slice(linesFrom), "the peer's certificate checked out");
        expect(checked?.chain).toEqual([gw.b.dn, intB, ROOT_DN]);
        expect(up.record.method).toBe(`RSASSA-PSS SHA-256 salt 32 (AUTH method DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"`);
        wire.push({
          name: `chain, ${initiator} initiates`,
          spiI: up.theirs.spiI,
          request: AUTH_METHOD.DIGITAL_SIGNATURE,
          response: AUTH_METHOD.DIGITAL_SIGNATURE,
          requestCerts: 2,
          responseCerts: 2,
        });
        await down(p, initiator);
      });
    }

    for (const initiator of ['ikekm', 'charon'] as const) {
      it(`ikekm's ID an FQDN of its subjectAltName, charon's matched by a DN pattern with a wildcard, ${initiator} initiates`, async () => {
        const p = env.peers();
        const gw = await gateways(`ids-${initiator}`, 'ecdsa-p256');
        const pattern = `C=CH, O=ikekm, OU=ids-${initiator}, CN=*`;
        await configure(
          gw,
          { remoteId: 'gw-a.lab.example' },
          {
            local: { address: p.lab.a.outer4, id: 'gw-a.lab.example', cert: gw.aFile, key: gw.a.key },
            remote: { address: p.lab.b.outer4, id: pattern, ca: [join(p.lab.dir, 'pki', 'root.pem')] },
          },
        );
        const up = initiator === 'ikekm' ? await ikekmUp(p, 'gw-a.lab.example') : await charonUp(p);
        expect(up.theirs.remoteId).toBe('gw-a.lab.example');
        expect(charonAuthentications(up.charonLog)).toEqual(
          expect.arrayContaining<CharonAuthentication>([{ id: 'gw-a.lab.example', myself: false, method: 'ECDSA_WITH_SHA256_DER' }]),
        );
        expect(up.record).toMatchObject({ peerId: gw.b.dn, method: `ECDSA SHA-256 (AUTH method DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"` });
        wire.push({ name: `ids, ${initiator} initiates`, spiI: up.theirs.spiI, request: AUTH_METHOD.DIGITAL_SIGNATURE, response: AUTH_METHOD.DIGITAL_SIGNATURE });
        await down(p, initiator);
      });
    }

    it('RSASSA-PSS both ways (ikekm rsaPadding: pss; charon rsa_pss, and auth = rsa/pss demanding it of ikekm): the RFC 4055 parameters read alike (RFC 7427 3)', async () => {
      const p = env.peers();
      const gw = await gateways('pss', 'rsa-2048');
      await configure(gw, { auth: 'rsa/pss' }, { signature: { rsaPadding: 'pss' } });
      const up = await ikekmUp(p);
      expectCharonAuthenticated(up.charonLog, gw, { peer: 'RSA_EMSA_PSS_SHA2_256_SALT_32', myself: 'RSA_EMSA_PSS_SHA2_256_SALT_32' });
      expect(up.record.method).toBe(`RSASSA-PSS SHA-256 salt 32 (AUTH method DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"`);
      wire.push({ name: 'pss', spiI: up.theirs.spiI, request: AUTH_METHOD.DIGITAL_SIGNATURE, response: AUTH_METHOD.DIGITAL_SIGNATURE });
      await down(p, 'ikekm');
    });

    it('ECDSA P-384, charon initiates: each signs with SHA-384, the hash of its curve', async () => {
      const p = env.peers();
      const gw = await gateways('p384', 'ecdsa-p384');
      await configure(gw);
      const up = await charonUp(p);
      expectCharonAuthenticated(up.charonLog, gw, { peer: 'ECDSA_WITH_SHA384_DER', myself: 'ECDSA_WITH_SHA384_DER' });
      expect(up.record.method).toBe(`ECDSA SHA-384 (AUTH method DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"`);
      wire.push({ name: 'p384', spiI: up.theirs.spiI, request: AUTH_METHOD.DIGITAL_SIGNATURE, response: AUTH_METHOD.DIGITAL_SIGNATURE });
      await down(p, 'charon');
    });

    it('ikekm with signature: { digitalSignature: false }: RSA Digital Signature (method 1, SHA-1) both ways', async () => {
      const p = env.peers();
      const gw = await gateways('classic', 'rsa-2048');
      await configure(gw, {}, { signature: { digitalSignature: false } });
      const up = await ikekmUp(p);
      expectCharonAuthenticated(up.charonLog, gw, { peer: 'RSA signature', myself: 'RSA signature' });
      expect(up.record.method).toBe(`RSASSA-PKCS1-v1_5 SHA-1 (AUTH method RSA_DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"`);
      wire.push({ name: 'digitalSignature false', spiI: up.theirs.spiI, request: AUTH_METHOD.RSA_DIGITAL_SIGNATURE, response: AUTH_METHOD.RSA_DIGITAL_SIGNATURE });
      await down(p, 'ikekm');
    });

    it('RSA-4096 with an RSA-4096 intermediate per side, each side initiating: every IKE_AUTH goes as SKF fragments of at most 1280 octets (RFC 7383) and the SA comes up', async () => {
      const p = env.peers();
      const gw = await gateways('large', 'rsa-4096', { intermediates: true });
      await configure(gw, { fragmentation: 'yes' });
      for (const initiator of ['ikekm', 'charon'] as const) {
        const up = initiator === 'ikekm' ? await ikekmUp(p) : await charonUp(p);
        // strongSwan picks the hash by the key's strength: SHA-384 for RSA-4096 (and a salt of its
        // length); ikekm signs with the first SHA-2 hash charon announced.
        expectCharonAuthenticated(up.charonLog, gw, { peer: 'RSA_EMSA_PKCS1_SHA2_256', myself: 'RSA_EMSA_PSS_SHA2_384_SALT_48' });
        expect(up.record.method).toBe(`RSASSA-PSS SHA-384 salt 48 (AUTH method DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"`);
        // charon reassembled ikekm's message and split its own, each several datagrams long.
        const reassembled = /received fragment #(\d+) of (\d+), reassembled fragmented IKE message \((\d+) bytes\)/.exec(up.charonLog);
        expect(Number(reassembled?.[3])).toBeGreaterThan(2 * 1280);
        const split = /splitting IKE message \((\d+) bytes\) into (\d+) fragments/.exec(up.charonLog);
        expect(Number(split?.[1])).toBeGreaterThan(2 * 1280);
        expect(Number(split?.[2])).toBeGreaterThanOrEqual(3);
        wire.push({
          name: `fragmented, ${initiator} initiates`,
          spiI: up.theirs.spiI,
          request: AUTH_METHOD.DIGITAL_SIGNATURE,
          response: AUTH_METHOD.DIGITAL_SIGNATURE,
          requestCerts: 2,
          responseCerts: 2,
          minFragments: 3,
        });
        await down(p, initiator === 'ikekm' ? 'charon' : 'ikekm');
      }
    }, 60_000);

    it('tshark decrypts every IKE_AUTH with ikekm\'s key table: the AUTH methods and CERT payloads of each', async () => {
      await expectWire(env, wire);
    });

    it("ikekm's log holds no key", async () => {
      const { ikekm, charon } = env.peers();
      expect(await expectNoSecretsInIkekmLog(ikekm, [], [charon.derivedKeys()])).toBeGreaterThan(wire.length * 4);
    });
  },
  { capture: true, tshark: true },
);

describeInterop(
  'strongSwan with signature_authentication = no: the methods before RFC 7427 with ikekm',
  () => {
    // Without SIGNATURE_HASH_ALGORITHMS from charon (RFC 7427 4) neither side may use method 14.
    const env = useIkekmCharonLab({ capture: true, charonSettings: '  signature_authentication = no' });
    const { gateways, configure } = certificateLab(env, 'rsa-2048');
    const wire: WireExpectation[] = [];

    for (const initiator of ['ikekm', 'charon'] as const) {
      it(`RSA-2048, ${initiator} initiates: RSA Digital Signature (method 1, SHA-1) both ways`, async () => {
        const p = env.peers();
        const gw = await gateways(`rsa-${initiator}`, 'rsa-2048');
        await configure(gw);
        const up = initiator === 'ikekm' ? await ikekmUp(p) : await charonUp(p);
        expectCharonAuthenticated(up.charonLog, gw, { peer: 'RSA signature', myself: 'RSA signature' });
        expect(up.record.method).toBe(`RSASSA-PKCS1-v1_5 SHA-1 (AUTH method RSA_DIGITAL_SIGNATURE) with certificate "${gw.b.dn}"`);
        wire.push({ name: `rsa, ${initiator}`, spiI: up.theirs.spiI, request: AUTH_METHOD.RSA_DIGITAL_SIGNATURE, response: AUTH_METHOD.RSA_DIGITAL_SIGNATURE });
        await down(p, initiator);
      });
    }

    it('ECDSA P-256, ikekm initiates: ECDSA with SHA-256 on P-256 (method 9, RFC 4754) both ways', async () => {
      const p = env.peers();
      const gw = await gateways('ecdsa', 'ecdsa-p256');
      await configure(gw);
      const up = await ikekmUp(p);
      expectCharonAuthenticated(up.charonLog, gw, { peer: 'ECDSA-256 signature', myself: 'ECDSA-256 signature' });
      expect(up.record.method).toBe(`ECDSA SHA-256 (AUTH method ECDSA_SHA256_P256) with certificate "${gw.b.dn}"`);
      wire.push({ name: 'ecdsa', spiI: up.theirs.spiI, request: AUTH_METHOD.ECDSA_SHA256_P256, response: AUTH_METHOD.ECDSA_SHA256_P256 });
      await down(p, 'ikekm');
    });

    it('tshark shows the methods on the wire', async () => {
      await expectWire(env, wire);
    });
  },
  { capture: true, tshark: true },
);
