/**
 * Integrity algorithms (RFC 7296 3.3.2 transform type 3): HMAC-SHA-1-96 (RFC 2404), the
 * HMAC-SHA-256/384/512 truncations of RFC 4868 and AES-XCBC-MAC-96 (RFC 3566). One frozen
 * object per transform, shared by every registry.
 */
import { createHmac } from 'node:crypto';
import { IntegId } from '../wire/iana.js';
import { aesXcbcMac } from './aes-xcbc.js';
import type { IntegrityTransform } from './types.js';

/**
 * The key is a fixed-size SK_ai / SK_ar, so a key of another size is a programming error in the
 * caller (key derivation sized it from `keyLength`), not hostile input: it throws.
 */
function checkKey(name: string, expected: number, key: Uint8Array): void {
  if (key.length !== expected) {
    throw new RangeError(`${name} needs a ${expected}-octet key, got ${key.length}`);
  }
}

function hmacIntegrity(id: IntegId, name: string, hash: string, keyLength: number, icvLength: number): IntegrityTransform {
  return Object.freeze({
    id,
    name,
    keyLength,
    icvLength,
    compute(key: Uint8Array, data: Uint8Array): Buffer {
      checkKey(name, keyLength, key);
      // The ICV is the leftmost icvLength octets of the HMAC (RFC 2404 section 2, RFC 4868 2.3).
      return createHmac(hash, key).update(data).digest().subarray(0, icvLength);
    },
  });
}

/** RFC 2404 section 2: 160-bit key, HMAC-SHA-1 truncated to 96 bits. */
export const authHmacSha1_96 = hmacIntegrity(IntegId.AUTH_HMAC_SHA1_96, 'AUTH_HMAC_SHA1_96', 'sha1', 20, 12);
/** RFC 4868 2.1.1 / 2.3: the key is as long as the hash output; the ICV is half of it. */
export const authHmacSha256_128 = hmacIntegrity(IntegId.AUTH_HMAC_SHA2_256_128, 'AUTH_HMAC_SHA2_256_128', 'sha256', 32, 16);
export const authHmacSha384_192 = hmacIntegrity(IntegId.AUTH_HMAC_SHA2_384_192, 'AUTH_HMAC_SHA2_384_192', 'sha384', 48, 24);
export const authHmacSha512_256 = hmacIntegrity(IntegId.AUTH_HMAC_SHA2_512_256, 'AUTH_HMAC_SHA2_512_256', 'sha512', 64, 32);

/** RFC 3566 section 4: a 128-bit key and the AES-XCBC-MAC truncated to its first 96 bits. */
export const authAesXcbc96: IntegrityTransform = Object.freeze({
  id: IntegId.AUTH_AES_XCBC_96,
  name: 'AUTH_AES_XCBC_96',
  keyLength: 16,
  icvLength: 12,
  compute(key: Uint8Array, data: Uint8Array): Buffer {
    checkKey('AUTH_AES_XCBC_96', 16, key);
    return aesXcbcMac(key, data).subarray(0, 12);
  },
});
