/**
 * Pseudorandom functions (RFC 7296 3.3.2 transform type 2): the HMAC family of RFC 2104 /
 * RFC 4868 2.1 and AES-XCBC-PRF-128 of RFC 4434. One frozen object per transform, shared by
 * every registry.
 */
import { createHmac } from 'node:crypto';
import { PrfId } from '../wire/iana.js';
import { aesXcbcMac } from './aes-xcbc.js';
import type { PrfTransform } from './types.js';

function hmacPrf(id: PrfId, name: string, hash: string, outputLength: number): PrfTransform {
  return Object.freeze({
    id,
    name,
    // RFC 4868 2.1.1 (and RFC 7296 2.14 for SHA-1): the preferred key size is the output size.
    keyLength: outputLength,
    outputLength,
    // Keys of any length are accepted: IKEv2 keys the PRF with Ni | Nr and with the PSK (RFC 7296
    // 2.14, 2.15), and HMAC defines how to use them (RFC 2104 section 2).
    compute(key: Uint8Array, data: Uint8Array): Buffer {
      return createHmac(hash, key).update(data).digest();
    },
  });
}

export const prfHmacSha1 = hmacPrf(PrfId.PRF_HMAC_SHA1, 'PRF_HMAC_SHA1', 'sha1', 20);
export const prfHmacSha256 = hmacPrf(PrfId.PRF_HMAC_SHA2_256, 'PRF_HMAC_SHA2_256', 'sha256', 32);
export const prfHmacSha384 = hmacPrf(PrfId.PRF_HMAC_SHA2_384, 'PRF_HMAC_SHA2_384', 'sha384', 48);
export const prfHmacSha512 = hmacPrf(PrfId.PRF_HMAC_SHA2_512, 'PRF_HMAC_SHA2_512', 'sha512', 64);

const XCBC_KEY_LENGTH = 16;
const ZERO_KEY = Buffer.alloc(XCBC_KEY_LENGTH);

/**
 * RFC 4434 section 2: the key is used as-is when it is exactly 128 bits; a shorter key is padded
 * on the right with zero bits; a longer key is first reduced by AES-XCBC-PRF-128 itself with a
 * 128-bit zero key and the too-long key as the message.
 */
function xcbcPrfKey(key: Uint8Array): Uint8Array {
  if (key.length === XCBC_KEY_LENGTH) {
    return key;
  }
  if (key.length < XCBC_KEY_LENGTH) {
    const padded = Buffer.alloc(XCBC_KEY_LENGTH);
    padded.set(key);
    return padded;
  }
  return aesXcbcMac(ZERO_KEY, key);
}

/**
 * PRF_AES128_XCBC (RFC 4434): the untruncated 128-bit AES-XCBC-MAC. Note for key derivation:
 * RFC 7296 2.14 says that for a fixed-key-size PRF, SKEYSEED uses the first half of the key bits
 * from Ni and half from Nr; that selection is the caller's, this function only applies RFC 4434.
 */
export const prfAes128Xcbc: PrfTransform = Object.freeze({
  id: PrfId.PRF_AES128_XCBC,
  name: 'PRF_AES128_XCBC',
  keyLength: XCBC_KEY_LENGTH,
  outputLength: 16,
  compute(key: Uint8Array, data: Uint8Array): Buffer {
    return aesXcbcMac(xcbcPrfKey(key), data);
  },
});
