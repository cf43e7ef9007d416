/**
 * The shapes every transform implementation in the crypto registry has. Implementations live
 * in their own modules (one per family) and are looked up by IANA transform ID through
 * `src/crypto/registry.ts`; callers (key derivation, SK payload protection, AUTH) depend only
 * on these interfaces.
 */
import type { DhId, EncrId, IntegId, PrfId } from '../wire/iana.js';
import type { Redacted } from './redacted.js';

/** Draws `n` random bytes. Injected so that a test, or a record of the draws, reproduces every one. */
export type RandomPort = (n: number) => Buffer;

/** RFC 7296 2.13: a pseudorandom function; also the basis of prf+. */
export interface PrfTransform {
  readonly id: PrfId;
  readonly name: string;
  /** Preferred key size in octets: the length of SK_d, SK_pi and SK_pr (RFC 7296 2.14). */
  readonly keyLength: number;
  /** Output size in octets. */
  readonly outputLength: number;
  compute(key: Uint8Array, data: Uint8Array): Buffer;
}

/** RFC 7296 3.3.2 transform type 3: an integrity algorithm with a truncated ICV. */
export interface IntegrityTransform {
  readonly id: IntegId;
  readonly name: string;
  /** Key size in octets: the length of SK_ai / SK_ar. */
  readonly keyLength: number;
  /** Length of the (truncated) checksum in octets. */
  readonly icvLength: number;
  compute(key: Uint8Array, data: Uint8Array): Buffer;
}

/** A plain block or stream cipher used together with a separate integrity transform (e.g. AES-CBC). */
export interface CipherTransform {
  readonly kind: 'cipher';
  readonly id: EncrId;
  readonly name: string;
  /** Key size in octets (for AES-CBC, the KEY_LENGTH attribute / 8). */
  readonly keyLength: number;
  /** Plaintext must be padded to a multiple of this (RFC 7296 3.14). */
  readonly blockSize: number;
  /** Length of the IV carried in front of the ciphertext. */
  readonly ivLength: number;
  /** Plaintext length must already be a multiple of blockSize; no padding is added here. */
  encrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Buffer;
  decrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer;
}

/** An AEAD cipher (RFC 5282 AES-GCM, RFC 7634 ChaCha20-Poly1305). */
export interface AeadTransform {
  readonly kind: 'aead';
  readonly id: EncrId;
  readonly name: string;
  /** Key material octets taken from the KDF: the cipher key plus the salt (RFC 5282 7.1, RFC 7634 4). */
  readonly keyLength: number;
  /** Salt octets at the end of the key material (4 for both GCM and ChaCha20-Poly1305). */
  readonly saltLength: number;
  /** Explicit IV carried in the payload (8 octets for both). */
  readonly ivLength: number;
  readonly icvLength: number;
  /** Padding granularity for the SK payload (RFC 5282 3: 4-octet alignment; RFC 7634 2: 1, i.e. none needed). */
  readonly blockSize: number;
  /** keyMaterial = key || salt; nonce = salt || iv. Returns ciphertext || ICV. */
  seal(keyMaterial: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer;
  /** Returns the plaintext, or null when the ICV does not verify. Never throws on a bad ICV. */
  open(keyMaterial: Uint8Array, iv: Uint8Array, aad: Uint8Array, ciphertextAndIcv: Uint8Array): Buffer | null;
}

export type EncryptionTransform = CipherTransform | AeadTransform;

/** Why a peer's key exchange value was refused (RFC 6989, RFC 8031 2). */
export type KeyExchangeFailure =
  | { readonly kind: 'bad-length'; readonly expected: number; readonly actual: number }
  | { readonly kind: 'out-of-range' } // MODP: not 1 < y < p-1
  | { readonly kind: 'not-on-curve' } // ECP: point not on the curve (or at infinity)
  | { readonly kind: 'all-zero-shared-secret' }; // Curve25519/448: RFC 8031 2.3

/**
 * One side's ephemeral key pair. `privateKey` is a secret: never log it. A group hands its pairs
 * out redacted (`DhKeyPair & Redacted`); keep that very object until the shared secret is
 * computed, because the group holds the OpenSSL context for the private key per pair object.
 */
export interface DhKeyPair {
  readonly group: DhId;
  readonly privateKey: Buffer;
  /** The value that goes into the KE payload, in RFC 7296 3.4 / RFC 5903 7 / RFC 8031 encoding. */
  readonly publicValue: Buffer;
}

export interface DhGroup {
  readonly id: DhId;
  readonly name: string;
  /** Length of the KE payload's Key Exchange Data. */
  readonly publicValueLength: number;
  /** Length of the shared secret g^ir. */
  readonly sharedSecretLength: number;
  /** Legacy groups (2, 5) are only available when explicitly enabled. */
  readonly legacy: boolean;
  /**
   * The private value is derived from `random` only, so a recorded draw reproduces the key pair.
   * The pair is frozen and redacted, ready to be kept as it is.
   */
  generateKeyPair(random: RandomPort): DhKeyPair & Redacted;
  /**
   * Validates the peer's public value first; returns g^ir or why it was refused. Fastest with the
   * pair object the group made; any other pair with the same values works too.
   */
  computeSharedSecret(
    own: DhKeyPair,
    peerPublicValue: Uint8Array,
  ): { readonly ok: true; readonly value: Buffer } | { readonly ok: false; readonly error: KeyExchangeFailure };
}
