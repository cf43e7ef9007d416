/**
 * The crypto transform registry: IANA transform IDs (RFC 7296 3.3.2) map
 * to implementations. Adding a group or cipher is one entry here plus its known-answer test in
 * known-answers/transforms.ts.
 *
 * Lookups are Map gets; the transform objects are module singletons shared by every registry,
 * so a lookup never allocates.
 */
import {
  encrAesGcm16_128,
  encrAesGcm16_192,
  encrAesGcm16_256,
  encrChacha20Poly1305,
} from './aead.js';
import { curve25519 } from './dh/curve25519.js';
import { ecp256, ecp384, ecp521 } from './dh/ecp.js';
import { modp1024, modp1536, modp2048, modp3072, modp4096 } from './dh/modp.js';
import { encrAesCbc128, encrAesCbc192, encrAesCbc256 } from './encryption.js';
import { authAesXcbc96, authHmacSha1_96, authHmacSha256_128, authHmacSha384_192, authHmacSha512_256 } from './integrity.js';
import { prfAes128Xcbc, prfHmacSha1, prfHmacSha256, prfHmacSha384, prfHmacSha512 } from './prf.js';
import type { DhGroup, EncryptionTransform, IntegrityTransform, PrfTransform } from './types.js';

export interface CryptoRegistryOptions {
  /** Enables MODP groups 2 (RFC 2409) and 5 (RFC 3526), which RFC 8247 2.4 says SHOULD NOT / MUST NOT be used. */
  readonly allowLegacyGroups?: boolean;
}

/** One encryption transform as a proposal offers it: the ID plus the KEY_LENGTH attribute, if any. */
export interface SupportedEncryption {
  readonly transform: EncryptionTransform;
  /** Value of the KEY_LENGTH attribute (RFC 7296 3.3.5) in bits; undefined when the transform takes none. */
  readonly keyLengthBits: number | undefined;
}

/** Everything a registry supports, each list in ikekm's order of preference. */
export interface SupportedTransforms {
  readonly encryption: readonly SupportedEncryption[];
  readonly prf: readonly PrfTransform[];
  readonly integrity: readonly IntegrityTransform[];
  readonly dh: readonly DhGroup[];
}

export interface CryptoRegistry {
  prf(id: number): PrfTransform | undefined;
  integrity(id: number): IntegrityTransform | undefined;
  /**
   * ENCR_AES_CBC and ENCR_AES_GCM_16 need the KEY_LENGTH attribute (RFC 7296 3.3.5, RFC 5282
   * 7.1); ENCR_CHACHA20_POLY1305 has a fixed key and must not carry one (RFC 7634 section 4).
   * Any other combination is undefined, i.e. not supported.
   */
  encryption(id: number, keyLengthBits?: number): EncryptionTransform | undefined;
  /** Groups 2 and 5 only when the registry was created with allowLegacyGroups. */
  dhGroup(id: number): DhGroup | undefined;
  supported(): SupportedTransforms;
}

/** Preference order: AEADs first (one transform instead of two), the larger AES keys first. */
const ENCRYPTION: readonly SupportedEncryption[] = Object.freeze([
  { transform: encrAesGcm16_256, keyLengthBits: 256 },
  { transform: encrChacha20Poly1305, keyLengthBits: undefined },
  { transform: encrAesGcm16_128, keyLengthBits: 128 },
  { transform: encrAesGcm16_192, keyLengthBits: 192 },
  { transform: encrAesCbc256, keyLengthBits: 256 },
  { transform: encrAesCbc128, keyLengthBits: 128 },
  { transform: encrAesCbc192, keyLengthBits: 192 },
].map((entry) => Object.freeze(entry)));

const PRF: readonly PrfTransform[] = Object.freeze([prfHmacSha256, prfHmacSha384, prfHmacSha512, prfAes128Xcbc, prfHmacSha1]);

const INTEGRITY: readonly IntegrityTransform[] = Object.freeze([
  authHmacSha256_128,
  authHmacSha384_192,
  authHmacSha512_256,
  authAesXcbc96,
  authHmacSha1_96,
]);

/**
 * X25519 and P-256 are the fastest, MODP the slowest: `openssl speed` on one core of a 2-core
 * test machine gave X25519 25.6 k, P-256 ECDH 15.2 k and MODP-2048 2.9 k key agreements per
 * second (`npm run bench:crypto` prints the figures for the machine it runs on).
 */
const DH_MODERN: readonly DhGroup[] = [curve25519, ecp256, ecp384, ecp521, modp2048, modp3072, modp4096];
const DH_LEGACY: readonly DhGroup[] = [modp1536, modp1024];

/** Encryption map key: the transform ID and the KEY_LENGTH attribute (0 when absent) in one number. */
function encryptionKey(id: number, keyLengthBits: number | undefined): number {
  return id * 0x10000 + (keyLengthBits ?? 0);
}

const ENCRYPTION_BY_KEY: ReadonlyMap<number, EncryptionTransform> = new Map(
  ENCRYPTION.map((entry) => [encryptionKey(entry.transform.id, entry.keyLengthBits), entry.transform]),
);
const PRF_BY_ID: ReadonlyMap<number, PrfTransform> = new Map(PRF.map((t) => [t.id, t]));
const INTEGRITY_BY_ID: ReadonlyMap<number, IntegrityTransform> = new Map(INTEGRITY.map((t) => [t.id, t]));

function registry(dhGroups: readonly DhGroup[]): CryptoRegistry {
  const dhById: ReadonlyMap<number, DhGroup> = new Map(dhGroups.map((g) => [g.id, g]));
  const supported: SupportedTransforms = Object.freeze({
    encryption: ENCRYPTION,
    prf: PRF,
    integrity: INTEGRITY,
    dh: Object.freeze([...dhGroups]),
  });
  return Object.freeze({
    prf: (id: number) => PRF_BY_ID.get(id),
    integrity: (id: number) => INTEGRITY_BY_ID.get(id),
    encryption(id: number, keyLengthBits?: number): EncryptionTransform | undefined {
      // A KEY_LENGTH of 0 is never valid; keep it from aliasing "no attribute" in the map key.
      if (keyLengthBits === 0) {
        return undefined;
      }
      return ENCRYPTION_BY_KEY.get(encryptionKey(id, keyLengthBits));
    },
    dhGroup: (id: number) => dhById.get(id),
    supported: () => supported,
  });
}

const MODERN_REGISTRY = registry(DH_MODERN);
const LEGACY_REGISTRY = registry([...DH_MODERN, ...DH_LEGACY]);

/** The registry for the given options; the two possible registries are built once and shared. */
export function createCryptoRegistry(options?: CryptoRegistryOptions): CryptoRegistry {
  return options?.allowLegacyGroups === true ? LEGACY_REGISTRY : MODERN_REGISTRY;
}

/** The default registry: no legacy groups. */
export const cryptoRegistry: CryptoRegistry = MODERN_REGISTRY;
