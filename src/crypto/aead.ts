/**
 * AEAD ciphers for the SK payload: ENCR_AES_GCM_16 (RFC 5282) and ENCR_CHACHA20_POLY1305
 * (RFC 7634). Both take key material = key || 4-octet salt from the KDF, carry an 8-octet
 * explicit IV, build the 12-octet nonce as salt || IV and append a 16-octet ICV.
 */
import {
  createCipheriv,
  createDecipheriv,
  type CipherChaCha20Poly1305Types,
  type CipherGCMTypes,
} from 'node:crypto';
import { EncrId } from '../wire/iana.js';
import type { AeadTransform } from './types.js';

const SALT_LENGTH = 4;
const IV_LENGTH = 8;
const ICV_LENGTH = 16;

type AeadAlgorithm = CipherGCMTypes | CipherChaCha20Poly1305Types;

/**
 * The parts of Node's GCM and ChaCha20-Poly1305 cipher objects used here. @types/node wants
 * `plaintextLength` for ChaCha20-Poly1305's setAAD (OpenSSL needs it only for CCM); passing the
 * true length satisfies both.
 */
interface AeadCipher {
  setAAD(aad: Uint8Array, options: { plaintextLength: number }): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
  getAuthTag(): Buffer;
}
interface AeadDecipher {
  setAAD(aad: Uint8Array, options: { plaintextLength: number }): unknown;
  setAuthTag(tag: Uint8Array): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
}

function encryptor(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array): AeadCipher {
  return algorithm === 'chacha20-poly1305'
    ? createCipheriv(algorithm, key, nonce, { authTagLength: ICV_LENGTH })
    : createCipheriv(algorithm, key, nonce, { authTagLength: ICV_LENGTH });
}

function decryptor(algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array): AeadDecipher {
  return algorithm === 'chacha20-poly1305'
    ? createDecipheriv(algorithm, key, nonce, { authTagLength: ICV_LENGTH })
    : createDecipheriv(algorithm, key, nonce, { authTagLength: ICV_LENGTH });
}

interface AeadSpec {
  readonly id: EncrId;
  readonly name: string;
  /** OpenSSL cipher name. */
  readonly algorithm: AeadAlgorithm;
  readonly keyOctets: number;
  readonly blockSize: number;
}

function aead(spec: AeadSpec): AeadTransform {
  const { name, algorithm, keyOctets } = spec;
  const keyLength = keyOctets + SALT_LENGTH;

  // Key material and IV are sized by ikekm itself (KDF, IV generator), so a wrong size is a bug
  // and throws; only the received ciphertext and ICV are hostile, and open() never throws on them.
  function nonceFor(keyMaterial: Uint8Array, iv: Uint8Array): Buffer {
    if (keyMaterial.length !== keyLength) {
      throw new RangeError(`${name} needs ${keyLength} octets of key material, got ${keyMaterial.length}`);
    }
    if (iv.length !== IV_LENGTH) {
      throw new RangeError(`${name} needs an ${IV_LENGTH}-octet IV, got ${iv.length}`);
    }
    // RFC 5282 4 / RFC 7634 2: nonce = salt (last 4 octets of the key material) || explicit IV.
    const nonce = Buffer.allocUnsafe(SALT_LENGTH + IV_LENGTH);
    nonce.set(keyMaterial.subarray(keyOctets), 0);
    nonce.set(iv, SALT_LENGTH);
    return nonce;
  }

  return Object.freeze({
    kind: 'aead' as const,
    id: spec.id,
    name,
    keyLength,
    saltLength: SALT_LENGTH,
    ivLength: IV_LENGTH,
    icvLength: ICV_LENGTH,
    blockSize: spec.blockSize,
    seal(keyMaterial: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
      const nonce = nonceFor(keyMaterial, iv);
      const cipher = encryptor(algorithm, keyMaterial.subarray(0, keyOctets), nonce);
      cipher.setAAD(aad, { plaintextLength: plaintext.length });
      return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    },
    open(keyMaterial: Uint8Array, iv: Uint8Array, aad: Uint8Array, ciphertextAndIcv: Uint8Array): Buffer | null {
      const nonce = nonceFor(keyMaterial, iv);
      if (ciphertextAndIcv.length < ICV_LENGTH) {
        return null;
      }
      const split = ciphertextAndIcv.length - ICV_LENGTH;
      try {
        const decipher = decryptor(algorithm, keyMaterial.subarray(0, keyOctets), nonce);
        decipher.setAuthTag(ciphertextAndIcv.subarray(split));
        decipher.setAAD(aad, { plaintextLength: split });
        const head = decipher.update(ciphertextAndIcv.subarray(0, split));
        // final() is where OpenSSL compares the tag; a mismatch throws "Unsupported state or
        // unable to authenticate data", which is the peer's doing, so it becomes null.
        return Buffer.concat([head, decipher.final()]);
      } catch {
        return null;
      }
    },
  });
}

/**
 * Padding granularity for AES-GCM in the SK payload: 4. GCM is a counter mode and needs no block
 * alignment; 4 octets follows the ESP convention of RFC 4106 section 3 that RFC 5282 builds on
 * (and the AeadTransform contract). It costs at most 3 octets, and receivers must accept any
 * padding anyway (RFC 7296 3.14), so it is interoperable whichever way a peer chose.
 */
const GCM_BLOCK_SIZE = 4;

function aesGcm16(keyBits: 128 | 192 | 256): AeadTransform {
  return aead({
    id: EncrId.ENCR_AES_GCM_16,
    name: `ENCR_AES_GCM_16_${keyBits}`,
    algorithm: `aes-${keyBits}-gcm`,
    keyOctets: keyBits / 8,
    blockSize: GCM_BLOCK_SIZE,
  });
}

/** RFC 5282 7.1: 20, 28 or 36 octets of key material for the 128-, 192- and 256-bit keys. */
export const encrAesGcm16_128 = aesGcm16(128);
export const encrAesGcm16_192 = aesGcm16(192);
export const encrAesGcm16_256 = aesGcm16(256);

/**
 * RFC 7634 section 3: a 256-bit key plus a 4-octet salt (36 octets of key material), and for
 * IKEv2 the sender SHOULD add no padding, hence a padding granularity of 1.
 */
export const encrChacha20Poly1305 = aead({
  id: EncrId.ENCR_CHACHA20_POLY1305,
  name: 'ENCR_CHACHA20_POLY1305',
  algorithm: 'chacha20-poly1305',
  keyOctets: 32,
  blockSize: 1,
});
