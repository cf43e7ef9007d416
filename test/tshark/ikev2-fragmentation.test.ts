/**
 * Wireshark (tshark 4.0) as an outside judge of RFC 7383 fragmentation: large IKE_AUTH messages
 * carrying a real 3 KB X.509 certificate are cut by `fragmentProtectedMessage`, written to a pcap,
 * and tshark — given our keys in its ikev2_decryption_table — must verify every fragment's ICV,
 * reassemble them, and dissect the reassembled inner payloads to exactly what we encoded.
 *
 * Cases: AES-CBC + HMAC over IPv4 on UDP 4500 (576-octet datagrams, non-ESP marker), AES-GCM over
 * IPv6 on UDP 500 (1280-octet datagrams) as a responder's response written in reverse order, and
 * AES-GCM-128 over IPv4 on UDP 500 with the middle fragments out of order. ChaCha20-Poly1305 is
 * left out: tshark 4.0 cannot decrypt it (see src/kernel/keylog.ts); the unit tests cover it.
 *
 * A tshark 4.0 limitation shapes the orders: packet-isakmp.c reassembles fragments in any order,
 * but dissects the reassembled payloads only in the frame of the fragment whose Fragment Number
 * equals Total Fragments, and only if fragment 1 (which carries the first inner payload type)
 * came before it. For the reversed case we therefore check the reassembly itself (fragment list,
 * reassembled length, every ICV) but not the dissection; the other two end with the last fragment.
 *
 * Negative control: with wrong keys tshark reports bad ICVs and reassembles nothing we sent.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCryptoRegistry } from '../../src/crypto/registry.js';
import { createSkProtection, type SkProtection } from '../../src/crypto/sk-payload.js';
import type { RandomPort } from '../../src/crypto/types.js';
import { fragmentProtectedMessage, type FragmentationPolicy } from '../../src/ikev2/fragment-sending.js';
import { ikev2DecryptionTableLine, ikev2EncryptionName, ikev2IntegrityName } from '../../src/kernel/keylog.js';
import { PcapWriter } from '../../src/record/pcap-writer.js';
import {
  AuthMethod,
  CertEncoding,
  EncrId,
  ExchangeType,
  IntegId,
  PayloadType,
  ProtocolId,
  TransformType,
  addressRange,
  authPayload,
  certPayload,
  certReqPayload,
  encodeNattIke,
  encodePayloadChain,
  idPayload,
  notifyPayload,
  saPayload,
  transform,
  tsPayload,
  type IkeHeader,
  type Payload,
} from '../../src/wire/index.js';
import { CHECKSUM_PREFS, ExpertSeverity, describeWithTshark, runTshark, type TsharkRun } from '../support/tshark.js';
import { seenFromModel, seenFromTshark } from './ikev2-dissection.js';

const registry = createCryptoRegistry();

interface Case {
  readonly name: string;
  readonly encrId: number;
  readonly keyLengthBits: number;
  readonly integId: number | undefined;
  readonly sender: 'initiator' | 'responder';
  readonly src: string;
  readonly dst: string;
  readonly port: 500 | 4500;
  readonly policy: FragmentationPolicy;
  readonly order: 'in order' | 'reversed' | 'middle shuffled';
}

const CASES: readonly Case[] = [
  { name: 'AES-CBC-256 + HMAC-SHA2-256-128, IPv4 on UDP 4500, 576-octet datagrams', encrId: EncrId.ENCR_AES_CBC, keyLengthBits: 256, integId: IntegId.AUTH_HMAC_SHA2_256_128, sender: 'initiator', src: '192.0.2.1', dst: '192.0.2.2', port: 4500, policy: { maxDatagramSize: 576, ipVersion: 4, nattMarker: true }, order: 'in order' },
  { name: 'AES-GCM-16-256, IPv6 on UDP 500, 1280-octet datagrams, a response in reverse order', encrId: EncrId.ENCR_AES_GCM_16, keyLengthBits: 256, integId: undefined, sender: 'responder', src: '2001:db8::2', dst: '2001:db8::1', port: 500, policy: { maxDatagramSize: 1280, ipVersion: 6, nattMarker: false }, order: 'reversed' },
  { name: 'AES-GCM-16-128, IPv4 on UDP 500, 576-octet datagrams, the middle fragments shuffled', encrId: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128, integId: undefined, sender: 'initiator', src: '198.51.100.1', dst: '198.51.100.2', port: 500, policy: { maxDatagramSize: 576, ipVersion: 4, nattMarker: false }, order: 'middle shuffled' },
];

/** A deterministic RandomPort (IVs only; nothing here needs to be unpredictable). */
function countingRandom(start: number): RandomPort {
  let next = start;
  return (n: number) => Buffer.from(Array.from({ length: n }, () => next++ & 0xff));
}
const pattern = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (seed * 13 + i) & 0xff));

/** A real, self-signed X.509 certificate of about 3 KB (many subjectAltNames), DER. */
function bigCertificate(dnsNames: readonly string[]): { der: Buffer; signatureHex: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date(Date.UTC(2024, 0, 1));
  cert.validity.notAfter = new Date(Date.UTC(2034, 0, 1));
  const name = [{ name: 'commonName', value: 'initiator.example' }, { name: 'organizationName', value: 'ikekm fragmentation test' }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([{ name: 'subjectAltName', altNames: dnsNames.map((value) => ({ type: 2, value })) }]);
  cert.sign(key, forge.md.sha256.create());
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { der, signatureHex: Buffer.from(cert.signature as string, 'binary').toString('hex') };
}

interface Built {
  readonly spec: Case;
  readonly header: IkeHeader;
  readonly inner: Payload[];
  readonly fragments: Buffer[];
  /** Fragment indexes in the order they were written to the pcap. */
  readonly order: number[];
  readonly tableLine: string;
  readonly wrongTableLine: string;
  readonly plaintextLength: number;
}

const DNS_NAMES = Array.from({ length: 45 }, (_, i) => `host-${i}.fragmentation.initiator.example`);
const CERT = bigCertificate(DNS_NAMES);

function build(spec: Case, k: number): Built {
  const encryption = registry.encryption(spec.encrId, spec.keyLengthBits);
  const integrity = spec.integId === undefined ? undefined : registry.integrity(spec.integId);
  if (encryption === undefined || (spec.integId !== undefined && integrity === undefined)) throw new Error(`registry lacks ${spec.name}`);
  const keys = {
    SK_ei: pattern(encryption.keyLength, 10 + k),
    SK_er: pattern(encryption.keyLength, 20 + k),
    SK_ai: pattern(integrity?.keyLength ?? 0, 30 + k),
    SK_ar: pattern(integrity?.keyLength ?? 0, 40 + k),
  };
  const fromInitiator = spec.sender === 'initiator';
  const protection: SkProtection = createSkProtection({
    encryption,
    integrity,
    encryptionKey: fromInitiator ? keys.SK_ei : keys.SK_er,
    integrityKey: integrity === undefined ? undefined : fromInitiator ? keys.SK_ai : keys.SK_ar,
  });
  const header: IkeHeader = {
    spiI: pattern(8, 50 + k),
    spiR: pattern(8, 60 + k),
    majorVersion: 2,
    minorVersion: 0,
    exchangeType: ExchangeType.IKE_AUTH,
    flags: { initiator: fromInitiator, version: false, response: !fromInitiator },
    messageId: 1,
  };
  const inner: Payload[] = [
    idPayload(fromInitiator ? PayloadType.IDi : PayloadType.IDr, { kind: 'fqdn', fqdn: `${spec.sender}.example` }),
    certPayload(CertEncoding.X509_SIGNATURE, CERT.der),
    ...(fromInitiator ? [certReqPayload(CertEncoding.X509_SIGNATURE, pattern(20, 70 + k)), notifyPayload({ name: 'INITIAL_CONTACT' })] : []),
    authPayload(AuthMethod.RSA_DIGITAL_SIGNATURE, pattern(256, 80 + k)),
    saPayload([
      {
        proposalNum: 1,
        protocolId: ProtocolId.ESP,
        spi: pattern(4, 90 + k),
        transforms: [transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 256), transform(TransformType.ESN, 0)],
      },
    ]),
    tsPayload(PayloadType.TSi, [addressRange('198.51.100.0', '198.51.100.255')]),
    tsPayload(PayloadType.TSr, [addressRange('203.0.113.1', '203.0.113.1', { ipProtocolId: 6, startPort: 443, endPort: 443 })]),
  ];
  const fragments = fragmentProtectedMessage(header, inner, protection, countingRandom(k * 1000), spec.policy);
  const indexes = fragments.map((_, i) => i);
  const last = indexes.length - 1;
  const order =
    spec.order === 'in order' ? indexes : spec.order === 'reversed' ? [...indexes].reverse() : [0, 3, 1, ...indexes.slice(4, last).reverse(), 2, last];
  if ([...order].sort((x, y) => x - y).join() !== indexes.join()) throw new Error(`${spec.name}: order ${order.join()} is not a permutation`);
  const encryptionName = ikev2EncryptionName(spec.encrId as EncrId, spec.keyLengthBits);
  const integrityName = ikev2IntegrityName((spec.integId ?? IntegId.NONE) as IntegId);
  if (!encryptionName || !integrityName) throw new Error(`tshark 4.0 cannot decrypt ${spec.name}`);
  const line = (flip: boolean): string => {
    const f = (b: Buffer): Buffer => (flip ? Buffer.from(b.map((x) => x ^ 0x01)) : b);
    return ikev2DecryptionTableLine({
      SPIi: header.spiI,
      SPIr: header.spiR,
      SK_ei: f(keys.SK_ei),
      SK_er: f(keys.SK_er),
      encryptionName,
      SK_ai: f(keys.SK_ai),
      SK_ar: f(keys.SK_ar),
      integrityName,
    });
  };
  return { spec, header, inner, fragments, order, tableLine: line(false), wrongTableLine: line(true), plaintextLength: encodePayloadChain(inner).bytes.length };
}

const HEALTH_FIELDS = [
  'frame.number',
  'ip.checksum.status',
  'udp.checksum.status',
  'ip.len',
  'ipv6.plen',
  'udpencap.non_esp_marker',
  'isakmp.nextpayload',
  'isakmp.frag.number',
  'isakmp.frag.total',
  'isakmp.reassembled.length',
  '_ws.malformed',
  '_ws.expert.severity',
  '_ws.expert.message',
];

/** The expert message of packet-isakmp.c when the Integrity Checksum Data (or AEAD tag) is wrong. */
const ICV_INCORRECT = 'IKEv2 Integrity Checksum Data is incorrect';

type Tree = Readonly<Record<string, unknown>>;

/** Every value of `key` anywhere under `node`, depth first (tshark's JSON puts repeats in arrays). */
function collect(node: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) {
    for (const child of node) collect(child, key, out);
  } else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === key) out.push(...(Array.isArray(v) ? v : [v]));
      collect(v, key, out);
    }
  }
  return out;
}

describeWithTshark('RFC 7383 fragments as tshark 4.0 verifies and reassembles them', () => {
  let dir = '';
  let built: Built[] = [];
  /** pcap frame index → [case index, fragment index]. */
  let frames: [number, number][] = [];
  let health: TsharkRun;
  let tree: TsharkRun;
  let wrongHealth: TsharkRun;
  let wrongTree: TsharkRun;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ikekm-tshark-fragments-'));
    const pcapPath = join(dir, 'fragments.pcap');
    built = CASES.map(build);
    const writer = new PcapWriter();
    frames = [];
    built.forEach((b, k) => {
      for (const i of b.order) {
        const message = b.fragments[i]!;
        writer.addUdp({
          src: { address: b.spec.src, port: b.spec.port },
          dst: { address: b.spec.dst, port: b.spec.port },
          payload: b.spec.port === 4500 ? encodeNattIke(message) : message,
          timestampMicros: 1_700_000_000_000_000 + frames.length * 1_000,
        });
        frames.push([k, i]);
      }
    });
    writeFileSync(pcapPath, writer.toBuffer());
    const good = built.map((b) => b.tableLine);
    const wrong = built.map((b) => b.wrongTableLine);
    [health, tree, wrongHealth, wrongTree] = await Promise.all([
      runTshark(pcapPath, { ikev2Table: good, prefs: CHECKSUM_PREFS, fields: HEALTH_FIELDS }),
      runTshark(pcapPath, { ikev2Table: good, protocols: ['isakmp'] }),
      runTshark(pcapPath, { ikev2Table: wrong, fields: HEALTH_FIELDS }),
      runTshark(pcapPath, { ikev2Table: wrong, protocols: ['isakmp'] }),
    ]);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const skfTreeOf = (run: TsharkRun, frame: number): Tree => {
    const isakmp = run.layers[frame]?.['isakmp'] as Tree | undefined;
    if (isakmp === undefined) throw new Error(`frame ${frame + 1} has no isakmp layer`);
    expect(isakmp['isakmp.typepayload'], `frame ${frame + 1}`).toBe(String(PayloadType.SKF));
    return isakmp['isakmp.typepayload_tree'] as Tree;
  };

  it('every fragment datagram fits its policy, has good checksums, and draws no malformed packet, expert warning or bad ICV', () => {
    expect(health.packets).toHaveLength(frames.length);
    health.packets.forEach((p, f) => {
      const [k, i] = frames[f]!;
      const b = built[k]!;
      const where = `frame ${f + 1} (${b.spec.name}, fragment ${i + 1})`;
      expect(p['udp.checksum.status'], where).toEqual(['1']);
      // The IP datagram is within the policy's size (RFC 7383 2.5.1).
      const ipLength = b.spec.policy.ipVersion === 4 ? Number(p['ip.len']?.[0]) : 40 + Number(p['ipv6.plen']?.[0]);
      expect(ipLength, where).toBeLessThanOrEqual(b.spec.policy.maxDatagramSize);
      if (b.spec.policy.ipVersion === 4) expect(p['ip.checksum.status'], where).toEqual(['1']);
      expect(p['udpencap.non_esp_marker'] !== undefined, where).toBe(b.spec.port === 4500);
      expect(p['isakmp.nextpayload']?.[0], where).toBe(String(PayloadType.SKF));
      expect(p['isakmp.frag.number'], where).toEqual([String(i + 1)]);
      expect(p['isakmp.frag.total'], where).toEqual([String(b.fragments.length)]);
      expect(p['_ws.malformed'], where).toBeUndefined();
      const severities = (p['_ws.expert.severity'] ?? []).map(Number);
      expect(severities.filter((s) => s >= ExpertSeverity.WARN), `${where}: ${(p['_ws.expert.message'] ?? []).join('; ')}`).toEqual([]);
      expect(p['_ws.expert.message'] ?? [], where).not.toContain(ICV_INCORRECT);
    });
  });

  CASES.forEach((spec, k) => {
    const dissected = spec.order !== 'reversed';
    const what = dissected ? 'to exactly our inner payloads' : 'in Fragment Number order (tshark 4.0 does not dissect it)';
    it(`${spec.name}: reassembles once, in the frame that completes the set, ${what}`, () => {
      const b = built[k]!;
      const caseFrames = frames.map((fi, f) => [fi, f] as const).filter(([[c]]) => c === k);
      expect(b.fragments.length).toBeGreaterThan(2);
      // Exactly one frame shows the reassembled message: the last one written.
      const reassembledIn = caseFrames.filter(([, f]) => health.packets[f]!['isakmp.reassembled.length'] !== undefined).map(([, f]) => f);
      expect(reassembledIn).toEqual([caseFrames[caseFrames.length - 1]![1]]);
      const f = reassembledIn[0]!;
      expect(health.packets[f]!['isakmp.reassembled.length']).toEqual([String(b.plaintextLength)]);

      const skf = skfTreeOf(tree, f);
      // tshark lists the fragments by frame in Fragment Number order.
      const fragmentFrames = collect(skf['isakmp.fragments'], 'isakmp.fragment').map(Number);
      const expectedFrames = b.fragments.map((_, i) => caseFrames.find(([[, fi]]) => fi === i)![1] + 1);
      expect(fragmentFrames).toEqual(expectedFrames);

      // tshark 4.0 dissects the reassembled payloads only when the last fragment completes the
      // set after fragment 1 (see the file comment).
      expect(b.order[b.order.length - 1] === b.fragments.length - 1).toBe(dissected);
      if (!dissected) return;

      // The reassembled payloads, dissected field by field, are the ones we encoded.
      expect(seenFromTshark(skf)).toEqual(seenFromModel(b.inner));
      expect(seenFromTshark(skf).map((p) => p.type)).toEqual(b.inner.map((p) => p.type));
      // The certificate survived the cut into pieces: tshark parses the DER across fragment
      // boundaries and finds every subjectAltName and the signature at its very end.
      const cert = (skf['isakmp.typepayload_tree'] as Tree[]).find((p) => p['isakmp.cert.encoding'] === String(CertEncoding.X509_SIGNATURE));
      expect(cert).toBeDefined();
      expect(collect(cert, 'x509ce.dNSName')).toEqual(DNS_NAMES);
      expect(collect(cert, 'x509af.encrypted').map((s) => String(s).replaceAll(':', ''))).toEqual([CERT.signatureHex]);
      expect(collect(cert, '_ws.malformed')).toEqual([]);
    });
  });

  it('negative control: with wrong keys tshark reports bad ICVs and reassembles nothing we sent', () => {
    wrongHealth.packets.forEach((p, f) => {
      expect(p['_ws.expert.message'] ?? [], `frame ${f + 1}`).toContain(ICV_INCORRECT);
    });
    built.forEach((b, k) => {
      const expectedFirst = seenFromModel(b.inner)[0];
      frames.forEach(([c], f) => {
        if (c !== k) return;
        const skf = skfTreeOf(wrongTree, f);
        const seen = skf['isakmp.typepayload'] === undefined ? [] : seenFromTshark(skf);
        expect(seen, `frame ${f + 1}`).not.toContainEqual(expectedFirst);
        expect(seen).not.toEqual(seenFromModel(b.inner));
      });
    });
  });
});
