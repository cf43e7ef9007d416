/**
 * Wireshark key tables ("UAT" files) for the SAs ikekm negotiates, so a capture of our traffic
 * can be decrypted in Wireshark/tshark:
 * - `ikev2_decryption_table`: one line per IKE SA (SPIs, SK_e*, SK_a*, RFC 7296 2.14);
 * - `esp_sa`: one line per ESP SA, i.e. per direction of a Child SA (RFC 4303);
 * - `ikev1_decryption_table`: the line format only (initiator cookie, encryption key); ikekm has
 *   no IKEv1 yet, so nothing writes this table today.
 *
 * The algorithm names must be EXACTLY the strings of the enumerations in Wireshark's dissectors
 * (packet-isakmp.c, packet-esp.c); tshark refuses the whole table ("invalid value: …") when a
 * name does not match. The names below were checked against tshark 4.0.17, which also refuses
 * a key whose length does not fit the named algorithm. tshark 4.0 has NO ChaCha20-Poly1305
 * (RFC 7634) entry in either table: for such SAs the mapping returns `undefined` and callers
 * should skip the line rather than write one that makes tshark drop every other line.
 *
 * The formatting functions are pure (values in, one line out); writing the file is
 * `appendKeylogLines`, kept apart so the keylog backend decides when and where to write.
 */
import { appendFile } from 'node:fs/promises';
import { EncrId, IntegId } from '../wire/iana.js';
import { espSpiHex, ikeSpiHex } from '../wire/spi-text.js';

/** `vs_ikev2_encr_algs` in packet-isakmp.c (tshark 4.0): the names ikekm can produce. */
export const Ikev2EncryptionName = {
  AES_CBC_128: 'AES-CBC-128 [RFC3602]',
  AES_CBC_192: 'AES-CBC-192 [RFC3602]',
  AES_CBC_256: 'AES-CBC-256 [RFC3602]',
  AES_CTR_128: 'AES-CTR-128 [RFC5930]',
  AES_CTR_192: 'AES-CTR-192 [RFC5930]',
  AES_CTR_256: 'AES-CTR-256 [RFC5930]',
  AES_GCM_128_16: 'AES-GCM-128 with 16 octet ICV [RFC5282]',
  AES_GCM_192_16: 'AES-GCM-192 with 16 octet ICV [RFC5282]',
  AES_GCM_256_16: 'AES-GCM-256 with 16 octet ICV [RFC5282]',
  AES_GCM_128_12: 'AES-GCM-128 with 12 octet ICV [RFC5282]',
  AES_GCM_192_12: 'AES-GCM-192 with 12 octet ICV [RFC5282]',
  AES_GCM_256_12: 'AES-GCM-256 with 12 octet ICV [RFC5282]',
  AES_GCM_128_8: 'AES-GCM-128 with 8 octet ICV [RFC5282]',
  AES_GCM_192_8: 'AES-GCM-192 with 8 octet ICV [RFC5282]',
  AES_GCM_256_8: 'AES-GCM-256 with 8 octet ICV [RFC5282]',
  NULL: 'NULL [RFC2410]',
} as const;
export type Ikev2EncryptionName = (typeof Ikev2EncryptionName)[keyof typeof Ikev2EncryptionName];

/** `vs_ikev2_auth_algs` in packet-isakmp.c (tshark 4.0). AEAD ciphers use NONE. */
export const Ikev2IntegrityName = {
  NONE: 'NONE [RFC4306]',
  HMAC_MD5_96: 'HMAC_MD5_96 [RFC2403]',
  HMAC_SHA1_96: 'HMAC_SHA1_96 [RFC2404]',
  HMAC_SHA2_256_128: 'HMAC_SHA2_256_128 [RFC4868]',
  HMAC_SHA2_384_192: 'HMAC_SHA2_384_192 [RFC4868]',
  HMAC_SHA2_512_256: 'HMAC_SHA2_512_256 [RFC4868]',
} as const;
export type Ikev2IntegrityName = (typeof Ikev2IntegrityName)[keyof typeof Ikev2IntegrityName];

/** `esp_encryption_type_vals` in packet-esp.c (tshark 4.0). The key length comes from the key itself. */
export const EspEncryptionName = {
  NULL: 'NULL',
  AES_CBC: 'AES-CBC [RFC3602]',
  AES_CTR: 'AES-CTR [RFC3686]',
  TRIPLE_DES_CBC: 'TripleDES-CBC [RFC2451]',
  AES_GCM_8: 'AES-GCM with 8 octet ICV [RFC4106]',
  AES_GCM_12: 'AES-GCM with 12 octet ICV [RFC4106]',
  AES_GCM_16: 'AES-GCM with 16 octet ICV [RFC4106]',
} as const;
export type EspEncryptionName = (typeof EspEncryptionName)[keyof typeof EspEncryptionName];

/** `esp_authentication_type_vals` in packet-esp.c (tshark 4.0). AEAD ciphers use NULL. */
export const EspIntegrityName = {
  NULL: 'NULL',
  HMAC_MD5_96: 'HMAC-MD5-96 [RFC2403]',
  HMAC_SHA1_96: 'HMAC-SHA-1-96 [RFC2404]',
  HMAC_SHA2_256_128: 'HMAC-SHA-256-128 [RFC4868]',
  HMAC_SHA2_384_192: 'HMAC-SHA-384-192 [RFC4868]',
  HMAC_SHA2_512_256: 'HMAC-SHA-512-256 [RFC4868]',
} as const;
export type EspIntegrityName = (typeof EspIntegrityName)[keyof typeof EspIntegrityName];

/**
 * Octets of SK_ei/SK_er tshark expects for each IKEv2 name: for AEAD the key plus the 4-octet
 * salt (RFC 5282 7.1), for CTR the key plus the 4-octet nonce (RFC 5930 3).
 */
const IKEV2_ENCRYPTION_KEY_OCTETS: Readonly<Record<Ikev2EncryptionName, number>> = {
  'AES-CBC-128 [RFC3602]': 16,
  'AES-CBC-192 [RFC3602]': 24,
  'AES-CBC-256 [RFC3602]': 32,
  'AES-CTR-128 [RFC5930]': 20,
  'AES-CTR-192 [RFC5930]': 28,
  'AES-CTR-256 [RFC5930]': 36,
  'AES-GCM-128 with 16 octet ICV [RFC5282]': 20,
  'AES-GCM-192 with 16 octet ICV [RFC5282]': 28,
  'AES-GCM-256 with 16 octet ICV [RFC5282]': 36,
  'AES-GCM-128 with 12 octet ICV [RFC5282]': 20,
  'AES-GCM-192 with 12 octet ICV [RFC5282]': 28,
  'AES-GCM-256 with 12 octet ICV [RFC5282]': 36,
  'AES-GCM-128 with 8 octet ICV [RFC5282]': 20,
  'AES-GCM-192 with 8 octet ICV [RFC5282]': 28,
  'AES-GCM-256 with 8 octet ICV [RFC5282]': 36,
  'NULL [RFC2410]': 0,
};

/** Octets of SK_ai/SK_ar tshark expects (RFC 2404, RFC 4868 2.1.1: key length = hash output). */
const IKEV2_INTEGRITY_KEY_OCTETS: Readonly<Record<Ikev2IntegrityName, number>> = {
  'NONE [RFC4306]': 0,
  'HMAC_MD5_96 [RFC2403]': 16,
  'HMAC_SHA1_96 [RFC2404]': 20,
  'HMAC_SHA2_256_128 [RFC4868]': 32,
  'HMAC_SHA2_384_192 [RFC4868]': 48,
  'HMAC_SHA2_512_256 [RFC4868]': 64,
};

/** The AEAD names, for which tshark wants no integrity keys and NONE as integrity. */
function isIkev2Aead(name: Ikev2EncryptionName): boolean {
  return name.startsWith('AES-GCM');
}

/**
 * Wireshark's IKEv2 encryption name for a negotiated ENCR transform (RFC 7296 3.3.2) and its
 * KEY_LENGTH attribute in bits; `undefined` when tshark 4.0 has no such entry (e.g.
 * ENCR_CHACHA20_POLY1305, AES-CCM, 3DES-less-common variants ikekm does not offer).
 */
export function ikev2EncryptionName(id: EncrId, keyLengthBits?: number): Ikev2EncryptionName | undefined {
  const bits = keyLengthBits ?? 0;
  const bySize = <T>(n128: T, n192: T, n256: T): T | undefined =>
    bits === 128 ? n128 : bits === 192 ? n192 : bits === 256 ? n256 : undefined;
  switch (id) {
    case EncrId.ENCR_AES_CBC:
      return bySize(Ikev2EncryptionName.AES_CBC_128, Ikev2EncryptionName.AES_CBC_192, Ikev2EncryptionName.AES_CBC_256);
    case EncrId.ENCR_AES_CTR:
      return bySize(Ikev2EncryptionName.AES_CTR_128, Ikev2EncryptionName.AES_CTR_192, Ikev2EncryptionName.AES_CTR_256);
    case EncrId.ENCR_AES_GCM_16:
      return bySize(Ikev2EncryptionName.AES_GCM_128_16, Ikev2EncryptionName.AES_GCM_192_16, Ikev2EncryptionName.AES_GCM_256_16);
    case EncrId.ENCR_AES_GCM_12:
      return bySize(Ikev2EncryptionName.AES_GCM_128_12, Ikev2EncryptionName.AES_GCM_192_12, Ikev2EncryptionName.AES_GCM_256_12);
    case EncrId.ENCR_AES_GCM_8:
      return bySize(Ikev2EncryptionName.AES_GCM_128_8, Ikev2EncryptionName.AES_GCM_192_8, Ikev2EncryptionName.AES_GCM_256_8);
    case EncrId.ENCR_NULL:
      return Ikev2EncryptionName.NULL;
    default:
      return undefined;
  }
}

/** Wireshark's IKEv2 integrity name for a negotiated INTEG transform; NONE for AEAD (IntegId.NONE). */
export function ikev2IntegrityName(id: IntegId): Ikev2IntegrityName | undefined {
  switch (id) {
    case IntegId.NONE:
      return Ikev2IntegrityName.NONE;
    case IntegId.AUTH_HMAC_MD5_96:
      return Ikev2IntegrityName.HMAC_MD5_96;
    case IntegId.AUTH_HMAC_SHA1_96:
      return Ikev2IntegrityName.HMAC_SHA1_96;
    case IntegId.AUTH_HMAC_SHA2_256_128:
      return Ikev2IntegrityName.HMAC_SHA2_256_128;
    case IntegId.AUTH_HMAC_SHA2_384_192:
      return Ikev2IntegrityName.HMAC_SHA2_384_192;
    case IntegId.AUTH_HMAC_SHA2_512_256:
      return Ikev2IntegrityName.HMAC_SHA2_512_256;
    default:
      return undefined;
  }
}

/** Wireshark's ESP encryption name for a Child SA's ENCR transform; `undefined` when tshark 4.0 lacks it. */
export function espEncryptionName(id: EncrId): EspEncryptionName | undefined {
  switch (id) {
    case EncrId.ENCR_NULL:
      return EspEncryptionName.NULL;
    case EncrId.ENCR_AES_CBC:
      return EspEncryptionName.AES_CBC;
    case EncrId.ENCR_AES_CTR:
      return EspEncryptionName.AES_CTR;
    case EncrId.ENCR_3DES:
      return EspEncryptionName.TRIPLE_DES_CBC;
    case EncrId.ENCR_AES_GCM_8:
      return EspEncryptionName.AES_GCM_8;
    case EncrId.ENCR_AES_GCM_12:
      return EspEncryptionName.AES_GCM_12;
    case EncrId.ENCR_AES_GCM_16:
      return EspEncryptionName.AES_GCM_16;
    default:
      return undefined;
  }
}

/** Wireshark's ESP integrity name; NULL for AEAD (IntegId.NONE). */
export function espIntegrityName(id: IntegId): EspIntegrityName | undefined {
  switch (id) {
    case IntegId.NONE:
      return EspIntegrityName.NULL;
    case IntegId.AUTH_HMAC_MD5_96:
      return EspIntegrityName.HMAC_MD5_96;
    case IntegId.AUTH_HMAC_SHA1_96:
      return EspIntegrityName.HMAC_SHA1_96;
    case IntegId.AUTH_HMAC_SHA2_256_128:
      return EspIntegrityName.HMAC_SHA2_256_128;
    case IntegId.AUTH_HMAC_SHA2_384_192:
      return EspIntegrityName.HMAC_SHA2_384_192;
    case IntegId.AUTH_HMAC_SHA2_512_256:
      return EspIntegrityName.HMAC_SHA2_512_256;
    default:
      return undefined;
  }
}

export interface Ikev2DecryptionEntry {
  /** RFC 7296 3.1 IKE SA Initiator's / Responder's SPI, 8 octets each. */
  readonly SPIi: Uint8Array;
  readonly SPIr: Uint8Array;
  /** For AEAD: key || salt, exactly as taken from prf+ (RFC 5282 7.1). */
  readonly SK_ei: Uint8Array;
  readonly SK_er: Uint8Array;
  readonly encryptionName: Ikev2EncryptionName;
  /** Absent (or empty) for AEAD. */
  readonly SK_ai?: Uint8Array;
  readonly SK_ar?: Uint8Array;
  readonly integrityName: Ikev2IntegrityName;
}

const hex = (bytes: Uint8Array | undefined): string => Buffer.from(bytes ?? new Uint8Array(0)).toString('hex');

function expectLength(what: string, bytes: Uint8Array | undefined, octets: number): void {
  const actual = bytes?.length ?? 0;
  if (actual !== octets) throw new RangeError(`${what} is ${actual} octets, the named algorithm needs ${octets}`);
}

/**
 * One `ikev2_decryption_table` line:
 * `SPIi,SPIr,SK_ei,SK_er,"encryption",SK_ai,SK_ar,"integrity"` (bare lowercase hex, names quoted).
 * Throws RangeError when a length does not fit the named algorithms, since tshark would refuse
 * the whole table for it.
 */
export function ikev2DecryptionTableLine(entry: Ikev2DecryptionEntry): string {
  expectLength('SPIi', entry.SPIi, 8);
  expectLength('SPIr', entry.SPIr, 8);
  const encrOctets = IKEV2_ENCRYPTION_KEY_OCTETS[entry.encryptionName];
  expectLength('SK_ei', entry.SK_ei, encrOctets);
  expectLength('SK_er', entry.SK_er, encrOctets);
  if (isIkev2Aead(entry.encryptionName) && entry.integrityName !== Ikev2IntegrityName.NONE) {
    throw new RangeError(`${entry.encryptionName} is AEAD: integrity must be ${Ikev2IntegrityName.NONE}`);
  }
  const integOctets = IKEV2_INTEGRITY_KEY_OCTETS[entry.integrityName];
  expectLength('SK_ai', entry.SK_ai, integOctets);
  expectLength('SK_ar', entry.SK_ar, integOctets);
  return [
    ikeSpiHex(entry.SPIi),
    ikeSpiHex(entry.SPIr),
    hex(entry.SK_ei),
    hex(entry.SK_er),
    `"${entry.encryptionName}"`,
    hex(entry.SK_ai),
    hex(entry.SK_ar),
    `"${entry.integrityName}"`,
  ].join(',');
}

export interface EspSaEntry {
  /** Outer (tunnel endpoint) addresses of this direction: the packet's source and destination. */
  readonly family: 'IPv4' | 'IPv6';
  readonly src: string;
  readonly dst: string;
  /** RFC 4303 2.1 SPI of this direction (the receiver's inbound SPI). */
  readonly spi: number;
  readonly encryptionName: EspEncryptionName;
  /** For AES-GCM: key || 4-octet salt (RFC 4106 8.1). */
  readonly encryptionKey: Uint8Array;
  readonly integrityName: EspIntegrityName;
  /** Absent (or empty) for AEAD / NULL. */
  readonly integrityKey?: Uint8Array;
}

/** Quotes a UAT string field; the values we write never contain quotes, so refuse rather than escape. */
function quoted(value: string): string {
  if (/["\\\r\n]/.test(value)) throw new RangeError(`unexpected character in UAT field: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

/**
 * One `esp_sa` line:
 * `"IPv4","src","dst","0xSPI","encryption","0xKEY","integrity","0xKEY"` (all fields quoted).
 */
export function espSaLine(entry: EspSaEntry): string {
  if (!Number.isInteger(entry.spi) || entry.spi < 0 || entry.spi > 0xffffffff) throw new RangeError(`ESP SPI out of range: ${entry.spi}`);
  if (entry.integrityName === EspIntegrityName.NULL && (entry.integrityKey?.length ?? 0) !== 0) {
    throw new RangeError('an integrity key was given for NULL integrity');
  }
  return [
    quoted(entry.family),
    quoted(entry.src),
    quoted(entry.dst),
    quoted(`0x${espSpiHex(entry.spi)}`),
    quoted(entry.encryptionName),
    quoted(`0x${hex(entry.encryptionKey)}`),
    quoted(entry.integrityName),
    quoted(`0x${hex(entry.integrityKey)}`),
  ].join(',');
}

/**
 * One `ikev1_decryption_table` line: `INITIATOR_COOKIE,Ka` (RFC 2409 appendix B key). tshark
 * derives the CBC IVs itself, so the capture must hold Main Mode messages 3 and 4.
 */
export function ikev1DecryptionTableLine(initiatorCookie: Uint8Array, encryptionKey: Uint8Array): string {
  expectLength('initiator cookie', initiatorCookie, 8);
  return `${hex(initiatorCookie)},${hex(encryptionKey)}`;
}

/**
 * Appends lines to a key table file, creating it with mode 0600: these are session keys.
 * (The mode applies only when the file is created; an existing file keeps its mode.)
 */
export async function appendKeylogLines(path: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return;
  await appendFile(path, lines.map((line) => `${line}\n`).join(''), { mode: 0o600 });
}
