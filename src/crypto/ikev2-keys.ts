/**
 * IKEv2 key derivation: SKEYSEED and the seven IKE SA keys (RFC 7296 2.14), the rekeyed IKE SA
 * (2.18) and Child SA KEYMAT (2.17).
 *
 * Everything returned here is secret: the key sets are redacted (redacted.ts), so they print as
 * "[redacted]" while their Buffers stay reachable by property access.
 */
import { PrfId } from '../wire/iana.js';
import { unpooledViews } from '../wire/unpooled.js';
import { prfPlus } from './prf-plus.js';
import { redacted, type Redacted } from './redacted.js';
import type { EncryptionTransform, IntegrityTransform, PrfTransform } from './types.js';

/** IKE SPIs are always 8 octets (RFC 7296 3.1). */
const SPI_LENGTH = 8;

/**
 * RFC 7296 2.14: "For historical backward-compatibility reasons, there are two PRFs that are
 * treated specially in this calculation. If the negotiated PRF is AES-XCBC-PRF-128 or
 * AES-CMAC-PRF-128, only the first 64 bits of Ni and the first 64 bits of Nr are used in
 * calculating SKEYSEED, but all the bits are used for input to the prf+ function."
 */
const FIXED_KEY_PRFS: ReadonlySet<PrfId> = new Set<PrfId>([PrfId.PRF_AES128_XCBC, PrfId.PRF_AES128_CMAC]);
const FIXED_KEY_NONCE_PREFIX = 8; // 64 bits of each nonce -> the 128-bit AES key

/** The key under which SKEYSEED is computed: Ni | Nr, or 64 bits of each for XCBC/CMAC. */
function skeyseedKey(prf: PrfTransform, Ni: Uint8Array, Nr: Uint8Array): Buffer {
  if (!FIXED_KEY_PRFS.has(prf.id)) {
    return Buffer.concat([Ni, Nr]);
  }
  // RFC 7296 2.10 requires nonces of at least 128 bits, so a shorter one here means the
  // protocol layer let through something it should have refused.
  if (Ni.length < FIXED_KEY_NONCE_PREFIX || Nr.length < FIXED_KEY_NONCE_PREFIX) {
    throw new RangeError(`SKEYSEED: ${prf.name} needs nonces of at least ${FIXED_KEY_NONCE_PREFIX} octets`);
  }
  return Buffer.concat([Ni.subarray(0, FIXED_KEY_NONCE_PREFIX), Nr.subarray(0, FIXED_KEY_NONCE_PREFIX)]);
}

/**
 * RFC 7296 2.14: SKEYSEED = prf(Ni | Nr, g^ir).
 *
 * `sharedSecret` is g^ir exactly as the DH group produced it (for MODP, big-endian and padded
 * to the modulus length; RFC 7296 2.14). For AES-XCBC-PRF-128 and AES-CMAC-PRF-128 the key is
 * the first 64 bits of Ni followed by the first 64 bits of Nr (see FIXED_KEY_PRFS). RFC 4434 2
 * lets the XCBC PRF itself accept any key length (zero-pad short keys, compress long ones with
 * AES-XCBC-PRF-128(0^128, K)); that is the PRF transform's business and is what applies to
 * the other calls (prf+ under SKEYSEED, AUTH with a PSK of any length). Here the key is
 * always exactly 128 bits, so RFC 4434's key handling is never exercised by SKEYSEED.
 */
export function deriveSkeyseed(prf: PrfTransform, Ni: Uint8Array, Nr: Uint8Array, sharedSecret: Uint8Array): Buffer {
  return prf.compute(skeyseedKey(prf, Ni, Nr), sharedSecret);
}

/**
 * RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr).
 * "Because the rekeying exchange belongs to the old IKE SA, it is the old IKE SA's PRF that is
 * used to generate SKEYSEED", so `oldPrf` is the PRF of the SA being rekeyed. SK_d (old) has
 * that PRF's preferred key length, so no special case applies for XCBC/CMAC.
 */
export function deriveRekeyedSkeyseed(
  oldPrf: PrfTransform,
  oldSK_d: Uint8Array,
  sharedSecret: Uint8Array,
  Ni: Uint8Array,
  Nr: Uint8Array,
): Buffer {
  return oldPrf.compute(oldSK_d, Buffer.concat([sharedSecret, Ni, Nr]));
}

/**
 * The seven IKE SA keys of RFC 7296 2.14, plus the SKEYSEED they came from. Once the IKE SA is
 * established only SK_d, SK_a* and SK_e* are used: SKEYSEED, SK_pi and SK_pr are then empty
 * (securityInService, ike-sa-session.ts).
 */
export interface IkeSaKeys extends Redacted {
  readonly SKEYSEED: Buffer;
  /** Key for deriving Child SA keys and the next SKEYSEED on rekey. */
  readonly SK_d: Buffer;
  /** Integrity keys (initiator → responder, responder → initiator). Empty for AEAD ciphers. */
  readonly SK_ai: Buffer;
  readonly SK_ar: Buffer;
  /** Encryption keys; for AEAD ciphers key || salt (RFC 5282 7.1, RFC 7634 4). */
  readonly SK_ei: Buffer;
  readonly SK_er: Buffer;
  /** Keys for MACedIDForI / MACedIDForR in AUTH (RFC 7296 2.15). */
  readonly SK_pi: Buffer;
  readonly SK_pr: Buffer;
}

/** Inputs of the initial IKE SA derivation (IKE_SA_INIT). */
export interface IkeSaKeyInput {
  readonly prf: PrfTransform;
  /** Absent exactly when `encryption` is an AEAD cipher (RFC 5282 8: no separate integrity). */
  readonly integrity?: IntegrityTransform | undefined;
  readonly encryption: EncryptionTransform;
  readonly Ni: Uint8Array;
  readonly Nr: Uint8Array;
  /** g^ir */
  readonly sharedSecret: Uint8Array;
  readonly SPIi: Uint8Array;
  readonly SPIr: Uint8Array;
}

/** Inputs of a rekeyed IKE SA (CREATE_CHILD_SA rekeying the IKE SA, RFC 7296 2.18). */
export interface RekeyedIkeSaKeyInput extends IkeSaKeyInput {
  /** The PRF of the IKE SA being rekeyed (computes SKEYSEED). `prf` is the new SA's (computes prf+). */
  readonly oldPrf: PrfTransform;
  /** SK_d of the IKE SA being rekeyed. */
  readonly oldSK_d: Uint8Array;
  // sharedSecret is g^ir (new); Ni, Nr are the CREATE_CHILD_SA nonces; SPIi, SPIr the new
  // SPIs from the Proposal structures (2.18: "not the SPI fields in the IKE header").
}

interface IkeSaKeyLengths {
  readonly d: number;
  readonly a: number;
  readonly e: number;
  readonly p: number;
}

/**
 * RFC 7296 2.14: "The lengths of SK_d, SK_pi, and SK_pr MUST be the preferred key length of the
 * PRF agreed upon." SK_a is the integrity key length, none with AEAD (RFC 5282 8); SK_e is the
 * encryption key length, which for AEAD includes the salt (RFC 5282 7.1, RFC 7634 4): the
 * transform's `keyLength` already says so.
 */
function ikeSaKeyLengths(
  prf: PrfTransform,
  encryption: EncryptionTransform,
  integrity: IntegrityTransform | undefined,
): IkeSaKeyLengths {
  assertIntegrityMatchesCipher(encryption.kind, integrity !== undefined);
  return { d: prf.keyLength, a: integrity?.keyLength ?? 0, e: encryption.keyLength, p: prf.keyLength };
}

/** AEAD never has a separate integrity transform, a plain cipher always has one (RFC 5282 8, RFC 7296 3.3). */
export function assertIntegrityMatchesCipher(kind: 'cipher' | 'aead', hasIntegrity: boolean): void {
  if (kind === 'aead' && hasIntegrity) {
    throw new TypeError('an AEAD cipher must not be combined with an integrity transform (RFC 5282 8)');
  }
  if (kind === 'cipher' && !hasIntegrity) {
    throw new TypeError('a non-AEAD cipher needs an integrity transform (RFC 7296 3.3.3)');
  }
}

function checkSpis(SPIi: Uint8Array, SPIr: Uint8Array): void {
  if (SPIi.length !== SPI_LENGTH || SPIr.length !== SPI_LENGTH) {
    throw new RangeError(`IKE SPIs must be ${SPI_LENGTH} octets (got ${SPIi.length} and ${SPIr.length})`);
  }
}

/** RFC 7296 2.14: prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr), `length` octets of it. */
export function deriveIkeSaKeymat(
  prf: PrfTransform,
  SKEYSEED: Uint8Array,
  Ni: Uint8Array,
  Nr: Uint8Array,
  SPIi: Uint8Array,
  SPIr: Uint8Array,
  length: number,
): Buffer {
  return prfPlus(prf, SKEYSEED, Buffer.concat([Ni, Nr, SPIi, SPIr]), length);
}

/**
 * Cuts consecutive pieces of the given lengths from `keymat`, in order, after `leading` (kept
 * first): copies in one allocation of their own (src/wire/unpooled.ts: the SA keeps them for its
 * life), so the caller can zero `keymat`, and zeroing one key touches no other.
 */
function split(keymat: Buffer, lengths: readonly number[], leading: readonly Buffer[] = []): Buffer[] {
  const pieces: Buffer[] = [...leading];
  let offset = 0;
  for (const n of lengths) {
    pieces.push(keymat.subarray(offset, offset + n));
    offset += n;
  }
  return unpooledViews(pieces);
}

function ikeSaKeysFrom(
  prf: PrfTransform,
  lengths: IkeSaKeyLengths,
  SKEYSEED: Buffer,
  input: Pick<IkeSaKeyInput, 'Ni' | 'Nr' | 'SPIi' | 'SPIr'>,
): IkeSaKeys {
  // RFC 7296 2.14: {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+ (SKEYSEED, Ni | Nr | SPIi | SPIr)
  const order = [lengths.d, lengths.a, lengths.a, lengths.e, lengths.e, lengths.p, lengths.p];
  const total = order.reduce((sum, n) => sum + n, 0);
  const keymat = deriveIkeSaKeymat(prf, SKEYSEED, input.Ni, input.Nr, input.SPIi, input.SPIr, total);
  const [seed, SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr] = split(keymat, order, [SKEYSEED]) as [
    Buffer,
    Buffer,
    Buffer,
    Buffer,
    Buffer,
    Buffer,
    Buffer,
    Buffer,
  ];
  keymat.fill(0);
  SKEYSEED.fill(0);
  return redacted({ SKEYSEED: seed, SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr });
}

/** RFC 7296 2.14: the keys of a new IKE SA from the IKE_SA_INIT exchange. */
export function deriveIkeSaKeys(input: IkeSaKeyInput): IkeSaKeys {
  const lengths = ikeSaKeyLengths(input.prf, input.encryption, input.integrity);
  checkSpis(input.SPIi, input.SPIr);
  const SKEYSEED = deriveSkeyseed(input.prf, input.Ni, input.Nr, input.sharedSecret);
  return ikeSaKeysFrom(input.prf, lengths, SKEYSEED, input);
}

/**
 * RFC 7296 2.18: keys of the IKE SA that replaces an existing one. SKEYSEED comes from the old
 * SA's SK_d under the old SA's PRF; "SK_d, SK_ai, SK_ar, SK_ei, and SK_er are computed from
 * SKEYSEED as specified in Section 2.14, using SPIi, SPIr, Ni, and Nr from the new exchange, and
 * using the new IKE SA's PRF." SK_pi and SK_pr are cut as well (the 2.14 layout is unchanged)
 * but a rekeyed SA never authenticates, so they go unused.
 */
export function deriveRekeyedIkeSaKeys(input: RekeyedIkeSaKeyInput): IkeSaKeys {
  const lengths = ikeSaKeyLengths(input.prf, input.encryption, input.integrity);
  checkSpis(input.SPIi, input.SPIr);
  const SKEYSEED = deriveRekeyedSkeyseed(input.oldPrf, input.oldSK_d, input.sharedSecret, input.Ni, input.Nr);
  return ikeSaKeysFrom(input.prf, lengths, SKEYSEED, input);
}

/**
 * RFC 7296 2.17: KEYMAT = prf+(SK_d, Ni | Nr), or with a Diffie-Hellman exchange in
 * CREATE_CHILD_SA, KEYMAT = prf+(SK_d, g^ir (new) | Ni | Nr). `length` octets of it.
 */
export function deriveChildSaKeymat(
  prf: PrfTransform,
  SK_d: Uint8Array,
  Ni: Uint8Array,
  Nr: Uint8Array,
  sharedSecret: Uint8Array | undefined,
  length: number,
): Buffer {
  const seed = sharedSecret === undefined ? Buffer.concat([Ni, Nr]) : Buffer.concat([sharedSecret, Ni, Nr]);
  return prfPlus(prf, SK_d, seed, length);
}

/** What the Child SA derivation needs of the negotiated ESP transforms: their key lengths. */
export interface ChildSaKeyInput {
  /** The IKE SA's PRF. */
  readonly prf: PrfTransform;
  /** The IKE SA's SK_d. */
  readonly SK_d: Uint8Array;
  /** Nonces of IKE_SA_INIT for the first Child SA, else the fresh ones of CREATE_CHILD_SA. */
  readonly Ni: Uint8Array;
  readonly Nr: Uint8Array;
  /** g^ir (new) when CREATE_CHILD_SA carried KE payloads (PFS); absent otherwise. */
  readonly sharedSecret?: Uint8Array | undefined;
  /**
   * The ESP encryption transform. For AES-GCM the key material is key || 4-octet salt
   * (RFC 4106 8.1), for ChaCha20-Poly1305 32 + 4 octets (RFC 7634 2): the same `keyLength` the
   * IKE transform objects carry.
   */
  readonly encryption: Pick<EncryptionTransform, 'kind' | 'keyLength'>;
  /** The ESP integrity transform; absent for AEAD. */
  readonly integrity?: Pick<IntegrityTransform, 'keyLength'> | undefined;
}

/** ESP keys of one Child SA: one pair per direction. */
export interface ChildSaKeys extends Redacted {
  /** Initiator → responder encryption key (with salt for AEAD). */
  readonly encrI: Buffer;
  /** Initiator → responder integrity key; empty for AEAD. */
  readonly integI: Buffer;
  /** Responder → initiator. */
  readonly encrR: Buffer;
  readonly integR: Buffer;
}

/**
 * RFC 7296 2.17: "All keys for SAs carrying data from the initiator to the responder are taken
 * before SAs going from the responder to the initiator", and "For ESP and AH, [IPSECARCH]
 * defines the order, namely: the encryption key (if any) MUST be taken from the first bits and
 * the integrity key (if any) MUST be taken from the remaining bits." So: encrI | integI | encrR | integR.
 * Only a single ESP (or AH-less) Child SA is handled; AH+ESP bundles are not supported.
 */
export function deriveChildSaKeys(input: ChildSaKeyInput): ChildSaKeys {
  assertIntegrityMatchesCipher(input.encryption.kind, input.integrity !== undefined);
  const e = input.encryption.keyLength;
  const a = input.integrity?.keyLength ?? 0;
  const keymat = deriveChildSaKeymat(input.prf, input.SK_d, input.Ni, input.Nr, input.sharedSecret, 2 * (e + a));
  const [encrI, integI, encrR, integR] = split(keymat, [e, a, e, a]) as [Buffer, Buffer, Buffer, Buffer];
  keymat.fill(0);
  return redacted({ encrI, integI, encrR, integR });
}
