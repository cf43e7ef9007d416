import { inspect } from 'node:util';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { prfPlus } from '../../src/crypto/prf-plus.js';
import {
  deriveChildSaKeys,
  deriveIkeSaKeys,
  deriveIkeSaKeymat,
  deriveRekeyedIkeSaKeys,
  deriveRekeyedSkeyseed,
  deriveSkeyseed,
} from '../../src/crypto/ikev2-keys.js';
import { REDACTED } from '../../src/crypto/redacted.js';
import {
  derivationKnownAnswerCases,
  derivationKnownAnswers,
  derivationVectors,
  pskAuthVectors,
  runDerivationVector,
  skPayloadVectors,
} from '../../src/crypto/known-answers/derivation.js';
import { registry, prfs, integrities, ciphers, aeads, prfById } from './registry-transforms.js';
import type { PrfTransform } from '../../src/crypto/types.js';
import { PrfId } from '../../src/wire/iana.js';


const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const sha1 = prfById(PrfId.PRF_HMAC_SHA1);
const sha256 = prfById(PrfId.PRF_HMAC_SHA2_256);

function find<T extends { name: string }>(list: readonly T[], name: string): T {
  const found = list.find((t) => t.name === name);
  if (found === undefined) throw new Error(`no transform ${name}`);
  return found;
}

/** A PRF that records every (key, data) it is called with, computing HMAC-SHA-256 underneath. */
function recordingPrf(id: PrfId, keyLength = 32): PrfTransform & { calls: { key: Buffer; data: Buffer }[] } {
  const calls: { key: Buffer; data: Buffer }[] = [];
  return {
    id,
    name: `recording-${id}`,
    keyLength,
    outputLength: 32,
    calls,
    compute(key, data) {
      calls.push({ key: Buffer.from(key), data: Buffer.from(data) });
      return createHmac('sha256', key).update(data).digest();
    },
  };
}

describe('prf+ (RFC 7296 2.13)', () => {
  const K = Buffer.from('key');
  const S = Buffer.from('seed');
  const T1 = createHmac('sha1', K).update(Buffer.concat([S, Buffer.of(1)])).digest();
  const T2 = createHmac('sha1', K).update(Buffer.concat([T1, S, Buffer.of(2)])).digest();
  const T3 = createHmac('sha1', K).update(Buffer.concat([T2, S, Buffer.of(3)])).digest();

  it('is T1 | T2 | T3 ... with T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)', () => {
    expect(prfPlus(sha1, K, S, 60)).toEqual(Buffer.concat([T1, T2, T3]));
    expect(prfPlus(sha1, K, S, 45)).toEqual(Buffer.concat([T1, T2, T3]).subarray(0, 45));
    expect(prfPlus(sha1, K, S, 20)).toEqual(T1);
    expect(prfPlus(sha1, K, S, 1)).toEqual(T1.subarray(0, 1));
    expect(prfPlus(sha1, K, S, 0)).toEqual(Buffer.alloc(0));
  });

  it('a shorter output is a prefix of a longer one', () => {
    const long = prfPlus(sha256, K, S, 1000);
    for (const n of [1, 31, 32, 33, 64, 999]) expect(prfPlus(sha256, K, S, n)).toEqual(long.subarray(0, n));
  });

  it('allows 255 × output length and refuses one octet more with RangeError (a programming error)', () => {
    const max = prfPlus(sha1, K, S, 255 * 20);
    expect(max.length).toBe(255 * 20);
    // Block 255 uses the counter octet 0xff.
    const T254 = max.subarray(253 * 20, 254 * 20);
    expect(max.subarray(254 * 20)).toEqual(
      createHmac('sha1', K).update(Buffer.concat([T254, S, Buffer.of(0xff)])).digest(),
    );
    expect(() => prfPlus(sha1, K, S, 255 * 20 + 1)).toThrow(RangeError);
    expect(() => prfPlus(sha1, K, S, -1)).toThrow(RangeError);
    expect(() => prfPlus(sha1, K, S, 1.5)).toThrow(RangeError);
  });
});

describe('published IKEv2 KDF vectors (NIST CAVP / ACVP KDF135 IKEv2, NSS)', () => {
  it('the registry has a PRF for every vector', () => {
    for (const v of derivationVectors) expect(prfs.map((p) => p.id)).toContain(v.prf);
  });

  for (const v of derivationVectors) {
    it(`${v.source}`, () => {
      expect(runDerivationVector(prfById(v.prf), v)).toEqual({ ok: true });
    });
  }

  it('the selfcheck cases (derivationKnownAnswers, through the registry) all pass; a differing value fails with a detail', () => {
    expect(derivationKnownAnswers.length).toBe(derivationVectors.length + skPayloadVectors.length + pskAuthVectors.length);
    for (const c of derivationKnownAnswers) expect({ algorithm: c.algorithm, outcome: c.run() }).toEqual({ algorithm: c.algorithm, outcome: { ok: true } });
    const noXcbc = { ...registry, prf: (id: number) => (id === PrfId.PRF_AES128_XCBC ? undefined : registry.prf(id)) };
    const missing = derivationKnownAnswerCases(noXcbc).find((c) => c.algorithm.includes('XCBC'))!;
    expect(missing.run()).toEqual({ ok: false, detail: 'PRF_AES128_XCBC not available' });
    const v = derivationVectors[0]!;
    // Last octet only: the first octets are SK_d, which the child and rekey checks start from.
    const tampered = { ...v, DKM: v.DKM.slice(0, -2) + (v.DKM.endsWith('00') ? '01' : '00') };
    expect(runDerivationVector(sha1, tampered)).toEqual({ ok: false, detail: 'differs: DKM' });
  });

  it('the SK_* split is the DKM cut in 2.14 order (CAVP SHA-1, AES-CBC-128 + HMAC-SHA1-96: exactly 132 octets)', () => {
    const v = derivationVectors[0]!;
    const keys = deriveIkeSaKeys({
      prf: sha1,
      encryption: find(ciphers, 'ENCR_AES_CBC_128'),
      integrity: find(integrities, 'AUTH_HMAC_SHA1_96'),
      Ni: hex(v.Ni),
      Nr: hex(v.Nr),
      sharedSecret: hex(v.gir),
      SPIi: hex(v.SPIi),
      SPIr: hex(v.SPIr),
    });
    const dkm = hex(v.DKM);
    expect(dkm.length).toBe(20 + 20 + 20 + 16 + 16 + 20 + 20);
    expect(keys.SKEYSEED.toString('hex')).toBe(v.SKEYSEED);
    expect(Buffer.concat([keys.SK_d, keys.SK_ai, keys.SK_ar, keys.SK_ei, keys.SK_er, keys.SK_pi, keys.SK_pr])).toEqual(dkm);
    expect([keys.SK_d, keys.SK_ai, keys.SK_ar, keys.SK_ei, keys.SK_er, keys.SK_pi, keys.SK_pr].map((k) => k.length)).toEqual([
      20, 20, 20, 16, 16, 20, 20,
    ]);
  });

  it('AEAD: SK_a empty, SK_e includes the 4-octet salt (ACVP SHA2-256 vector, AES-GCM-16-256 and ChaCha20-Poly1305)', () => {
    const v = derivationVectors[1]!;
    for (const name of ['ENCR_AES_GCM_16_256', 'ENCR_CHACHA20_POLY1305']) {
      const keys = deriveIkeSaKeys({
        prf: sha256,
        encryption: find(aeads, name),
        Ni: hex(v.Ni),
        Nr: hex(v.Nr),
        sharedSecret: hex(v.gir),
        SPIi: hex(v.SPIi),
        SPIr: hex(v.SPIr),
      });
      expect(keys.SK_ai.length).toBe(0);
      expect(keys.SK_ar.length).toBe(0);
      expect(keys.SK_ei.length).toBe(36);
      const all = Buffer.concat([keys.SK_d, keys.SK_ei, keys.SK_er, keys.SK_pi, keys.SK_pr]);
      expect(all).toEqual(hex(v.DKM).subarray(0, 32 + 36 + 36 + 32 + 32));
    }
  });

  it('Child SA keys are encrI | integI | encrR | integR of the CAVP child DKM, with and without PFS', () => {
    const v = derivationVectors[0]!;
    const SK_d = hex(v.DKM).subarray(0, 20);
    const base = { prf: sha1, SK_d, Ni: hex(v.Ni), Nr: hex(v.Nr) };
    const cbc = deriveChildSaKeys({ ...base, encryption: find(ciphers, 'ENCR_AES_CBC_256'), integrity: find(integrities, 'AUTH_HMAC_SHA1_96') });
    expect(Buffer.concat([cbc.encrI, cbc.integI, cbc.encrR, cbc.integR])).toEqual(hex(v.DKMChild!).subarray(0, 2 * (32 + 20)));
    expect([cbc.encrI.length, cbc.integI.length, cbc.encrR.length, cbc.integR.length]).toEqual([32, 20, 32, 20]);
    const gcm = deriveChildSaKeys({ ...base, sharedSecret: hex(v.girNew!), encryption: find(aeads, 'ENCR_AES_GCM_16_128') });
    // RFC 4106 8.1: 16-octet AES key + 4-octet salt per direction, no integrity key.
    expect([gcm.encrI.length, gcm.integI.length, gcm.encrR.length, gcm.integR.length]).toEqual([20, 0, 20, 0]);
    expect(Buffer.concat([gcm.encrI, gcm.encrR])).toEqual(hex(v.DKMChildDh!).subarray(0, 40));
    const chacha = deriveChildSaKeys({ ...base, encryption: find(aeads, 'ENCR_CHACHA20_POLY1305') });
    // RFC 7634 2: 32-octet key + 4-octet salt.
    expect(Buffer.concat([chacha.encrI, chacha.encrR])).toEqual(hex(v.DKMChild!).subarray(0, 72));
  });

  it('the rekeyed IKE SA uses the old SK_d and old PRF for SKEYSEED (CAVP SKEYSEED(Rekey))', () => {
    const v = derivationVectors[0]!;
    const SK_d = hex(v.DKM).subarray(0, 20);
    expect(deriveRekeyedSkeyseed(sha1, SK_d, hex(v.girNew!), hex(v.Ni), hex(v.Nr)).toString('hex')).toBe(v.SKEYSEEDRekey);
    const keys = deriveRekeyedIkeSaKeys({
      oldPrf: sha1,
      oldSK_d: SK_d,
      prf: sha1,
      encryption: find(aeads, 'ENCR_AES_GCM_16_128'),
      Ni: hex(v.Ni),
      Nr: hex(v.Nr),
      sharedSecret: hex(v.girNew!),
      SPIi: hex(v.SPIi),
      SPIr: hex(v.SPIr),
    });
    expect(keys.SKEYSEED.toString('hex')).toBe(v.SKEYSEEDRekey);
    expect(keys.SK_d).toEqual(deriveIkeSaKeymat(sha1, keys.SKEYSEED, hex(v.Ni), hex(v.Nr), hex(v.SPIi), hex(v.SPIr), 20));
  });
});

describe('rekeying with a different PRF (RFC 7296 2.18)', () => {
  it('computes SKEYSEED with the old SA PRF and prf+ with the new SA PRF', () => {
    const oldPrf = recordingPrf(PrfId.PRF_HMAC_SHA1, 20);
    const newPrf = recordingPrf(PrfId.PRF_HMAC_SHA2_256, 32);
    const Ni = Buffer.alloc(32, 1);
    const Nr = Buffer.alloc(32, 2);
    const girNew = Buffer.alloc(256, 3);
    const oldSK_d = Buffer.alloc(20, 4);
    const SPIi = Buffer.alloc(8, 5);
    const SPIr = Buffer.alloc(8, 6);
    deriveRekeyedIkeSaKeys({
      oldPrf,
      oldSK_d,
      prf: newPrf,
      encryption: find(aeads, 'ENCR_AES_GCM_16_256'),
      Ni,
      Nr,
      sharedSecret: girNew,
      SPIi,
      SPIr,
    });
    expect(oldPrf.calls).toEqual([{ key: oldSK_d, data: Buffer.concat([girNew, Ni, Nr]) }]);
    expect(newPrf.calls.length).toBeGreaterThan(0);
    const SKEYSEED = createHmac('sha256', oldSK_d).update(Buffer.concat([girNew, Ni, Nr])).digest();
    for (const call of newPrf.calls) expect(call.key).toEqual(SKEYSEED);
    // T1's input is Ni | Nr | SPIi | SPIr | 0x01, with the NEW SPIs.
    expect(newPrf.calls[0]!.data).toEqual(Buffer.concat([Ni, Nr, SPIi, SPIr, Buffer.of(1)]));
  });
});

describe('SKEYSEED with AES-XCBC-PRF-128 and AES-CMAC-PRF-128 (RFC 7296 2.14)', () => {
  const Ni = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
  const Nr = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf', 'hex');
  const gir = Buffer.alloc(32, 0x55);

  for (const id of [PrfId.PRF_AES128_XCBC, PrfId.PRF_AES128_CMAC]) {
    it(`PRF ${id}: key is the first 64 bits of Ni then of Nr; prf+ still gets all of Ni and Nr`, () => {
      const prf = recordingPrf(id, 16);
      deriveIkeSaKeys({
        prf,
        encryption: find(aeads, 'ENCR_AES_GCM_16_128'),
        Ni,
        Nr,
        sharedSecret: gir,
        SPIi: Buffer.alloc(8, 1),
        SPIr: Buffer.alloc(8, 2),
      });
      expect(prf.calls[0]).toEqual({ key: Buffer.concat([Ni.subarray(0, 8), Nr.subarray(0, 8)]), data: gir });
      expect(prf.calls[1]!.data.subarray(0, 64)).toEqual(Buffer.concat([Ni, Nr]));
    });

    it(`PRF ${id}: nonces shorter than 64 bits are a programming error`, () => {
      expect(() => deriveSkeyseed(recordingPrf(id, 16), Buffer.alloc(7), Buffer.alloc(16), gir)).toThrow(RangeError);
    });
  }

  it('HMAC PRFs key SKEYSEED with all of Ni | Nr', () => {
    const prf = recordingPrf(PrfId.PRF_HMAC_SHA2_256);
    deriveSkeyseed(prf, Ni, Nr, gir);
    expect(prf.calls[0]!.key).toEqual(Buffer.concat([Ni, Nr]));
  });
});

describe('input checks and secret hygiene', () => {
  const base = {
    prf: sha256,
    Ni: Buffer.alloc(32, 1),
    Nr: Buffer.alloc(32, 2),
    sharedSecret: Buffer.alloc(32, 3),
    SPIi: Buffer.alloc(8, 4),
    SPIr: Buffer.alloc(8, 5),
  };
  const gcm = find(aeads, 'ENCR_AES_GCM_16_128');
  const cbc = find(ciphers, 'ENCR_AES_CBC_128');
  const hmac = find(integrities, 'AUTH_HMAC_SHA2_256_128');

  it('refuses AEAD with an integrity transform, a plain cipher without one, and SPIs that are not 8 octets', () => {
    expect(() => deriveIkeSaKeys({ ...base, encryption: gcm, integrity: hmac })).toThrow(TypeError);
    expect(() => deriveIkeSaKeys({ ...base, encryption: cbc })).toThrow(TypeError);
    expect(() => deriveIkeSaKeys({ ...base, encryption: cbc, integrity: hmac, SPIi: Buffer.alloc(4) })).toThrow(RangeError);
    expect(() => deriveChildSaKeys({ prf: sha256, SK_d: Buffer.alloc(32), Ni: base.Ni, Nr: base.Nr, encryption: gcm, integrity: hmac })).toThrow(
      TypeError,
    );
  });

  it('key sets serialize and inspect as "[redacted]", yet the keys stay readable', () => {
    const keys = deriveIkeSaKeys({ ...base, encryption: cbc, integrity: hmac });
    const child = deriveChildSaKeys({ prf: sha256, SK_d: keys.SK_d, Ni: base.Ni, Nr: base.Nr, encryption: cbc, integrity: hmac });
    for (const set of [keys, child]) {
      expect(JSON.stringify(set)).toBe(`"${REDACTED}"`);
      expect(inspect(set)).toBe(REDACTED);
      expect(inspect({ nested: set }, { depth: 5 })).not.toMatch(/[0-9a-f]{16}/);
      expect(Object.isFrozen(set)).toBe(true);
    }
    const logged = JSON.stringify({ msg: 'established', keys, child });
    for (const k of [keys.SKEYSEED, keys.SK_d, keys.SK_ei, keys.SK_ai, child.encrI, child.integR]) {
      expect(logged).not.toContain(k.toString('hex'));
      expect(logged).not.toContain(k.toString('base64'));
      expect(logged).not.toContain(`${k[0]},${k[1]},${k[2]}`); // Buffer's own toJSON form
    }
    expect(Object.keys(keys).sort()).toEqual(['SKEYSEED', 'SK_ai', 'SK_ar', 'SK_d', 'SK_ei', 'SK_er', 'SK_pi', 'SK_pr']);
    expect(Object.keys(child)).toEqual(['encrI', 'integI', 'encrR', 'integR']);
    expect(keys.SK_ei.length).toBe(16);
  });

  it('every key is its own copy (zeroing one cannot clobber another)', () => {
    const keys = deriveIkeSaKeys({ ...base, encryption: cbc, integrity: hmac });
    const before = Buffer.from(keys.SK_ai);
    keys.SK_d.fill(0);
    keys.SK_ei.fill(0);
    expect(keys.SK_ai).toEqual(before);
  });
});
