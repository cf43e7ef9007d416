/**
 * From a KernelSa to the esp_sa key table entry Wireshark needs to decrypt that direction of a
 * Child SA, or the reason there can be none. tshark refuses the WHOLE table for one bad line
 * (keylog.ts), so anything it would refuse (an algorithm tshark 4.0 cannot name, a key whose
 * length does not fit the algorithm) is turned into a reason to skip, never into a line.
 */
import { isIP } from 'node:net';
import { EspEncryptionName, EspIntegrityName, espEncryptionName, espIntegrityName, type EspSaEntry } from './keylog.js';
import type { KernelSa } from './kernel-port.js';
import { EncrId, IntegId } from '../wire/iana.js';

/**
 * Key octets tshark accepts per ESP encryption name. CTR carries a 4-octet nonce after the key
 * (RFC 3686 5.1) and GCM a 4-octet salt (RFC 4106 8.1): KernelSa keys hold them, as XFRM's do.
 */
const ENCRYPTION_KEY_OCTETS: Readonly<Record<EspEncryptionName, readonly number[]>> = {
  [EspEncryptionName.NULL]: [0],
  [EspEncryptionName.AES_CBC]: [16, 24, 32],
  [EspEncryptionName.AES_CTR]: [20, 28, 36],
  [EspEncryptionName.TRIPLE_DES_CBC]: [24],
  [EspEncryptionName.AES_GCM_8]: [20, 28, 36],
  [EspEncryptionName.AES_GCM_12]: [20, 28, 36],
  [EspEncryptionName.AES_GCM_16]: [20, 28, 36],
};

/** RFC 2403, 2404, 4868 2.1.1: the HMAC key is as long as the hash output. */
const INTEGRITY_KEY_OCTETS: Readonly<Record<EspIntegrityName, number>> = {
  [EspIntegrityName.NULL]: 0,
  [EspIntegrityName.HMAC_MD5_96]: 16,
  [EspIntegrityName.HMAC_SHA1_96]: 20,
  [EspIntegrityName.HMAC_SHA2_256_128]: 32,
  [EspIntegrityName.HMAC_SHA2_384_192]: 48,
  [EspIntegrityName.HMAC_SHA2_512_256]: 64,
};

const AEAD: ReadonlySet<EncrId> = new Set([EncrId.ENCR_AES_GCM_8, EncrId.ENCR_AES_GCM_12, EncrId.ENCR_AES_GCM_16]);

export type EspSaEntryResult = { readonly ok: true; readonly entry: EspSaEntry } | { readonly ok: false; readonly reason: string };

export function espSaEntryOf(sa: KernelSa): EspSaEntryResult {
  const skip = (reason: string): EspSaEntryResult => ({ ok: false, reason });
  const version = isIP(sa.source);
  if (version === 0 || version !== isIP(sa.destination)) return skip(`addresses ${sa.source} → ${sa.destination} are not one IP family`);
  const encryptionName = espEncryptionName(sa.encryption.id);
  if (encryptionName === undefined) return skip(`tshark 4.0 has no esp_sa name for ENCR transform ${sa.encryption.id}`);
  const encryptionOctets = ENCRYPTION_KEY_OCTETS[encryptionName];
  if (!encryptionOctets.includes(sa.encryption.key.length)) {
    return skip(`a ${sa.encryption.key.length}-octet key does not fit ${encryptionName} (${encryptionOctets.join('/')} octets)`);
  }
  const integrityId = sa.integrity?.id ?? IntegId.NONE;
  if (AEAD.has(sa.encryption.id) && integrityId !== IntegId.NONE) return skip(`${encryptionName} is AEAD: no integrity transform expected`);
  const integrityName = espIntegrityName(integrityId);
  if (integrityName === undefined) return skip(`tshark 4.0 has no esp_sa name for INTEG transform ${integrityId}`);
  const integrityKey = sa.integrity?.key ?? Buffer.alloc(0);
  if (integrityKey.length !== INTEGRITY_KEY_OCTETS[integrityName]) {
    return skip(`a ${integrityKey.length}-octet key does not fit ${integrityName} (${INTEGRITY_KEY_OCTETS[integrityName]} octets)`);
  }
  return {
    ok: true,
    entry: {
      family: version === 4 ? 'IPv4' : 'IPv6',
      src: sa.source,
      dst: sa.destination,
      spi: sa.spi,
      encryptionName,
      encryptionKey: sa.encryption.key,
      integrityName,
      integrityKey,
    },
  };
}
