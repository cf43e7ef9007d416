/**
 * ENCR_AES_CBC (RFC 3602, used by IKEv2 as RFC 7296 3.14 describes): the plain block cipher that
 * is paired with a separate integrity transform. The three key sizes are three frozen objects,
 * selected by the KEY_LENGTH attribute (RFC 7296 3.3.5).
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { EncrId } from '../wire/iana.js';
import type { CipherTransform } from './types.js';

/** RFC 3602 section 2.1 / 2.3: AES has a 128-bit block and the IV is one block. */
const AES_BLOCK = 16;

function aesCbc(keyBits: 128 | 192 | 256): CipherTransform {
  const name = `ENCR_AES_CBC_${keyBits}`;
  const algorithm = `aes-${keyBits}-cbc`;
  const keyLength = keyBits / 8;

  // Wrong key, IV or length is a caller bug: the SK payload code checks the received
  // ciphertext length against blockSize before decrypting (RFC 7296 3.14), so nothing hostile
  // reaches these checks.
  function check(key: Uint8Array, iv: Uint8Array, text: Uint8Array): void {
    if (key.length !== keyLength) {
      throw new RangeError(`${name} needs a ${keyLength}-octet key, got ${key.length}`);
    }
    if (iv.length !== AES_BLOCK) {
      throw new RangeError(`${name} needs a ${AES_BLOCK}-octet IV, got ${iv.length}`);
    }
    if (text.length % AES_BLOCK !== 0) {
      throw new RangeError(`${name} input must be a multiple of ${AES_BLOCK} octets, got ${text.length}`);
    }
  }

  return Object.freeze({
    kind: 'cipher' as const,
    id: EncrId.ENCR_AES_CBC,
    name,
    keyLength,
    blockSize: AES_BLOCK,
    ivLength: AES_BLOCK,
    encrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Buffer {
      check(key, iv, plaintext);
      // IKEv2 pads itself (the Pad Length octet of RFC 7296 3.14), so OpenSSL's PKCS#7 padding
      // must stay off.
      const cipher = createCipheriv(algorithm, key, iv).setAutoPadding(false);
      return Buffer.concat([cipher.update(plaintext), cipher.final()]);
    },
    decrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer {
      check(key, iv, ciphertext);
      const decipher = createDecipheriv(algorithm, key, iv).setAutoPadding(false);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    },
  });
}

export const encrAesCbc128 = aesCbc(128);
export const encrAesCbc192 = aesCbc(192);
export const encrAesCbc256 = aesCbc(256);
