/**
 * Random-input cross-check of src/crypto/ikev2-keys.ts against the independent implementation
 * in ./independent/ikev2-kdf.ts, for every HMAC PRF and a spread of cipher suites.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deriveChildSaKeys, deriveIkeSaKeys, deriveRekeyedIkeSaKeys } from '../../src/crypto/ikev2-keys.js';
import { prfPlus } from '../../src/crypto/prf-plus.js';
import { integrities, ciphers, aeads, prfById } from './registry-transforms.js';
import type { EncryptionTransform, IntegrityTransform, PrfTransform } from '../../src/crypto/types.js';
import { PrfId } from '../../src/wire/iana.js';
import {
  HMAC_PRF_HASHES,
  childKeysHex,
  ikeSaKeysHex,
  prfPlusHex,
  rekeySkeyseedHex,
  skeyseedHex,
  type HmacPrfName,
} from './independent/ikev2-kdf.js';


const prfNames = Object.keys(HMAC_PRF_HASHES) as HmacPrfName[];
const prfOf = (name: HmacPrfName): PrfTransform => prfById(PrfId[name]);

interface Suite {
  readonly encryption: EncryptionTransform;
  readonly integrity?: IntegrityTransform;
}
const suites: Suite[] = [
  ...ciphers.flatMap((encryption) => integrities.map((integrity) => ({ encryption, integrity }))),
  ...aeads.map((encryption) => ({ encryption })),
];

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((u) => Buffer.from(u));
const nonce = bytes(16, 256); // RFC 7296 2.10: 16..256 octets
const gir = bytes(1, 600);
const spi = bytes(8, 8);
const prfName = fc.constantFrom(...prfNames);
const suite = fc.constantFrom(...suites);
const h = (b: Buffer): string => b.toString('hex');

function lengthsOf(s: Suite): { integ: number; encr: number } {
  return { integ: s.integrity?.keyLength ?? 0, encr: s.encryption.keyLength };
}

describe('ikev2-keys agrees with the independent RFC-text implementation', () => {
  it('prf+ for every HMAC PRF and lengths up to 255 blocks', () => {
    fc.assert(
      fc.property(prfName, bytes(0, 100), bytes(0, 300), fc.nat(), (name, key, seed, n) => {
        const prf = prfOf(name);
        const length = n % (255 * prf.outputLength + 1);
        expect(h(prfPlus(prf, key, seed, length))).toBe(prfPlusHex(name, h(key), h(seed), length));
      }),
      { numRuns: 200 },
    );
  });

  it('SKEYSEED and SK_d..SK_pr for IKE_SA_INIT', () => {
    fc.assert(
      fc.property(prfName, suite, nonce, nonce, gir, spi, spi, (name, s, Ni, Nr, g, SPIi, SPIr) => {
        const keys = deriveIkeSaKeys({ prf: prfOf(name), ...s, Ni, Nr, sharedSecret: g, SPIi, SPIr });
        const skeyseed = skeyseedHex(name, h(Ni), h(Nr), h(g));
        expect(h(keys.SKEYSEED)).toBe(skeyseed);
        const expected = ikeSaKeysHex(name, skeyseed, h(Ni), h(Nr), h(SPIi), h(SPIr), lengthsOf(s));
        expect({
          SK_d: h(keys.SK_d),
          SK_ai: h(keys.SK_ai),
          SK_ar: h(keys.SK_ar),
          SK_ei: h(keys.SK_ei),
          SK_er: h(keys.SK_er),
          SK_pi: h(keys.SK_pi),
          SK_pr: h(keys.SK_pr),
        }).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('Child SA KEYMAT with and without PFS', () => {
    fc.assert(
      fc.property(prfName, suite, nonce, nonce, fc.option(gir, { nil: undefined }), (name, s, Ni, Nr, g) => {
        const SK_d = Buffer.alloc(HMAC_PRF_HASHES[name].size, 0x5a);
        const keys = deriveChildSaKeys({ prf: prfOf(name), SK_d, Ni, Nr, sharedSecret: g, ...s });
        const expected = childKeysHex(name, h(SK_d), h(Ni), h(Nr), g === undefined ? null : h(g), lengthsOf(s));
        expect({ encrI: h(keys.encrI), integI: h(keys.integI), encrR: h(keys.encrR), integR: h(keys.integR) }).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('rekeyed IKE SA: SKEYSEED under the old PRF, keys under the new PRF and new SPIs', () => {
    fc.assert(
      fc.property(prfName, prfName, suite, nonce, nonce, gir, spi, spi, (oldName, newName, s, Ni, Nr, g, SPIi, SPIr) => {
        const oldSK_d = Buffer.alloc(HMAC_PRF_HASHES[oldName].size, 0xa5);
        const keys = deriveRekeyedIkeSaKeys({
          oldPrf: prfOf(oldName),
          oldSK_d,
          prf: prfOf(newName),
          ...s,
          Ni,
          Nr,
          sharedSecret: g,
          SPIi,
          SPIr,
        });
        const skeyseed = rekeySkeyseedHex(oldName, h(oldSK_d), h(g), h(Ni), h(Nr));
        expect(h(keys.SKEYSEED)).toBe(skeyseed);
        const expected = ikeSaKeysHex(newName, skeyseed, h(Ni), h(Nr), h(SPIi), h(SPIr), lengthsOf(s));
        expect(h(keys.SK_d)).toBe(expected.SK_d);
        expect(h(keys.SK_ei)).toBe(expected.SK_ei);
        expect(h(keys.SK_er)).toBe(expected.SK_er);
        expect(h(keys.SK_ai)).toBe(expected.SK_ai);
        expect(h(keys.SK_ar)).toBe(expected.SK_ar);
      }),
      { numRuns: 300 },
    );
  });
});
