import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encrAesGcm16_128, encrAesGcm16_192, encrAesGcm16_256, encrChacha20Poly1305 } from '../../src/crypto/aead.js';
import { aesXcbcMac } from '../../src/crypto/aes-xcbc.js';
import { encrAesCbc128, encrAesCbc192, encrAesCbc256 } from '../../src/crypto/encryption.js';
import { transformKnownAnswers } from '../../src/crypto/known-answers/transforms.js';
import { authHmacSha256_128 } from '../../src/crypto/integrity.js';
import { prfAes128Xcbc } from '../../src/crypto/prf.js';
import { createCryptoRegistry, cryptoRegistry } from '../../src/crypto/registry.js';
import type { AeadTransform } from '../../src/crypto/types.js';
import { DhId, EncrId, IntegId, PrfId } from '../../src/wire/iana.js';

describe('transform known answers', () => {
  it.each(transformKnownAnswers.map((c) => [`${c.algorithm} — ${c.source}`, c] as const))('%s', (_title, c) => {
    expect(c.run()).toEqual({ ok: true });
  });

  it('covers every PRF, integrity and encryption transform and every non-MODP group the registry offers', () => {
    const checked = new Set(transformKnownAnswers.map((c) => c.algorithm));
    const all = createCryptoRegistry({ allowLegacyGroups: true }).supported();
    const names = [
      ...all.prf.map((t) => t.name),
      ...all.integrity.map((t) => t.name),
      ...all.encryption.map((e) => e.transform.name),
      ...all.dh.filter((g) => !g.name.startsWith('MODP')).map((g) => `DH group ${g.id} (${g.name})`),
    ];
    expect(names.filter((name) => !checked.has(name))).toEqual([]);
  });

  it('has a source citation on every case', () => {
    for (const c of transformKnownAnswers) {
      expect(c.source).toMatch(/^(RFC \d+|NIST SP 800-38A|GCM spec)/);
    }
  });
});

describe('registry lookups', () => {
  const registry = createCryptoRegistry();

  it('finds each PRF and integrity transform by its IANA ID and refuses the rest', () => {
    for (const id of [PrfId.PRF_HMAC_SHA1, PrfId.PRF_AES128_XCBC, PrfId.PRF_HMAC_SHA2_256, PrfId.PRF_HMAC_SHA2_384, PrfId.PRF_HMAC_SHA2_512]) {
      expect(registry.prf(id)?.id).toBe(id);
    }
    expect(registry.prf(PrfId.PRF_HMAC_MD5)).toBeUndefined();
    expect(registry.prf(PrfId.PRF_AES128_CMAC)).toBeUndefined();
    expect(registry.prf(9999)).toBeUndefined();

    for (const id of [IntegId.AUTH_HMAC_SHA1_96, IntegId.AUTH_AES_XCBC_96, IntegId.AUTH_HMAC_SHA2_256_128, IntegId.AUTH_HMAC_SHA2_384_192, IntegId.AUTH_HMAC_SHA2_512_256]) {
      expect(registry.integrity(id)?.id).toBe(id);
    }
    expect(registry.integrity(IntegId.NONE)).toBeUndefined();
    expect(registry.integrity(IntegId.AUTH_HMAC_MD5_96)).toBeUndefined();
  });

  it('has the key, ICV and output sizes of RFC 4868, RFC 2404 and RFC 4434', () => {
    expect(registry.prf(PrfId.PRF_HMAC_SHA2_384)).toMatchObject({ keyLength: 48, outputLength: 48 });
    expect(registry.prf(PrfId.PRF_AES128_XCBC)).toMatchObject({ keyLength: 16, outputLength: 16 });
    expect(registry.integrity(IntegId.AUTH_HMAC_SHA1_96)).toMatchObject({ keyLength: 20, icvLength: 12 });
    expect(registry.integrity(IntegId.AUTH_HMAC_SHA2_256_128)).toMatchObject({ keyLength: 32, icvLength: 16 });
    expect(registry.integrity(IntegId.AUTH_HMAC_SHA2_384_192)).toMatchObject({ keyLength: 48, icvLength: 24 });
    expect(registry.integrity(IntegId.AUTH_HMAC_SHA2_512_256)).toMatchObject({ keyLength: 64, icvLength: 32 });
  });

  it('selects AES by the KEY_LENGTH attribute and requires it', () => {
    expect(registry.encryption(EncrId.ENCR_AES_CBC, 128)).toMatchObject({ kind: 'cipher', keyLength: 16, blockSize: 16, ivLength: 16 });
    expect(registry.encryption(EncrId.ENCR_AES_CBC, 192)).toMatchObject({ kind: 'cipher', keyLength: 24 });
    expect(registry.encryption(EncrId.ENCR_AES_CBC, 256)).toMatchObject({ kind: 'cipher', keyLength: 32 });
    expect(registry.encryption(EncrId.ENCR_AES_GCM_16, 128)).toMatchObject({ kind: 'aead', keyLength: 20, saltLength: 4, ivLength: 8, icvLength: 16 });
    expect(registry.encryption(EncrId.ENCR_AES_GCM_16, 192)).toMatchObject({ kind: 'aead', keyLength: 28 });
    expect(registry.encryption(EncrId.ENCR_AES_GCM_16, 256)).toMatchObject({ kind: 'aead', keyLength: 36 });
    for (const bad of [undefined, 0, 64, 127, 512]) {
      expect(registry.encryption(EncrId.ENCR_AES_CBC, bad)).toBeUndefined();
      expect(registry.encryption(EncrId.ENCR_AES_GCM_16, bad)).toBeUndefined();
    }
  });

  it('takes ChaCha20-Poly1305 only without a key length (RFC 7634 section 4)', () => {
    expect(registry.encryption(EncrId.ENCR_CHACHA20_POLY1305)).toMatchObject({ kind: 'aead', keyLength: 36, blockSize: 1 });
    expect(registry.encryption(EncrId.ENCR_CHACHA20_POLY1305, 256)).toBeUndefined();
    expect(registry.encryption(EncrId.ENCR_CHACHA20_POLY1305, 128)).toBeUndefined();
  });

  it('refuses ciphers it does not implement', () => {
    expect(registry.encryption(EncrId.ENCR_3DES)).toBeUndefined();
    expect(registry.encryption(EncrId.ENCR_AES_GCM_8, 128)).toBeUndefined();
    expect(registry.encryption(EncrId.ENCR_AES_CTR, 128)).toBeUndefined();
    expect(registry.encryption(EncrId.ENCR_NULL)).toBeUndefined();
  });

  it('gates the legacy MODP groups 2 and 5', () => {
    expect(registry.dhGroup(DhId.MODP_1024)).toBeUndefined();
    expect(registry.dhGroup(DhId.MODP_1536)).toBeUndefined();
    expect(registry.supported().dh.some((g) => g.legacy)).toBe(false);

    const legacy = createCryptoRegistry({ allowLegacyGroups: true });
    expect(legacy.dhGroup(DhId.MODP_1024)).toMatchObject({ legacy: true, publicValueLength: 128 });
    expect(legacy.dhGroup(DhId.MODP_1536)).toMatchObject({ legacy: true, publicValueLength: 192 });
    expect(createCryptoRegistry({ allowLegacyGroups: false }).dhGroup(DhId.MODP_1024)).toBeUndefined();
  });

  it('offers MODP 14/15/16, ECP 19/20/21 and Curve25519, and nothing else', () => {
    expect(registry.supported().dh.map((g) => g.id).sort((a, b) => a - b)).toEqual([14, 15, 16, 19, 20, 21, 31]);
    for (const id of [DhId.MODP_768, DhId.MODP_6144, DhId.MODP_2048_256, DhId.CURVE448, DhId.BRAINPOOL_P256R1]) {
      expect(registry.dhGroup(id)).toBeUndefined();
    }
  });

  it('lists every supported encryption entry so that it looks itself up again', () => {
    const listed = registry.supported().encryption;
    expect(listed).toHaveLength(7);
    for (const entry of listed) {
      expect(registry.encryption(entry.transform.id, entry.keyLengthBits)).toBe(entry.transform);
    }
  });

  it('returns the same objects on every lookup and shares them between registries', () => {
    const legacy = createCryptoRegistry({ allowLegacyGroups: true });
    expect(registry.prf(PrfId.PRF_HMAC_SHA2_256)).toBe(registry.prf(PrfId.PRF_HMAC_SHA2_256));
    expect(registry.encryption(EncrId.ENCR_AES_GCM_16, 256)).toBe(legacy.encryption(EncrId.ENCR_AES_GCM_16, 256));
    expect(registry.dhGroup(DhId.ECP_256)).toBe(legacy.dhGroup(DhId.ECP_256));
    expect(registry.supported()).toBe(registry.supported());
    expect(createCryptoRegistry()).toBe(cryptoRegistry);
    expect(Object.isFrozen(registry.prf(PrfId.PRF_HMAC_SHA1))).toBe(true);
  });
});

describe('AEAD behaviour', () => {
  const aeads: readonly AeadTransform[] = [encrAesGcm16_128, encrAesGcm16_192, encrAesGcm16_256, encrChacha20Poly1305];

  describe.each(aeads.map((a) => [a.name, a] as const))('%s', (_name, aead) => {
    const keyMaterial = randomBytes(aead.keyLength);
    const iv = randomBytes(aead.ivLength);
    const aad = randomBytes(32);
    const plaintext = randomBytes(45);
    const sealed = aead.seal(keyMaterial, iv, aad, plaintext);

    it('round-trips and appends a 16-octet ICV', () => {
      expect(sealed).toHaveLength(plaintext.length + 16);
      expect(aead.open(keyMaterial, iv, aad, sealed)).toEqual(plaintext);
    });

    it('returns null, without throwing, for a flipped ciphertext bit, a flipped ICV bit, other AAD, other IV or salt', () => {
      const flippedBody = Buffer.from(sealed);
      flippedBody[0] = (flippedBody[0] as number) ^ 0x01;
      const flippedTag = Buffer.from(sealed);
      flippedTag[sealed.length - 1] = (flippedTag[sealed.length - 1] as number) ^ 0x80;
      const otherSalt = Buffer.from(keyMaterial);
      otherSalt[otherSalt.length - 1] = (otherSalt[otherSalt.length - 1] as number) ^ 0x01;

      expect(aead.open(keyMaterial, iv, aad, flippedBody)).toBeNull();
      expect(aead.open(keyMaterial, iv, aad, flippedTag)).toBeNull();
      expect(aead.open(keyMaterial, iv, Buffer.concat([aad, Buffer.from([0])]), sealed)).toBeNull();
      expect(aead.open(keyMaterial, Buffer.alloc(aead.ivLength), aad, sealed)).toBeNull();
      expect(aead.open(otherSalt, iv, aad, sealed)).toBeNull();
    });

    it('returns null for input shorter than the ICV', () => {
      expect(aead.open(keyMaterial, iv, aad, Buffer.alloc(0))).toBeNull();
      expect(aead.open(keyMaterial, iv, aad, sealed.subarray(0, 15))).toBeNull();
    });

    it('seals an empty plaintext to the ICV alone', () => {
      const tagOnly = aead.seal(keyMaterial, iv, aad, Buffer.alloc(0));
      expect(tagOnly).toHaveLength(16);
      expect(aead.open(keyMaterial, iv, aad, tagOnly)).toEqual(Buffer.alloc(0));
    });

    it('throws on key material or an IV of the wrong size (caller bugs, not peer input)', () => {
      expect(() => aead.seal(keyMaterial.subarray(1), iv, aad, plaintext)).toThrow(RangeError);
      expect(() => aead.seal(keyMaterial, iv.subarray(1), aad, plaintext)).toThrow(RangeError);
      expect(() => aead.open(Buffer.concat([keyMaterial, Buffer.alloc(1)]), iv, aad, sealed)).toThrow(RangeError);
    });
  });

  it('pads GCM payloads to 4 octets and ChaCha20-Poly1305 not at all', () => {
    expect(encrAesGcm16_256.blockSize).toBe(4);
    expect(encrChacha20Poly1305.blockSize).toBe(1);
  });
});

describe('AES-CBC behaviour', () => {
  it.each([encrAesCbc128, encrAesCbc192, encrAesCbc256].map((c) => [c.name, c] as const))('%s adds no padding and round-trips', (_n, cipher) => {
    const key = randomBytes(cipher.keyLength);
    const iv = randomBytes(16);
    const plaintext = randomBytes(48);
    const ciphertext = cipher.encrypt(key, iv, plaintext);
    expect(ciphertext).toHaveLength(48);
    expect(cipher.decrypt(key, iv, ciphertext)).toEqual(plaintext);
  });

  it('refuses input that is not whole blocks, and wrong key or IV sizes', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    expect(() => encrAesCbc128.encrypt(key, iv, Buffer.alloc(15))).toThrow(RangeError);
    expect(() => encrAesCbc128.decrypt(key, iv, Buffer.alloc(17))).toThrow(RangeError);
    expect(() => encrAesCbc128.encrypt(randomBytes(32), iv, Buffer.alloc(16))).toThrow(RangeError);
    expect(() => encrAesCbc128.encrypt(key, iv.subarray(8), Buffer.alloc(16))).toThrow(RangeError);
  });
});

describe('integrity and PRF edges', () => {
  it('refuses an integrity key of the wrong size', () => {
    expect(() => authHmacSha256_128.compute(Buffer.alloc(31), Buffer.alloc(0))).toThrow(RangeError);
    expect(authHmacSha256_128.compute(Buffer.alloc(32), Buffer.alloc(0))).toHaveLength(16);
  });

  it('applies the RFC 4434 key rules: short keys zero-padded, long keys reduced with a zero key', () => {
    const data = randomBytes(40);
    const short = randomBytes(7);
    const padded = Buffer.concat([short, Buffer.alloc(9)]);
    expect(prfAes128Xcbc.compute(short, data)).toEqual(aesXcbcMac(padded, data));

    const long = randomBytes(33);
    expect(prfAes128Xcbc.compute(long, data)).toEqual(aesXcbcMac(aesXcbcMac(Buffer.alloc(16), long), data));
  });

  it('keeps the XCBC core to 128-bit keys', () => {
    expect(() => aesXcbcMac(Buffer.alloc(17), Buffer.alloc(0))).toThrow(RangeError);
  });
});
