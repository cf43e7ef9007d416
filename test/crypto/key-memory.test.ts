/**
 * Key sets an SA keeps for its life live in one allocation of their own, not in slices of Node's
 * 8 KiB Buffer pool (one live slice keeps its whole slab alive: src/wire/unpooled.ts).
 */
import { describe, expect, it } from 'vitest';
import { deriveChildSaKeys, deriveIkeSaKeys } from '../../src/crypto/ikev2-keys.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { securityInService } from '../../src/ikev2/ike-sa-session.js';
import { EncrId, PrfId } from '../../src/wire/iana.js';
import { NO_OCTETS } from '../../src/wire/unpooled.js';

const prf = cryptoRegistry.prf(PrfId.PRF_HMAC_SHA2_256)!;
const gcm = cryptoRegistry.encryption(EncrId.ENCR_AES_GCM_16, 128)!;
const nonce = (b: number): Buffer => Buffer.alloc(32, b);

describe('key memory', () => {
  it("an IKE SA's SKEYSEED and SK_* share one allocation of exactly their size, each key zeroable alone", () => {
    const keys = deriveIkeSaKeys({ prf, encryption: gcm, integrity: undefined, Ni: nonce(1), Nr: nonce(2), sharedSecret: nonce(3), SPIi: Buffer.alloc(8, 4), SPIr: Buffer.alloc(8, 5) });
    // AES-GCM has no integrity key: SK_ai and SK_ar are the one shared empty Buffer.
    expect(keys.SK_ai).toBe(NO_OCTETS);
    expect(keys.SK_ar).toBe(NO_OCTETS);
    const all = [keys.SKEYSEED, keys.SK_d, keys.SK_ei, keys.SK_er, keys.SK_pi, keys.SK_pr];
    expect(new Set(all.map((k) => k.buffer)).size).toBe(1);
    expect(keys.SK_d.buffer.byteLength).toBe(all.reduce((n, k) => n + k.length, 0));
    const ei = Buffer.from(keys.SK_ei);
    keys.SK_d.fill(0);
    expect(keys.SK_ei.equals(ei)).toBe(true);
  });

  it('an IKE SA in service keeps its SPIs, SK_d, SK_a* and SK_e* in one new allocation; SKEYSEED, SK_pi and SK_pr are gone, and every key it came from is wiped', () => {
    const keys = deriveIkeSaKeys({ prf, encryption: gcm, integrity: undefined, Ni: nonce(1), Nr: nonce(2), sharedSecret: nonce(3), SPIi: Buffer.alloc(8, 4), SPIr: Buffer.alloc(8, 5) });
    const sa = { spiI: Buffer.alloc(8, 4), spiR: Buffer.alloc(8, 5), role: 'responder' as const, transforms: { encr: EncrId.ENCR_AES_GCM_16, encrKeyLengthBits: 128, prf: PrfId.PRF_HMAC_SHA2_256, dh: 31 }, keys };
    const values = { SK_d: Buffer.from(keys.SK_d), SK_ei: Buffer.from(keys.SK_ei), SK_er: Buffer.from(keys.SK_er) };
    expect([keys.SKEYSEED, keys.SK_pi, keys.SK_pr].every((k) => k.length > 0 && k.some((b) => b !== 0))).toBe(true);
    const kept = securityInService(sa);
    expect([kept.keys.SKEYSEED.length, kept.keys.SK_pi.length, kept.keys.SK_pr.length]).toEqual([0, 0, 0]);
    expect(kept.spiI.equals(sa.spiI) && kept.spiR.equals(sa.spiR)).toBe(true);
    expect({ SK_d: kept.keys.SK_d, SK_ei: kept.keys.SK_ei, SK_er: kept.keys.SK_er }).toEqual(values);
    expect([kept.keys.SK_ai, kept.keys.SK_ar]).toEqual([NO_OCTETS, NO_OCTETS]);
    const views = [kept.spiI, kept.spiR, kept.keys.SK_d, kept.keys.SK_ei, kept.keys.SK_er];
    expect(new Set(views.map((v) => v.buffer)).size).toBe(1);
    expect(kept.spiI.buffer.byteLength).toBe(views.reduce((n, v) => n + v.length, 0));
    expect([keys.SKEYSEED, keys.SK_d, keys.SK_ei, keys.SK_er, keys.SK_pi, keys.SK_pr].every((k) => k.every((b) => b === 0))).toBe(true);
    expect(JSON.stringify(kept.keys)).toBe('"[redacted]"');
    expect(securityInService(kept)).toBe(kept);
  });

  it("a Child SA's four ESP keys share one allocation of exactly their size", () => {
    const keys = deriveChildSaKeys({ prf, SK_d: nonce(7), Ni: nonce(1), Nr: nonce(2), encryption: gcm });
    expect(new Set([keys.encrI, keys.encrR].map((k) => k.buffer)).size).toBe(1);
    expect([keys.integI, keys.integR]).toEqual([NO_OCTETS, NO_OCTETS]);
    expect(keys.integI).toBe(NO_OCTETS);
    expect(keys.encrI.buffer.byteLength).toBe(2 * gcm.keyLength);
  });
});
