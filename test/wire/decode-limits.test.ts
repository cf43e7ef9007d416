/**
 * Decoding limits (decode-limits.ts): the hostile IKE_SA_INITs of a parse-cost attack are
 * ParseErrors that say where and in which payload, found before the bodies that would exceed a
 * limit are decoded; what peers really send (strongSwan's default proposals, an IKE_AUTH with a
 * certificate chain near the size limit) still decodes.
 */
import { describe, expect, it } from 'vitest';
import {
  AuthMethod,
  CertEncoding,
  DhId,
  EncrId,
  ExchangeType,
  IntegId,
  MAX_CONFIGURATION_ATTRIBUTES,
  MAX_MESSAGE_OCTETS,
  MAX_PAYLOADS,
  MAX_PAYLOADS_OF_TYPE,
  MAX_PROPOSALS,
  MAX_TRANSFORMS,
  PayloadType,
  PrfId,
  ProtocolId,
  TransformType,
  addressRange,
  authPayload,
  certPayload,
  certReqPayload,
  cpPayload,
  decodeMessage,
  decodePayloadChain,
  encodeMessage,
  encodePayloadChain,
  idPayload,
  kePayload,
  noncePayload,
  notifyPayload,
  saPayload,
  skPayload,
  transform,
  tsPayload,
  vendorIdPayload,
  type IkeHeader,
  type Payload,
  type Proposal,
  type Transform,
} from '../../src/wire/index.js';
import { expectOk, expectParseError } from './expect-parse-error.js';
import { HOSTILE_VARIANTS, hostileIkeSaInit, plainIkeSaInit } from './hostile-ike-sa-init.js';

const header = (exchangeType: number, messageId: number): IkeHeader => ({
  spiI: Buffer.from('0102030405060708', 'hex'),
  spiR: exchangeType === ExchangeType.IKE_SA_INIT ? Buffer.alloc(8) : Buffer.from('1112131415161718', 'hex'),
  majorVersion: 2,
  minorVersion: 0,
  exchangeType,
  flags: { initiator: true, version: false, response: false },
  messageId,
});

const emptyNotify = (): Payload => ({ type: PayloadType.N, protocolId: 0, spi: Buffer.alloc(0), notifyType: 40_960, data: Buffer.alloc(0) });
const IKE_SA_INIT_BASE = (sa: Proposal[]): Payload[] => [saPayload(sa), kePayload(DhId.ECP_256, Buffer.alloc(64, 1)), noncePayload(Buffer.alloc(32, 2))];

/**
 * strongSwan's default IKE proposals (libstrongswan/crypto/proposal/proposal.c, every algorithm
 * its default plugins offer): one AEAD and one classic Proposal, 75 Transforms in all.
 */
function strongSwanDefaultProposals(): Proposal[] {
  const dh = [DhId.ECP_256, DhId.ECP_384, DhId.ECP_521, 28, 29, 30, DhId.CURVE25519, DhId.CURVE448, 15, 16, 17, DhId.MODP_8192, 14].map((id) => transform(TransformType.DH, id));
  const prf = [PrfId.PRF_HMAC_SHA2_256, 6, 7, PrfId.PRF_HMAC_SHA1, PrfId.PRF_AES128_XCBC, 8].map((id) => transform(TransformType.PRF, id));
  const bits = [128, 192, 256];
  const aead: Transform[] = [
    ...[EncrId.ENCR_AES_GCM_16, 19, 18, EncrId.ENCR_AES_CCM_16, 15, 14].flatMap((id) => bits.map((b) => transform(TransformType.ENCR, id, b))),
    transform(TransformType.ENCR, EncrId.ENCR_CHACHA20_POLY1305),
  ];
  const classic: Transform[] = [EncrId.ENCR_AES_CBC, EncrId.ENCR_AES_CTR, EncrId.ENCR_CAMELLIA_CBC, EncrId.ENCR_CAMELLIA_CTR].flatMap((id) =>
    bits.map((b) => transform(TransformType.ENCR, id, b)),
  );
  const integ = [IntegId.AUTH_HMAC_SHA2_256_128, 13, 14, IntegId.AUTH_HMAC_SHA1_96, IntegId.AUTH_AES_XCBC_96, IntegId.AUTH_AES_CMAC_96].map((id) => transform(TransformType.INTEG, id));
  return [
    { proposalNum: 1, protocolId: ProtocolId.IKE, spi: Buffer.alloc(0), transforms: [...aead, ...prf, ...dh] },
    { proposalNum: 2, protocolId: ProtocolId.IKE, spi: Buffer.alloc(0), transforms: [...classic, ...integ, ...prf, ...dh] },
  ];
}

describe('the hostile IKE_SA_INITs of a parse-cost attack are ParseErrors', () => {
  const plain = plainIkeSaInit();

  it.each(HOSTILE_VARIANTS)('63 KB padded with %s: refused on its header Length, nothing decoded', (variant) => {
    const bytes = hostileIkeSaInit(plain, variant);
    expect(bytes.length).toBeGreaterThan(60_000);
    expectParseError(decodeMessage(bytes), { code: 'message-too-large', offset: 24, payloadType: undefined });
  });

  it('30 KB of empty Notifies (under the size limit): refused at the first Notify beyond the limit', () => {
    const bytes = hostileIkeSaInit(plain, 'notifies', 30_000);
    const limit = MAX_PAYLOADS_OF_TYPE.get(PayloadType.N)!;
    // The Notifies follow the plain request's payloads, 8 octets each.
    expectParseError(decodeMessage(bytes), { code: 'too-many-payloads', offset: plain.length + limit * 8, payloadType: PayloadType.N });
  });

  it('30 KB of empty Vendor IDs: refused at the first Vendor ID beyond the limit', () => {
    const bytes = hostileIkeSaInit(plain, 'vendor-ids', 30_000);
    const limit = MAX_PAYLOADS_OF_TYPE.get(PayloadType.V)!;
    expectParseError(decodeMessage(bytes), { code: 'too-many-payloads', offset: plain.length + limit * 4, payloadType: PayloadType.V });
  });

  it('30 KB of padded Proposals: refused in the SA payload, at the first Proposal beyond the limit', () => {
    const bytes = hostileIkeSaInit(plain, 'proposals', 30_000);
    const e = expectOk(decodeMessage(plain));
    expect(e.payloads[0]!.type).toBe(PayloadType.SA);
    const result = decodeMessage(bytes);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('too-many-substructures');
    expect(result.error.payloadType).toBe(PayloadType.SA);
  });

  it('the offset of a Proposal beyond the limit is where that Proposal starts', () => {
    const proposals: Proposal[] = Array.from({ length: MAX_PROPOSALS + 1 }, (_, i) => ({
      proposalNum: i + 1,
      protocolId: ProtocolId.IKE,
      spi: Buffer.alloc(0),
      transforms: [transform(TransformType.ENCR, EncrId.ENCR_AES_CBC, 128), transform(TransformType.PRF, PrfId.PRF_HMAC_SHA2_256), transform(TransformType.DH, DhId.ECP_256)],
    }));
    const bytes = encodeMessage({ header: header(ExchangeType.IKE_SA_INIT, 0), payloads: IKE_SA_INIT_BASE(proposals) });
    // Header, SA generic header, then the Proposals that fit.
    const fitting = encodePayloadChain([saPayload(proposals.slice(0, MAX_PROPOSALS))]).bytes.length - 4;
    expectParseError(decodeMessage(bytes), { code: 'too-many-substructures', offset: 28 + 4 + fitting, payloadType: PayloadType.SA });
    expectOk(decodeMessage(encodeMessage({ header: header(ExchangeType.IKE_SA_INIT, 0), payloads: IKE_SA_INIT_BASE(proposals.slice(0, MAX_PROPOSALS)) })));
  });

  it('Transforms are counted across the Proposals of one SA payload', () => {
    const many = (n: number): Proposal => ({ proposalNum: 1, protocolId: ProtocolId.IKE, spi: Buffer.alloc(0), transforms: Array.from({ length: n }, () => transform(TransformType.DH, DhId.ECP_256)) });
    const proposals = [0, 1, 2].map((i) => ({ ...many(200), proposalNum: i + 1 }));
    expect(3 * 200).toBeGreaterThan(MAX_TRANSFORMS);
    const result = decodeMessage(encodeMessage({ header: header(ExchangeType.IKE_SA_INIT, 0), payloads: IKE_SA_INIT_BASE(proposals) }));
    expect(result.ok ? 'decoded' : result.error.code).toBe('too-many-substructures');
  });

  it('a chain of more payloads than the limit, of types without their own limit, is refused too', () => {
    const payloads = [...IKE_SA_INIT_BASE(strongSwanDefaultProposals()), ...Array.from({ length: MAX_PAYLOADS }, () => noncePayload(Buffer.alloc(16)))];
    const bytes = encodeMessage({ header: header(ExchangeType.IKE_SA_INIT, 0), payloads });
    const result = decodeMessage(bytes);
    expect(result.ok ? 'decoded' : [result.error.code, result.error.payloadType]).toEqual(['too-many-payloads', PayloadType.Nonce]);
  });

  it('the chain inside an SK payload has the same limits (an IKE_AUTH of 7 000 Notifies from a half-open peer)', () => {
    const inner = encodePayloadChain(Array.from({ length: 7000 }, emptyNotify));
    const result = decodePayloadChain(inner.bytes, inner.firstPayloadType, 32);
    expect(result.ok ? 'decoded' : result.error.code).toBe('too-many-payloads');
  });

  it('a CP payload of thousands of attributes is refused', () => {
    const attributes = Array.from({ length: MAX_CONFIGURATION_ATTRIBUTES + 1 }, () => ({ attributeType: 1, value: Buffer.alloc(0) }));
    const inner = encodePayloadChain([cpPayload(1, attributes)]);
    const result = decodePayloadChain(inner.bytes, inner.firstPayloadType, 32);
    expect(result.ok ? 'decoded' : result.error.code).toBe('too-many-substructures');
    const fitting = encodePayloadChain([cpPayload(1, attributes.slice(1))]);
    expectOk(decodePayloadChain(fitting.bytes, fitting.firstPayloadType, 32));
  });
});

describe('what peers really send still decodes', () => {
  it("strongSwan's default IKE proposals (2 Proposals, 75 Transforms) with its usual notifies and vendor IDs", () => {
    const payloads: Payload[] = [
      ...IKE_SA_INIT_BASE(strongSwanDefaultProposals()),
      notifyPayload({ name: 'NAT_DETECTION_SOURCE_IP', hash: Buffer.alloc(20, 3) }),
      notifyPayload({ name: 'NAT_DETECTION_DESTINATION_IP', hash: Buffer.alloc(20, 4) }),
      notifyPayload({ name: 'IKEV2_FRAGMENTATION_SUPPORTED' }),
      ...Array.from({ length: 20 }, emptyNotify),
      ...Array.from({ length: 20 }, (_, i) => vendorIdPayload(Buffer.alloc(16, i))),
    ];
    const message = expectOk(decodeMessage(encodeMessage({ header: header(ExchangeType.IKE_SA_INIT, 0), payloads })));
    const sa = message.payloads[0]!;
    expect(sa.type === PayloadType.SA && 'proposals' in sa ? sa.proposals.map((p) => p.transforms.length) : []).toEqual([38, 37]);
  });

  it('an SA payload at the limits (64 Proposals, 512 Transforms) decodes', () => {
    const proposals: Proposal[] = Array.from({ length: MAX_PROPOSALS }, (_, i) => ({
      proposalNum: i + 1,
      protocolId: ProtocolId.IKE,
      spi: Buffer.alloc(0),
      transforms: Array.from({ length: MAX_TRANSFORMS / MAX_PROPOSALS }, () => transform(TransformType.ENCR, EncrId.ENCR_AES_CBC, 256)),
    }));
    expectOk(decodeMessage(encodeMessage({ header: header(ExchangeType.IKE_SA_INIT, 0), payloads: IKE_SA_INIT_BASE(proposals) })));
  });

  it('an unfragmented IKE_AUTH of exactly the size limit decodes, one octet more does not', () => {
    const sk = (bodyLength: number): Buffer => encodeMessage({ header: header(ExchangeType.IKE_AUTH, 1), payloads: [skPayload(PayloadType.IDi, Buffer.alloc(bodyLength, 5))] });
    const fits = sk(MAX_MESSAGE_OCTETS - 28 - 4);
    expect(fits.length).toBe(MAX_MESSAGE_OCTETS);
    expectOk(decodeMessage(fits));
    expectParseError(decodeMessage(sk(MAX_MESSAGE_OCTETS - 28 - 4 + 1)), { code: 'message-too-large', offset: 24, payloadType: undefined });
  });

  it('the plaintext of an IKE_AUTH with a chain of 8 certificates, CERTREQs, 20 notifies and 20 vendor IDs decodes', () => {
    const payloads: Payload[] = [
      idPayload(PayloadType.IDi, { kind: 'fqdn', fqdn: 'gateway.example.org' }),
      ...Array.from({ length: 8 }, (_, i) => certPayload(CertEncoding.X509_SIGNATURE, Buffer.alloc(3000, i))),
      ...Array.from({ length: 4 }, () => certReqPayload(CertEncoding.X509_SIGNATURE, Buffer.alloc(20 * 10, 6))),
      authPayload(AuthMethod.RSA_DIGITAL_SIGNATURE, Buffer.alloc(512, 7)),
      saPayload(strongSwanDefaultProposals().map((p) => ({ ...p, protocolId: ProtocolId.ESP, spi: Buffer.alloc(4, 8) }))),
      tsPayload(PayloadType.TSi, [addressRange('10.0.0.0', '10.0.255.255')]),
      tsPayload(PayloadType.TSr, [addressRange('10.1.0.0', '10.1.255.255')]),
      ...Array.from({ length: 20 }, emptyNotify),
      ...Array.from({ length: 20 }, (_, i) => vendorIdPayload(Buffer.alloc(16, i))),
    ];
    const inner = encodePayloadChain(payloads);
    expect(inner.bytes.length).toBeGreaterThan(24_000);
    expect(inner.bytes.length).toBeLessThan(MAX_MESSAGE_OCTETS);
    expect(expectOk(decodePayloadChain(inner.bytes, inner.firstPayloadType, 32)).length).toBe(payloads.length);
  });
});
