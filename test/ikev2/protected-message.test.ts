import { describe, expect, it } from 'vitest';
import { createCryptoRegistry } from '../../src/crypto/registry.js';
import { createSkProtection, sealSkBody, skBodyLength, type SkProtection } from '../../src/crypto/sk-payload.js';
import type { AeadTransform, CipherTransform, RandomPort } from '../../src/crypto/types.js';
import { decodeProtectedMessage, encodeProtectedMessage } from '../../src/ikev2/protected-message.js';
import {
  AuthMethod,
  EncrId,
  ExchangeType,
  IntegId,
  NotifyType,
  PayloadType,
  ProtocolId,
  TransformType,
  addressRange,
  authPayload,
  encodeMessage,
  encodeSkPrefix,
  encodeSkfPrefix,
  idPayload,
  isUnknownPayload,
  kePayload,
  noncePayload,
  notifyPayload,
  saPayload,
  transform,
  tsPayload,
  vendorIdPayload,
  type IkeHeader,
  type Payload,
} from '../../src/wire/index.js';

const registry = createCryptoRegistry();

function cipher(id: number, bits?: number): CipherTransform {
  const t = registry.encryption(id, bits);
  if (t?.kind !== 'cipher') throw new Error(`registry has no cipher ${id}/${bits}`);
  return t;
}
function aead(id: number, bits?: number): AeadTransform {
  const t = registry.encryption(id, bits);
  if (t?.kind !== 'aead') throw new Error(`registry has no AEAD ${id}/${bits}`);
  return t;
}
function integrity(id: number) {
  const t = registry.integrity(id);
  if (t === undefined) throw new Error(`registry has no integrity ${id}`);
  return t;
}

/** Deterministic key material: octet i = (seed + i) mod 256. */
const pattern = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (seed + i) & 0xff));

function cbc(bits: number, integ: number, seed: number): SkProtection {
  const encryption = cipher(EncrId.ENCR_AES_CBC, bits);
  const i = integrity(integ);
  return createSkProtection({ encryption, integrity: i, encryptionKey: pattern(encryption.keyLength, seed), integrityKey: pattern(i.keyLength, seed + 100) });
}
function sealed(id: number, bits: number | undefined, seed: number): SkProtection {
  const encryption = aead(id, bits);
  return createSkProtection({ encryption, encryptionKey: pattern(encryption.keyLength, seed) });
}

const suites: { name: string; make: (seed: number) => SkProtection }[] = [
  { name: 'AES-CBC-128 + HMAC-SHA1-96', make: (s) => cbc(128, IntegId.AUTH_HMAC_SHA1_96, s) },
  { name: 'AES-CBC-192 + HMAC-SHA2-384-192', make: (s) => cbc(192, IntegId.AUTH_HMAC_SHA2_384_192, s) },
  { name: 'AES-CBC-256 + HMAC-SHA2-256-128', make: (s) => cbc(256, IntegId.AUTH_HMAC_SHA2_256_128, s) },
  { name: 'AES-CBC-256 + HMAC-SHA2-512-256', make: (s) => cbc(256, IntegId.AUTH_HMAC_SHA2_512_256, s) },
  { name: 'AES-GCM-16-128', make: (s) => sealed(EncrId.ENCR_AES_GCM_16, 128, s) },
  { name: 'AES-GCM-16-256', make: (s) => sealed(EncrId.ENCR_AES_GCM_16, 256, s) },
  { name: 'ChaCha20-Poly1305', make: (s) => sealed(EncrId.ENCR_CHACHA20_POLY1305, undefined, s) },
];

/** A RandomPort that counts up, so every run draws the same IVs. */
function countingRandom(start = 1): RandomPort {
  let next = start;
  return (n: number) => Buffer.from(Array.from({ length: n }, () => next++ & 0xff));
}

const header: IkeHeader = {
  spiI: Buffer.from('0123456789abcdef', 'hex'),
  spiR: Buffer.from('fedcba9876543210', 'hex'),
  majorVersion: 2,
  minorVersion: 0,
  exchangeType: ExchangeType.IKE_AUTH,
  flags: { initiator: true, version: false, response: false },
  messageId: 1,
};

/** An IKE_AUTH request body (RFC 7296 1.2): IDi, AUTH, SA, TSi, TSr plus two status notifies. */
function ikeAuthInner(): Payload[] {
  return [
    idPayload(PayloadType.IDi, { kind: 'fqdn', fqdn: 'initiator.example' }),
    notifyPayload({ name: 'INITIAL_CONTACT' }),
    authPayload(AuthMethod.SHARED_KEY_MIC, pattern(32, 0x40)),
    saPayload([
      {
        proposalNum: 1,
        protocolId: ProtocolId.ESP,
        spi: Buffer.from('c0ffee01', 'hex'),
        transforms: [transform(TransformType.ENCR, EncrId.ENCR_AES_GCM_16, 256), transform(TransformType.ESN, 0)],
      },
    ]),
    tsPayload(PayloadType.TSi, [addressRange('198.51.100.0', '198.51.100.255')]),
    tsPayload(PayloadType.TSr, [addressRange('203.0.113.1', '203.0.113.1', { ipProtocolId: 17, startPort: 53, endPort: 53 })]),
  ];
}

describe('encodeProtectedMessage / decodeProtectedMessage', () => {
  for (const suite of suites) {
    it(`round-trips an IKE_AUTH request under ${suite.name}`, () => {
      const protection = suite.make(1);
      const inner = ikeAuthInner();
      const bytes = encodeProtectedMessage(header, inner, protection, countingRandom());
      expect(bytes.readUInt32BE(24)).toBe(bytes.length); // RFC 7296 3.1 Length
      expect(bytes[16]).toBe(PayloadType.SK); // header Next Payload
      expect(bytes[28]).toBe(PayloadType.IDi); // SK Next Payload = first inner payload
      expect(bytes.readUInt16BE(30)).toBe(bytes.length - 28); // SK payload Length

      const opened = decodeProtectedMessage(bytes, suite.make(1));
      expect(opened.ok).toBe(true);
      if (!opened.ok) return;
      expect(opened.value.message.header).toEqual(header);
      expect(opened.value.message.payloads).toHaveLength(1);
      expect(opened.value.message.payloads[0]?.type).toBe(PayloadType.SK);
      expect(opened.value.inner).toEqual(inner);
    });

    it(`round-trips an empty SK payload under ${suite.name} (liveness check, RFC 7296 1.4)`, () => {
      const informational = { ...header, exchangeType: ExchangeType.INFORMATIONAL, messageId: 7 };
      const bytes = encodeProtectedMessage(informational, [], suite.make(2), countingRandom());
      expect(bytes[28]).toBe(PayloadType.NONE);
      const opened = decodeProtectedMessage(bytes, suite.make(2));
      expect(opened.ok && opened.value.inner).toEqual([]);
    });

    it(`refuses any altered octet under ${suite.name} with a typed error`, () => {
      const bytes = encodeProtectedMessage(header, ikeAuthInner(), suite.make(3), countingRandom());
      const protection = suite.make(3);
      // Message ID, Flags, SK header RESERVED, first IV octet, a ciphertext octet, the last (ICV/tag) octet.
      for (const at of [20, 19, 29, 32, Math.floor((32 + bytes.length) / 2), bytes.length - 1]) {
        const tampered = Buffer.from(bytes);
        tampered[at] = tampered[at]! ^ 0x01;
        const opened = decodeProtectedMessage(tampered, protection);
        expect(opened.ok, `octet ${at}`).toBe(false);
        if (!opened.ok) expect(opened.error, `octet ${at}`).toEqual({ kind: 'sk-open', error: { kind: 'bad-icv' } });
      }
      // A length change is caught by the codec before any crypto runs.
      const truncated = bytes.subarray(0, bytes.length - 1);
      const opened = decodeProtectedMessage(truncated, protection);
      expect(!opened.ok && opened.error.kind).toBe('parse');
    });

    it(`refuses the wrong key and the wrong direction under ${suite.name}`, () => {
      const bytes = encodeProtectedMessage(header, ikeAuthInner(), suite.make(4), countingRandom());
      const wrong = decodeProtectedMessage(bytes, suite.make(5));
      expect(wrong).toEqual({ ok: false, error: { kind: 'sk-open', error: { kind: 'bad-icv' } } });
    });
  }

  it('is deterministic for a given random port, and the IV comes from it', () => {
    const protection = suites[2]!.make(6);
    const a = encodeProtectedMessage(header, ikeAuthInner(), protection, countingRandom(9));
    const b = encodeProtectedMessage(header, ikeAuthInner(), protection, countingRandom(9));
    const c = encodeProtectedMessage(header, ikeAuthInner(), protection, countingRandom(10));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
    expect(a.subarray(32, 48)).toEqual(countingRandom(9)(16)); // AES-CBC IV right after the SK header
  });

  it('carries unprotected payloads before SK and covers them with the ICV', () => {
    const protection = suites[0]!.make(7);
    const vendor = vendorIdPayload(Buffer.from('ikekm test vendor'));
    const bytes = encodeProtectedMessage(header, ikeAuthInner(), protection, countingRandom(), { precedingPayloads: [vendor] });
    expect(bytes[16]).toBe(PayloadType.V);
    const opened = decodeProtectedMessage(bytes, protection);
    expect(opened.ok).toBe(true);
    if (opened.ok) {
      expect(opened.value.message.payloads.map((p) => p.type)).toEqual([PayloadType.V, PayloadType.SK]);
      expect(opened.value.inner).toEqual(ikeAuthInner());
    }
    const tampered = Buffer.from(bytes);
    tampered[32] = tampered[32]! ^ 0x20; // inside the Vendor ID data
    expect(decodeProtectedMessage(tampered, protection)).toEqual({ ok: false, error: { kind: 'sk-open', error: { kind: 'bad-icv' } } });
  });

  it('says "not-protected" for a message without SK, and "fragment" for SKF', () => {
    const protection = suites[0]!.make(8);
    const init = encodeMessage({
      header: { ...header, exchangeType: ExchangeType.IKE_SA_INIT, messageId: 0, spiR: Buffer.alloc(8) },
      payloads: [kePayload(19, pattern(64, 1)), noncePayload(pattern(32, 2))],
    });
    expect(decodeProtectedMessage(init, protection)).toEqual({ ok: false, error: { kind: 'not-protected' } });
    expect(decodeProtectedMessage(encodeMessage({ header, payloads: [] }), protection)).toEqual({ ok: false, error: { kind: 'not-protected' } });

    const bodyLength = skBodyLength(protection, 0);
    const prefix = encodeSkfPrefix(header, [], { firstInnerPayload: PayloadType.IDi, fragmentNumber: 1, totalFragments: 2, bodyLength });
    const fragment = Buffer.concat([prefix, sealSkBody(protection, prefix, Buffer.alloc(0), countingRandom())]);
    expect(decodeProtectedMessage(fragment, protection)).toEqual({ ok: false, error: { kind: 'fragment' } });
  });

  it('says "inner-parse" when the authenticated plaintext is not a payload chain', () => {
    const protection = suites[4]!.make(9);
    // Next Payload says IDi, but the plaintext is a 4-octet header claiming 200 octets.
    const plaintext = Buffer.from([0, 0, 0, 200]);
    const prefix = encodeSkPrefix(header, [], skBodyLength(protection, plaintext.length), PayloadType.IDi);
    const bytes = Buffer.concat([prefix, sealSkBody(protection, prefix, plaintext, countingRandom())]);
    const opened = decodeProtectedMessage(bytes, protection);
    expect(opened.ok).toBe(false);
    if (!opened.ok && opened.error.kind === 'inner-parse') {
      expect(opened.error.error.code).toBe('bad-payload-length');
      expect(opened.error.error.offset).toBeGreaterThanOrEqual(prefix.length);
    } else {
      expect.fail(`expected inner-parse, got ${JSON.stringify(opened)}`);
    }
  });

  it('says "parse" for bytes that are not an IKEv2 message', () => {
    expect(decodeProtectedMessage(Buffer.alloc(10), suites[0]!.make(1))).toMatchObject({ ok: false, error: { kind: 'parse' } });
  });

  it('round-trips data-less status notifies inside SK', () => {
    const protection = suites[1]!.make(10);
    const inner = [notifyPayload({ name: 'USE_TRANSPORT_MODE' }), notifyPayload({ name: 'ESP_TFC_PADDING_NOT_SUPPORTED' })];
    const opened = decodeProtectedMessage(encodeProtectedMessage(header, inner, protection, countingRandom()), protection);
    expect(opened.ok && opened.value.inner.map((p) => (!isUnknownPayload(p) && p.type === PayloadType.N ? p.notifyType : -1))).toEqual([
      NotifyType.USE_TRANSPORT_MODE,
      NotifyType.ESP_TFC_PADDING_NOT_SUPPORTED,
    ]);
  });
});
