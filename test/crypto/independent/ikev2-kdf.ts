/**
 * A second IKEv2 key derivation, written from the RFC 7296 text (2.13, 2.14, 2.17, 2.18) and
 * nothing else, to cross-check src/crypto/ikev2-keys.ts. Deliberately built differently: it
 * works on lowercase hex strings, calls node:crypto's createHmac directly (no PrfTransform),
 * grows prf+ by string concatenation, and cuts keys with a table of names. HMAC PRFs only.
 */
import { createHmac } from 'node:crypto';

/** RFC 7296 2.13: for HMAC PRFs the preferred key size is the hash output size. */
export const HMAC_PRF_HASHES = {
  PRF_HMAC_SHA1: { hash: 'sha1', size: 20 },
  PRF_HMAC_SHA2_256: { hash: 'sha256', size: 32 },
  PRF_HMAC_SHA2_384: { hash: 'sha384', size: 48 },
  PRF_HMAC_SHA2_512: { hash: 'sha512', size: 64 },
} as const;
export type HmacPrfName = keyof typeof HMAC_PRF_HASHES;

function prfHex(prf: HmacPrfName, keyHex: string, dataHex: string): string {
  const mac = createHmac(HMAC_PRF_HASHES[prf].hash, Buffer.from(keyHex, 'hex'));
  mac.update(Buffer.from(dataHex, 'hex'));
  return mac.digest('hex');
}

/** prf+ (K,S) = T1 | T2 | ...; T1 = prf (K, S | 0x01), Tn = prf (K, Tn-1 | S | n). */
export function prfPlusHex(prf: HmacPrfName, keyHex: string, seedHex: string, octets: number): string {
  let stream = '';
  let t = '';
  let counter = 0;
  while (stream.length < 2 * octets) {
    counter += 1;
    const counterHex = counter.toString(16).padStart(2, '0');
    t = prfHex(prf, keyHex, t + seedHex + counterHex);
    stream += t;
  }
  return stream.slice(0, 2 * octets);
}

/** SKEYSEED = prf(Ni | Nr, g^ir) */
export function skeyseedHex(prf: HmacPrfName, NiHex: string, NrHex: string, girHex: string): string {
  return prfHex(prf, NiHex + NrHex, girHex);
}

/** SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), with the OLD SA's prf. */
export function rekeySkeyseedHex(oldPrf: HmacPrfName, oldSkdHex: string, girNewHex: string, NiHex: string, NrHex: string): string {
  return prfHex(oldPrf, oldSkdHex, girNewHex + NiHex + NrHex);
}

export interface KeyLengths {
  /** integrity key length; 0 for AEAD */
  readonly integ: number;
  /** encryption key length, salt included for AEAD */
  readonly encr: number;
}

/** {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr) */
export function ikeSaKeysHex(
  prf: HmacPrfName,
  skeyseed: string,
  NiHex: string,
  NrHex: string,
  SPIiHex: string,
  SPIrHex: string,
  lengths: KeyLengths,
): Record<'SK_d' | 'SK_ai' | 'SK_ar' | 'SK_ei' | 'SK_er' | 'SK_pi' | 'SK_pr', string> {
  const p = HMAC_PRF_HASHES[prf].size;
  const table: [string, number][] = [
    ['SK_d', p],
    ['SK_ai', lengths.integ],
    ['SK_ar', lengths.integ],
    ['SK_ei', lengths.encr],
    ['SK_er', lengths.encr],
    ['SK_pi', p],
    ['SK_pr', p],
  ];
  let needed = 0;
  for (const [, n] of table) needed += n;
  const stream = prfPlusHex(prf, skeyseed, NiHex + NrHex + SPIiHex + SPIrHex, needed);
  const out: Record<string, string> = {};
  let at = 0;
  for (const [name, n] of table) {
    out[name] = stream.substring(2 * at, 2 * (at + n));
    at += n;
  }
  return out as Record<'SK_d' | 'SK_ai' | 'SK_ar' | 'SK_ei' | 'SK_er' | 'SK_pi' | 'SK_pr', string>;
}

/** KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); ESP: encr then integ, initiator->responder first. */
export function childKeysHex(
  prf: HmacPrfName,
  SKdHex: string,
  NiHex: string,
  NrHex: string,
  girNewHex: string | null,
  lengths: KeyLengths,
): { encrI: string; integI: string; encrR: string; integR: string } {
  const seed = (girNewHex ?? '') + NiHex + NrHex;
  const stream = prfPlusHex(prf, SKdHex, seed, 2 * (lengths.encr + lengths.integ));
  const e = 2 * lengths.encr;
  const a = 2 * lengths.integ;
  return {
    encrI: stream.slice(0, e),
    integI: stream.slice(e, e + a),
    encrR: stream.slice(e + a, e + a + e),
    integR: stream.slice(e + a + e, e + a + e + a),
  };
}
