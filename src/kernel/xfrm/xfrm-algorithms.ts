/**
 * The ESP algorithms ikekm installs, by their Linux crypto API names (what `ip xfrm state` shows
 * and struct xfrm_algo*.alg_name carries), with the key lengths and ICV sizes their RFCs allow.
 * A key here is what the kernel wants: for AES-GCM, AES-CTR and ChaCha20-Poly1305 the cipher key
 * followed by the 4-octet salt or nonce that IKEv2 derives with it (RFC 7296 2.17 takes KEYMAT
 * for both; RFC 4106 8.1, RFC 3686 5.1, RFC 7634).
 */
import { invalidSpec } from './xfrm-spec-checks.js';

/** Combined-mode ciphers: sent as XFRMA_ALG_AEAD, without an integrity algorithm. */
export type XfrmAeadAlgorithm = 'rfc4106(gcm(aes))' | 'rfc7539esp(chacha20,poly1305)';
/** Ciphers that need an integrity algorithm beside them: XFRMA_ALG_CRYPT. */
export type XfrmCipherAlgorithm = 'cbc(aes)' | 'rfc3686(ctr(aes))';
/** Integrity algorithms: XFRMA_ALG_AUTH_TRUNC. */
export type XfrmIntegrityAlgorithm = 'hmac(sha1)' | 'hmac(sha256)' | 'hmac(sha384)' | 'hmac(sha512)' | 'xcbc(aes)';

export type XfrmEncryptionSpec =
  | { readonly algorithm: XfrmAeadAlgorithm; readonly key: Buffer; readonly icvBits: number }
  | { readonly algorithm: XfrmCipherAlgorithm; readonly key: Buffer };

export interface XfrmIntegritySpec {
  readonly algorithm: XfrmIntegrityAlgorithm;
  readonly key: Buffer;
  readonly truncationBits: number;
}

const AEAD: Readonly<Record<XfrmAeadAlgorithm, { readonly keyOctets: readonly number[]; readonly icvBits: readonly number[] }>> = {
  // RFC 4106 8.1: a 16, 24 or 32-octet AES key and a 4-octet salt; 8, 12 or 16-octet ICV (section 6).
  'rfc4106(gcm(aes))': { keyOctets: [20, 28, 36], icvBits: [64, 96, 128] },
  // RFC 7634: a 32-octet key and a 4-octet salt; the Poly1305 tag is 16 octets.
  'rfc7539esp(chacha20,poly1305)': { keyOctets: [36], icvBits: [128] },
};

const CIPHER: Readonly<Record<XfrmCipherAlgorithm, readonly number[]>> = {
  'cbc(aes)': [16, 24, 32], // RFC 3602 2.2
  'rfc3686(ctr(aes))': [20, 28, 36], // RFC 3686 5.1: AES key and a 4-octet nonce
};

/**
 * The key is as long as the hash output for HMAC-SHA-1 (RFC 2404 3) and HMAC-SHA-2 (RFC 4868
 * 2.1.1), 16 octets for AES-XCBC (RFC 3566); ICVs are truncated to the RFCs' lengths. They
 * go as XFRMA_ALG_AUTH_TRUNC because XFRMA_ALG_AUTH would take the kernel's default truncation,
 * 96 bits for hmac(sha256) rather than RFC 4868's 128.
 */
const INTEGRITY: Readonly<Record<XfrmIntegrityAlgorithm, { readonly keyOctets: number; readonly truncationBits: number }>> = {
  'hmac(sha1)': { keyOctets: 20, truncationBits: 96 },
  'hmac(sha256)': { keyOctets: 32, truncationBits: 128 },
  'hmac(sha384)': { keyOctets: 48, truncationBits: 192 },
  'hmac(sha512)': { keyOctets: 64, truncationBits: 256 },
  'xcbc(aes)': { keyOctets: 16, truncationBits: 96 },
};

export function isAeadAlgorithm(algorithm: string): algorithm is XfrmAeadAlgorithm {
  return Object.hasOwn(AEAD, algorithm);
}

/** Refuses (KernelError 'invalid') an algorithm ikekm does not know, or a key or ICV it does not allow. */
export function checkEncryption(spec: XfrmEncryptionSpec): void {
  if ('icvBits' in spec && isAeadAlgorithm(spec.algorithm)) {
    const { keyOctets, icvBits } = AEAD[spec.algorithm];
    checkKey(spec.algorithm, spec.key, keyOctets);
    if (!icvBits.includes(spec.icvBits)) invalidSpec(`${spec.algorithm} takes an ICV of ${icvBits.join('/')} bits, not ${spec.icvBits}`);
    return;
  }
  if (!Object.hasOwn(CIPHER, spec.algorithm)) invalidSpec(`unknown encryption algorithm '${spec.algorithm}' (an AEAD one needs icvBits)`);
  checkKey(spec.algorithm, spec.key, CIPHER[spec.algorithm as XfrmCipherAlgorithm]);
}

export function checkIntegrity(spec: XfrmIntegritySpec): void {
  if (!Object.hasOwn(INTEGRITY, spec.algorithm)) invalidSpec(`unknown integrity algorithm '${spec.algorithm}'`);
  const { keyOctets, truncationBits } = INTEGRITY[spec.algorithm];
  checkKey(spec.algorithm, spec.key, [keyOctets]);
  if (spec.truncationBits !== truncationBits) invalidSpec(`${spec.algorithm} is truncated to ${truncationBits} bits in ESP, not ${spec.truncationBits}`);
}

function checkKey(algorithm: string, key: Buffer, octets: readonly number[]): void {
  if (!octets.includes(key.length)) invalidSpec(`${algorithm} takes a key of ${octets.join('/')} octets, not ${key.length}`);
}
