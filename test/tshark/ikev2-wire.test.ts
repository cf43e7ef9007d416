/**
 * Wireshark (tshark 4.0) as an outside judge of ikekm's IKEv2 encoding and SK protection.
 *
 * Three complete exchanges (IKE_SA_INIT + IKE_AUTH, each request and response) are built with
 * our codec, DH groups, key derivation, shared-key AUTH and SK sealing, written to a pcap (IKE_SA_INIT
 * on UDP 500, IKE_AUTH on UDP 4500 behind the non-ESP marker; two exchanges over IPv4
 * 192.0.2.1 ↔ 192.0.2.2, one over IPv6), and dissected by tshark with our keys in its
 * ikev2_decryption_table. The test asserts that:
 * - every packet has good IP/UDP checksums, no malformed packet, no expert warning or error;
 * - the IKE_SA_INIT headers and payloads (each proposal's transforms and KEY_LENGTH, KE group and
 *   data, nonces, notify types and data) are exactly what we encoded;
 * - the IKE_AUTH SK payloads decrypt, pass tshark's ICV check, and contain exactly our IDi/IDr,
 *   AUTH, SA (ESP proposals, SPI) and TSi/TSr;
 * - negative control: with a wrong key tshark does NOT recover IDi, so these assertions can fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ikev2DecryptionTableLine, ikev2EncryptionName, ikev2IntegrityName } from '../../src/kernel/keylog.js';
import { PcapWriter } from '../../src/record/pcap-writer.js';
import { AuthMethod, DhId, EncrId, ExchangeType, IdType, IntegId, PrfId, PayloadType, TsType, espSpiHex, espSpiNumber, ikeSpiHex } from '../../src/wire/index.js';
import { CHECKSUM_PREFS, ExpertSeverity, describeWithTshark, runTshark, type TsharkRun } from '../support/tshark.js';
import { buildExchange, type Exchange, type ExchangeSpec, type Suite } from './ikev2-exchange.js';
import { headerFromTshark, seenFromModel, seenFromTshark, type SeenPayload } from './ikev2-dissection.js';

const V4I = '192.0.2.1';
const V4R = '192.0.2.2';
const V6I = '2001:db8::1';
const V6R = '2001:db8::2';

const CBC256_SHA256: Suite = { name: 'AES-CBC-256 + HMAC-SHA2-256-128', encrId: EncrId.ENCR_AES_CBC, keyLengthBits: 256, integId: IntegId.AUTH_HMAC_SHA2_256_128, prfId: PrfId.PRF_HMAC_SHA2_256, dhId: DhId.ECP_256 };
const GCM16_256: Suite = { name: 'AES-GCM-16-256', encrId: EncrId.ENCR_AES_GCM_16, keyLengthBits: 256, integId: undefined, prfId: PrfId.PRF_HMAC_SHA2_256, dhId: DhId.ECP_256 };
const CBC128_SHA1: Suite = { name: 'AES-CBC-128 + HMAC-SHA1-96 (IPv6)', encrId: EncrId.ENCR_AES_CBC, keyLengthBits: 128, integId: IntegId.AUTH_HMAC_SHA1_96, prfId: PrfId.PRF_HMAC_SHA1, dhId: DhId.MODP_2048 };

const SPECS: readonly ExchangeSpec[] = [
  {
    suite: CBC256_SHA256,
    seed: 'ikekm tshark exchange 1',
    initiator: { address: V4I, port: 500 },
    responder: { address: V4R, port: 500 },
    nattPort: 4500,
    initiatorId: { kind: 'fqdn', fqdn: 'initiator.example.org' },
    responderId: { kind: 'ipv4', address: V4R },
    psk: Buffer.from('correct horse battery staple'),
  },
  {
    suite: GCM16_256,
    seed: 'ikekm tshark exchange 2',
    initiator: { address: V4I, port: 500 },
    responder: { address: V4R, port: 500 },
    nattPort: 4500,
    initiatorId: { kind: 'ipv4', address: V4I },
    responderId: { kind: 'fqdn', fqdn: 'responder.example.org' },
    psk: Buffer.from('another shared secret'),
  },
  {
    suite: CBC128_SHA1,
    seed: 'ikekm tshark exchange 3',
    initiator: { address: V6I, port: 500 },
    responder: { address: V6R, port: 500 },
    nattPort: 4500,
    initiatorId: { kind: 'fqdn', fqdn: 'v6.initiator.example.org' },
    responderId: { kind: 'ipv6', address: V6R },
    psk: Buffer.from('v6 secret'),
  },
];

/** 'all': every key's first octet flipped; 'integrity': only SK_ai/SK_ar (CBC+HMAC suites). */
type Corruption = 'none' | 'all' | 'integrity';

function tableLine(e: Exchange, corrupt: Corruption = 'none'): string {
  const { suite } = e.spec;
  const encryptionName = ikev2EncryptionName(suite.encrId as EncrId, suite.keyLengthBits);
  const integrityName = ikev2IntegrityName((suite.integId ?? IntegId.NONE) as IntegId);
  if (!encryptionName || !integrityName) throw new Error(`tshark 4.0 cannot decrypt ${suite.name}`);
  const flip = (b: Buffer, yes: boolean): Buffer => {
    const copy = Buffer.from(b);
    if (yes && copy.length > 0) copy[0] = copy[0]! ^ 0x01;
    return copy;
  };
  const wrongEncryption = corrupt === 'all';
  const wrongIntegrity = corrupt !== 'none';
  return ikev2DecryptionTableLine({
    SPIi: e.SPIi,
    SPIr: e.SPIr,
    SK_ei: flip(e.keys.SK_ei, wrongEncryption),
    SK_er: flip(e.keys.SK_er, wrongEncryption),
    encryptionName,
    SK_ai: flip(e.keys.SK_ai, wrongIntegrity),
    SK_ar: flip(e.keys.SK_ar, wrongIntegrity),
    integrityName,
  });
}

/** The expert message of packet-isakmp.c when the Integrity Checksum Data (or AEAD tag) is wrong. */
const ICV_INCORRECT = 'IKEv2 Integrity Checksum Data is incorrect';

const HEALTH_FIELDS = [
  'frame.number',
  'ip.checksum.status',
  'udp.checksum.status',
  'udp.srcport',
  'ip.src',
  'ipv6.src',
  'udpencap.non_esp_marker',
  'isakmp.exchangetype',
  '_ws.malformed',
  '_ws.expert.severity',
  '_ws.expert.message',
];

describeWithTshark('IKEv2 messages as tshark 4.0 dissects and decrypts them', () => {
  let dir = '';
  let exchanges: Exchange[] = [];
  let health: TsharkRun;
  let tree: TsharkRun;
  let wrongHealth: TsharkRun;
  let wrongTree: TsharkRun;
  let wrongIntegrityHealth: TsharkRun;
  let wrongIntegrityTree: TsharkRun;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ikekm-tshark-ikev2-'));
    const pcapPath = join(dir, 'ikev2.pcap');
    exchanges = SPECS.map(buildExchange);
    const writer = new PcapWriter();
    exchanges.forEach((e, k) => {
      e.datagrams.forEach((d, i) => writer.addUdp({ src: d.src, dst: d.dst, payload: d.udpPayload, timestampMicros: 1_700_000_000_000_000 + k * 1_000_000 + i * 1_000 }));
    });
    writeFileSync(pcapPath, writer.toBuffer());

    const good = exchanges.map((e) => tableLine(e));
    const wrong = exchanges.map((e) => tableLine(e, 'all'));
    const wrongIntegrity = exchanges.map((e) => tableLine(e, 'integrity'));
    const started = performance.now();
    [health, tree, wrongHealth, wrongTree, wrongIntegrityHealth, wrongIntegrityTree] = await Promise.all([
      runTshark(pcapPath, { ikev2Table: good, prefs: CHECKSUM_PREFS, fields: HEALTH_FIELDS }),
      runTshark(pcapPath, { ikev2Table: good, protocols: ['isakmp'] }),
      runTshark(pcapPath, { ikev2Table: wrong, fields: HEALTH_FIELDS }),
      runTshark(pcapPath, { ikev2Table: wrong, protocols: ['isakmp'] }),
      runTshark(pcapPath, { ikev2Table: wrongIntegrity, fields: HEALTH_FIELDS }),
      runTshark(pcapPath, { ikev2Table: wrongIntegrity, protocols: ['isakmp'] }),
    ]);
    console.info(`tshark: 6 runs over ${writer.count} datagrams in ${Math.round(performance.now() - started)} ms`);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const isakmpOf = (run: TsharkRun, frame: number): Record<string, unknown> => {
    const layer = run.layers[frame]?.['isakmp'];
    if (typeof layer !== 'object' || layer === null) throw new Error(`frame ${frame + 1} has no isakmp layer`);
    return layer as Record<string, unknown>;
  };

  it('every datagram has good checksums, the right framing, no malformed packet and no expert warning or error', () => {
    expect(health.packets).toHaveLength(SPECS.length * 4);
    health.packets.forEach((p, i) => {
      const where = `frame ${i + 1}`;
      const exchange = exchanges[Math.floor(i / 4)]!;
      const datagram = exchange.datagrams[i % 4]!;
      expect(p['udp.checksum.status'], where).toEqual(['1']); // 1 = Good (0 Bad, 2 Unverified)
      if (datagram.src.address.includes(':')) {
        expect(p['ipv6.src'], where).toEqual([datagram.src.address]);
      } else {
        expect(p['ip.checksum.status'], where).toEqual(['1']);
        expect(p['ip.src'], where).toEqual([datagram.src.address]);
      }
      expect(p['udp.srcport'], where).toEqual([String(datagram.src.port)]);
      // Port 4500 carries the non-ESP marker in front of IKE (RFC 3948 2.2).
      expect(p['udpencap.non_esp_marker'] !== undefined, where).toBe(datagram.src.port === 4500);
      expect(p['isakmp.exchangetype'], where).toEqual([String(datagram.header.exchangeType)]);
      expect(p['_ws.malformed'], where).toBeUndefined();
      const severities = (p['_ws.expert.severity'] ?? []).map(Number);
      expect(
        severities.filter((s) => s >= ExpertSeverity.WARN),
        `${where}: ${(p['_ws.expert.message'] ?? []).join('; ')}`,
      ).toEqual([]);
    });
  });

  SPECS.forEach((spec, k) => {
    const name = spec.suite.name;

    it(`${name}: IKE_SA_INIT request and response dissect exactly as encoded`, () => {
      const e = exchanges[k]!;
      for (const i of [0, 1]) {
        const d = e.datagrams[i]!;
        const isakmp = isakmpOf(tree, k * 4 + i);
        expect(headerFromTshark(isakmp), d.name).toEqual({
          spiI: ikeSpiHex(d.header.spiI),
          spiR: ikeSpiHex(d.header.spiR),
          nextPayload: d.payloads[0]!.type,
          exchangeType: ExchangeType.IKE_SA_INIT,
          initiator: d.header.flags.initiator,
          response: d.header.flags.response,
          higherVersion: false,
          messageId: 0,
          length: d.udpPayload.length,
          majorVersion: 2,
          minorVersion: 0,
        });
        const seen = seenFromTshark(isakmp);
        expect(seen, d.name).toEqual(seenFromModel(d.payloads));
      }

      // The same facts spelled out, so a reader sees what "exactly as encoded" covers.
      const request = seenFromTshark(isakmpOf(tree, k * 4));
      expect(request.map((p) => p.type)).toEqual([PayloadType.SA, PayloadType.KE, PayloadType.Nonce, PayloadType.N, PayloadType.N, PayloadType.N, PayloadType.N]);
      const sa = request[0] as Extract<SeenPayload, { type: 33 }>;
      expect(sa.proposals.map((p) => p.transforms.length)).toEqual([6, 8, 3]);
      expect(sa.proposals[1]!.transforms[0]).toEqual({ type: 1, id: EncrId.ENCR_AES_CBC, keyLength: 256 });
      expect(sa.proposals[2]!.transforms[0]).toEqual({ type: 1, id: EncrId.ENCR_CHACHA20_POLY1305 }); // no KEY_LENGTH (RFC 7634 4)
      const ke = request[1] as Extract<SeenPayload, { type: 34 }>;
      expect(ke.group).toBe(spec.suite.dhId);
      expect(ke.data.length / 2).toBe(spec.suite.dhId === DhId.ECP_256 ? 64 : 256);
      expect(request.slice(3).map((p) => (p as Extract<SeenPayload, { type: 41 }>).notifyType)).toEqual([16388, 16389, 16430, 16431]);
      const response = seenFromTshark(isakmpOf(tree, k * 4 + 1));
      expect((response[0] as Extract<SeenPayload, { type: 33 }>).proposals).toHaveLength(1);
    });

    it(`${name}: IKE_AUTH request and response decrypt with our keys to exactly our payloads`, () => {
      const e = exchanges[k]!;
      for (const i of [2, 3]) {
        const d = e.datagrams[i]!;
        const isakmp = isakmpOf(tree, k * 4 + i);
        expect(headerFromTshark(isakmp), d.name).toMatchObject({
          spiI: ikeSpiHex(e.SPIi),
          spiR: ikeSpiHex(e.SPIr),
          nextPayload: PayloadType.SK,
          exchangeType: ExchangeType.IKE_AUTH,
          initiator: i === 2,
          response: i === 3,
          messageId: 1,
          length: d.udpPayload.length - 4, // behind the 4-octet non-ESP marker
        });
        expect(seenFromTshark(isakmp), d.name).toEqual([{ type: PayloadType.SK, inner: seenFromModel(d.payloads) }]);
      }

      // Spelled out: IDi, AUTH, SA and TSi with the values the exchange put in.
      const [sk] = seenFromTshark(isakmpOf(tree, k * 4 + 2)) as [Extract<SeenPayload, { type: 46 }>];
      const inner = sk.inner ?? [];
      const idi = inner.find((p) => p.type === PayloadType.IDi) as Extract<SeenPayload, { type: 35 }>;
      const expectedId = spec.initiatorId.kind === 'fqdn' ? { idType: IdType.ID_FQDN, id: spec.initiatorId.fqdn } : { idType: IdType.ID_IPV4_ADDR, id: V4I };
      expect(idi).toEqual({ type: PayloadType.IDi, ...expectedId });
      expect(inner.find((p) => p.type === PayloadType.AUTH)).toEqual({ type: PayloadType.AUTH, method: AuthMethod.SHARED_KEY_MIC, data: e.authI.toString('hex') });
      const sa = inner.find((p) => p.type === PayloadType.SA) as Extract<SeenPayload, { type: 33 }>;
      expect(sa.proposals.map((p) => [p.number, p.protocolId, p.spi])).toEqual([
        [1, 3, espSpiHex(espSpiNumber(e.espSpiI))],
        [2, 3, espSpiHex(espSpiNumber(e.espSpiI))],
      ]);
      expect(sa.proposals[1]!.transforms.map((t) => [t.type, t.id])).toEqual([[1, EncrId.ENCR_AES_CBC], [3, IntegId.AUTH_HMAC_SHA2_256_128], [5, 0], [5, 1]]);
      expect(inner.find((p) => p.type === PayloadType.TSi)).toEqual({
        type: PayloadType.TSi,
        selectors: [
          { tsType: TsType.TS_IPV4_ADDR_RANGE, protocol: 0, startPort: 0, endPort: 65535, start: '198.51.100.0', end: '198.51.100.255' },
          { tsType: TsType.TS_IPV4_ADDR_RANGE, protocol: 17, startPort: 500, endPort: 4500, start: '198.51.100.7', end: '198.51.100.9' },
        ],
      });
      expect(inner.filter((p) => p.type === PayloadType.N).map((p) => (p as Extract<SeenPayload, { type: 41 }>).notifyType)).toEqual([16384, 16391]);
    });

    it(`${name}: with a wrong key tshark does not recover IDi (negative control)`, () => {
      const e = exchanges[k]!;
      const expectedIdi = seenFromModel(e.datagrams[2]!.payloads)[0];
      for (const i of [2, 3]) {
        const [sk] = seenFromTshark(isakmpOf(wrongTree, k * 4 + i)) as [Extract<SeenPayload, { type: 46 }>];
        expect(sk.type).toBe(PayloadType.SK);
        expect(sk.inner ?? []).not.toContainEqual(expectedIdi);
        expect(sk.inner).not.toEqual(seenFromModel(e.datagrams[i]!.payloads));
        // tshark says why: the ICV (HMAC or GCM tag) does not verify.
        expect(wrongHealth.packets[k * 4 + i]!['_ws.expert.message']).toContain(ICV_INCORRECT);
      }
    });

    if (spec.suite.integId !== undefined) {
      it(`${name}: tshark verifies our ICV — a wrong SK_ai/SK_ar alone is reported (negative control)`, () => {
        const e = exchanges[k]!;
        for (const i of [2, 3]) {
          const d = e.datagrams[i]!;
          // Decryption still works (SK_e is right), so the payloads are ours...
          expect(seenFromTshark(isakmpOf(wrongIntegrityTree, k * 4 + i)), d.name).toEqual([{ type: PayloadType.SK, inner: seenFromModel(d.payloads) }]);
          // ...but the checksum does not verify, which the good run never reports.
          expect(wrongIntegrityHealth.packets[k * 4 + i]!['_ws.expert.message'], d.name).toContain(ICV_INCORRECT);
          expect(health.packets[k * 4 + i]!['_ws.expert.message'] ?? [], d.name).not.toContain(ICV_INCORRECT);
        }
      });
    }
  });
});
