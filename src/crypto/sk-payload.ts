/**
 * Protection of the body of the Encrypted and Authenticated payload (SK, RFC 7296 3.14) and of
 * the Encrypted Fragment payload (SKF, RFC 7383 2.5), for plain ciphers with a separate
 * integrity transform (AES-CBC + HMAC) and for AEAD ciphers (RFC 5282 AES-GCM, RFC 7634
 * ChaCha20-Poly1305).
 *
 * The SK body on the wire is
 *
 *     IV | Encrypted( inner payloads | Padding | Pad Length ) | Integrity Checksum Data
 *
 * The caller (the message codec) owns everything in front of the body: it asks
 * `skBodyLength()` how long the body will be, writes the IKE header and the SK/SKF payload
 * header with their final Length fields, and passes those bytes as `prefix`. The checksum (or
 * the AEAD associated data) covers that prefix, so the lengths must be final before sealing.
 */
import { timingSafeEqual } from 'node:crypto';
import { err, ok, type Result } from '../result.js';
import { assertIntegrityMatchesCipher, type IkeSaKeys } from './ikev2-keys.js';
import { redacted, type Redacted } from './redacted.js';
import type { AeadTransform, CipherTransform, EncryptionTransform, IntegrityTransform, RandomPort } from './types.js';

/** The keys and transforms that protect the messages of one direction of an IKE SA. */
export interface SkProtection {
  readonly encryption: EncryptionTransform;
  /** Present for plain ciphers, absent for AEAD. */
  readonly integrity?: IntegrityTransform | undefined;
  /** SK_ei or SK_er (for AEAD: key || salt). */
  readonly encryptionKey: Buffer;
  /** SK_ai or SK_ar; absent for AEAD. */
  readonly integrityKey?: Buffer | undefined;
}

/** Why an SK body was refused. None of these is thrown: hostile input gets a value back. */
export type SkOpenError =
  | { readonly kind: 'too-short'; readonly minimum: number; readonly actual: number }
  /** Integrity Checksum Data (or AEAD tag) does not verify: wrong key, or the message was altered. */
  | { readonly kind: 'bad-icv' }
  /** Authenticated, but the Pad Length octet points before the start of the plaintext. */
  | { readonly kind: 'bad-padding'; readonly padLength: number; readonly plaintextLength: number }
  /** The encrypted part of a block-cipher body is not a multiple of the block size. */
  | { readonly kind: 'not-block-aligned'; readonly blockSize: number; readonly length: number };

/** The IKE header is 28 octets; its Length field is the last four (RFC 7296 3.1). */
const IKE_HEADER_LENGTH = 28;
const IKE_HEADER_LENGTH_FIELD = 24;

/**
 * Checks that the transforms and keys fit together and returns a frozen copy whose `toJSON()`
 * says "[redacted]". A mismatch is a programming error (our own negotiation result and our own
 * key derivation disagree), so it throws.
 */
export function createSkProtection(protection: SkProtection): SkProtection & Redacted {
  assertProtection(protection);
  const copy: SkProtection =
    protection.encryption.kind === 'aead'
      ? { encryption: protection.encryption, encryptionKey: protection.encryptionKey }
      : {
          encryption: protection.encryption,
          integrity: protection.integrity,
          encryptionKey: protection.encryptionKey,
          integrityKey: protection.integrityKey,
        };
  return redacted(copy);
}

/**
 * The protection of the messages sent by `sender` on an IKE SA. RFC 7296 2.14: "The keys used
 * to protect messages from the original initiator are SK_ai and SK_ei. The keys used to protect
 * messages in the other direction are SK_ar and SK_er." Requests and responses alike: what
 * matters is who sends, relative to the original initiator of this IKE SA.
 */
export function skProtectionFor(
  keys: IkeSaKeys,
  sender: 'initiator' | 'responder',
  encryption: EncryptionTransform,
  integrity?: IntegrityTransform,
): SkProtection & Redacted {
  const fromInitiator = sender === 'initiator';
  return createSkProtection({
    encryption,
    integrity,
    encryptionKey: fromInitiator ? keys.SK_ei : keys.SK_er,
    integrityKey: integrity === undefined ? undefined : fromInitiator ? keys.SK_ai : keys.SK_ar,
  });
}

function assertProtection(p: SkProtection): void {
  assertIntegrityMatchesCipher(p.encryption.kind, p.integrity !== undefined);
  if (p.encryptionKey.length !== p.encryption.keyLength) {
    throw new RangeError(
      `${p.encryption.name} needs ${p.encryption.keyLength} octets of key material, got ${p.encryptionKey.length}`,
    );
  }
  if (p.encryption.kind === 'aead') {
    if (p.integrityKey !== undefined) {
      throw new TypeError('an AEAD cipher takes no integrity key (RFC 5282 8)');
    }
    return;
  }
  const integrity = p.integrity as IntegrityTransform; // checked by assertIntegrityMatchesCipher
  if (p.integrityKey === undefined || p.integrityKey.length !== integrity.keyLength) {
    throw new RangeError(`${integrity.name} needs a ${integrity.keyLength}-octet key, got ${p.integrityKey?.length ?? 'none'}`);
  }
}

function icvLength(p: SkProtection): number {
  return p.encryption.kind === 'aead' ? p.encryption.icvLength : (p.integrity as IntegrityTransform).icvLength;
}

/**
 * Length of the encrypted part for `plaintextLength` octets of inner payloads: the plaintext,
 * the fewest Padding octets that make (plaintext | Padding | Pad Length) a multiple of the
 * block size (RFC 7296 3.14), and the Pad Length octet.
 */
function paddedLength(blockSize: number, plaintextLength: number): number {
  return Math.ceil((plaintextLength + 1) / blockSize) * blockSize;
}

/**
 * Length of the SK (or SKF) payload body that `sealSkBody` will return for `plaintextLength`
 * octets of inner payloads: IV + encrypted (plaintext + padding + Pad Length) + ICV. The SK
 * payload Length is this plus 4 (generic header), SKF adds 4 more for its fragment fields.
 */
export function skBodyLength(protection: SkProtection, plaintextLength: number): number {
  if (!Number.isInteger(plaintextLength) || plaintextLength < 0) {
    throw new RangeError(`plaintext length must be a non-negative integer, got ${plaintextLength}`);
  }
  assertProtection(protection);
  const e = protection.encryption;
  return e.ivLength + paddedLength(e.blockSize, plaintextLength) + icvLength(protection);
}

/**
 * Encrypts and authenticates the inner payload chain; returns IV | ciphertext | ICV.
 *
 * `prefix` is every octet of the message in front of the body: the IKE header (with its final
 * Length), any payloads before SK, and the SK generic payload header (for SKF including the
 * Fragment Number and Total Fragments fields, RFC 7383 2.5). It is authenticated, not encrypted.
 *
 * - Padding octets are zero and there are as few as the block size allows. RFC 7296 3.14 lets
 *   the sender choose any padding; fixed zero padding keeps a replayed run byte-identical with
 *   no extra random draws to record.
 * - The IV is drawn from `random` (so replay records it): 16 octets for AES-CBC, which RFC 7296
 *   3.14 requires to be unpredictable, 8 octets for the AEAD explicit IV. RFC 5282 3.1 requires
 *   an AEAD IV never to repeat under one key; a random 64-bit IV makes a repeat vanishingly
 *   unlikely for the number of messages an IKE SA carries before it is rekeyed.
 * - Plain cipher: ICV = integrity(SK_a, prefix | IV | ciphertext), truncated to the transform's
 *   ICV length (RFC 7296 3.14: "the cryptographic checksum of the entire message starting with
 *   the Fixed IKE header through the Pad Length").
 * - AEAD: associated data = prefix. RFC 5282 5.1: "The associated data MUST consist of the
 *   partial contents of the IKEv2 message, starting from the first octet of the Fixed IKE Header
 *   through the last octet of the Payload Header of the Encrypted Payload (i.e., the fourth octet
 *   of the Encrypted Payload)". Unencrypted payloads between the two are part of that range and
 *   so part of the AAD.
 *
 * Throws (programming errors only) if the protection is inconsistent, `random` returns the wrong
 * length, or the IKE header's Length in `prefix` does not equal prefix + body.
 */
export function sealSkBody(
  protection: SkProtection,
  prefix: Uint8Array,
  plaintext: Uint8Array,
  random: RandomPort,
): Buffer {
  const bodyLength = skBodyLength(protection, plaintext.length); // also checks the protection
  assertFinalIkeLength(prefix, bodyLength);
  const e = protection.encryption;
  const iv = random(e.ivLength);
  if (iv.length !== e.ivLength) {
    throw new RangeError(`random port returned ${iv.length} octets, ${e.ivLength} asked`);
  }
  const padded = Buffer.alloc(paddedLength(e.blockSize, plaintext.length)); // zero padding
  Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.length).copy(padded, 0);
  const padLength = padded.length - plaintext.length - 1;
  padded[padded.length - 1] = padLength; // RFC 7296 3.14: Pad Length, 1 octet, last

  let body: Buffer;
  if (e.kind === 'aead') {
    body = Buffer.concat([iv, e.seal(protection.encryptionKey, iv, prefix, padded)]);
  } else {
    const ciphertext = e.encrypt(protection.encryptionKey, iv, padded);
    const icv = computeIcv(protection, prefix, Buffer.concat([iv, ciphertext]));
    body = Buffer.concat([iv, ciphertext, icv]);
  }
  padded.fill(0);
  if (body.length !== bodyLength) {
    throw new RangeError(`${e.name}: sealed body is ${body.length} octets, expected ${bodyLength}`);
  }
  return body;
}

/** Refuses to seal behind an IKE header whose Length would not match the finished message. */
function assertFinalIkeLength(prefix: Uint8Array, bodyLength: number): void {
  if (prefix.length < IKE_HEADER_LENGTH + 4) {
    throw new RangeError(`SK prefix must hold at least the IKE header and the SK payload header, got ${prefix.length} octets`);
  }
  const declared = Buffer.from(prefix.buffer, prefix.byteOffset, prefix.length).readUInt32BE(IKE_HEADER_LENGTH_FIELD);
  if (declared !== prefix.length + bodyLength) {
    throw new RangeError(
      `IKE header Length is ${declared} but the message will be ${prefix.length + bodyLength} octets: ` +
        'write the final lengths before sealing (the checksum covers them)',
    );
  }
}

/** integrity(SK_a, prefix | ivAndCiphertext), truncated to the ICV length. */
function computeIcv(protection: SkProtection, prefix: Uint8Array, ivAndCiphertext: Uint8Array): Buffer {
  const integrity = protection.integrity as IntegrityTransform;
  const mac = integrity.compute(protection.integrityKey as Buffer, Buffer.concat([prefix, ivAndCiphertext]));
  // The transform may or may not truncate itself; the checksum on the wire is icvLength octets.
  return mac.subarray(0, integrity.icvLength);
}

/**
 * Verifies and decrypts an SK (or SKF) body; returns the inner payload chain without padding.
 * `prefix` is the received message's octets in front of the body, as for `sealSkBody`.
 *
 * Order of checks: lengths (public, no secrets involved), then the ICV — for plain ciphers
 * before anything is decrypted, compared in constant time — then the Pad Length. Padding
 * contents are not checked: RFC 7296 3.14 lets the sender put any value there.
 */
export function openSkBody(protection: SkProtection, prefix: Uint8Array, body: Uint8Array): Result<Buffer, SkOpenError> {
  assertProtection(protection);
  const e = protection.encryption;
  return e.kind === 'aead' ? openAead(protection, e, prefix, body) : openCipher(protection, e, prefix, body);
}

function openCipher(
  protection: SkProtection,
  e: CipherTransform,
  prefix: Uint8Array,
  body: Uint8Array,
): Result<Buffer, SkOpenError> {
  const icvLen = icvLength(protection);
  // At least one block: the Pad Length octet is always there.
  const minimum = e.ivLength + e.blockSize + icvLen;
  if (body.length < minimum) {
    return err({ kind: 'too-short', minimum, actual: body.length });
  }
  const encryptedLength = body.length - e.ivLength - icvLen;
  if (encryptedLength % e.blockSize !== 0) {
    return err({ kind: 'not-block-aligned', blockSize: e.blockSize, length: encryptedLength });
  }
  const signed = body.subarray(0, body.length - icvLen);
  const received = body.subarray(body.length - icvLen);
  const expected = computeIcv(protection, prefix, signed);
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    return err({ kind: 'bad-icv' });
  }
  const iv = body.subarray(0, e.ivLength);
  const padded = e.decrypt(protection.encryptionKey, iv, body.subarray(e.ivLength, e.ivLength + encryptedLength));
  return stripPadding(padded);
}

function openAead(
  protection: SkProtection,
  e: AeadTransform,
  prefix: Uint8Array,
  body: Uint8Array,
): Result<Buffer, SkOpenError> {
  // The plaintext holds at least the Pad Length octet.
  const minimum = e.ivLength + 1 + e.icvLength;
  if (body.length < minimum) {
    return err({ kind: 'too-short', minimum, actual: body.length });
  }
  // No alignment check here: the tag authenticates whatever length the peer chose, and the
  // AEAD "block size" is only a padding granularity (RFC 5282 3, RFC 7634 2).
  const iv = body.subarray(0, e.ivLength);
  const padded = e.open(protection.encryptionKey, iv, prefix, body.subarray(e.ivLength));
  if (padded === null) {
    return err({ kind: 'bad-icv' });
  }
  return stripPadding(padded);
}

function stripPadding(padded: Buffer): Result<Buffer, SkOpenError> {
  const padLength = padded[padded.length - 1];
  if (padLength === undefined || padLength + 1 > padded.length) {
    const result = err({ kind: 'bad-padding' as const, padLength: padLength ?? -1, plaintextLength: padded.length });
    padded.fill(0);
    return result;
  }
  const inner = Buffer.from(padded.subarray(0, padded.length - padLength - 1));
  padded.fill(0);
  return ok(inner);
}
