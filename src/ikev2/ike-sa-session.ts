/**
 * The data of one IKE SA, as plain values (SPIs, role, nonces, negotiated transform IDs, keys,
 * Message ID counters) so that a machine's context can hold it, a snapshot can persist it and
 * the inspector can show it. Transforms are kept as IANA IDs and looked up in the crypto
 * registry when used; keys are the redacted key sets of src/crypto (JSON prints "[redacted]").
 *
 * Also here: the few functions every exchange needs on top of that data — the IKE header of a
 * message on this SA, the SK protection of each direction (RFC 7296 2.14), sealing and opening.
 */
import type { IkeSaKeys, ChildSaKeys } from '../crypto/ikev2-keys.js';
import { redacted } from '../crypto/redacted.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import { skProtectionFor, type SkProtection } from '../crypto/sk-payload.js';
import type { EncryptionTransform, IntegrityTransform, PrfTransform, RandomPort } from '../crypto/types.js';
import type { Endpoint } from '../ports.js';
import { IKEV2_MAJOR_VERSION, type IkeHeader, type Payload } from '../wire/index.js';
import { NO_OCTETS, unpooledViews } from '../wire/unpooled.js';
import { decodeProtectedMessage, encodeProtectedMessage, type OpenedMessage, type ProtectedMessageError } from './protected-message.js';
import type { Result } from '../result.js';

/** RFC 7296 2.2: the original initiator is the side that sent the first IKE_SA_INIT. */
export type IkeRole = 'initiator' | 'responder';

/** The transforms of an IKE SA (RFC 7296 3.3.2), as IANA IDs. */
export interface IkeTransformIds {
  readonly encr: number;
  /** KEY_LENGTH attribute in bits, when the cipher takes one. */
  readonly encrKeyLengthBits?: number;
  readonly prf: number;
  /** Absent with AEAD ciphers (RFC 5282 8). */
  readonly integ?: number;
  readonly dh: number;
}

/** The transforms of an ESP Child SA, as IANA IDs. */
export interface ChildTransformIds {
  readonly encr: number;
  readonly encrKeyLengthBits?: number;
  readonly integ?: number;
  /** The PFS group (CREATE_CHILD_SA with KE, RFC 7296 1.3.1), if any. */
  readonly dh?: number;
  readonly esn: boolean;
}

/** Transform objects for the IDs, from the registry. Throws if one is unknown (an engine bug). */
export interface IkeTransforms {
  readonly encryption: EncryptionTransform;
  readonly prf: PrfTransform;
  readonly integrity: IntegrityTransform | undefined;
}

export function ikeTransformsOf(ids: IkeTransformIds, registry: CryptoRegistry): IkeTransforms {
  const encryption = registry.encryption(ids.encr, ids.encrKeyLengthBits);
  const prf = registry.prf(ids.prf);
  const integrity = ids.integ === undefined || ids.integ === 0 ? undefined : registry.integrity(ids.integ);
  if (encryption === undefined || prf === undefined || (ids.integ !== undefined && ids.integ !== 0 && integrity === undefined)) {
    throw new Error(`negotiated IKE transforms not in the registry: ${JSON.stringify(ids)}`);
  }
  return { encryption, prf, integrity };
}

export function childCipherOf(
  ids: ChildTransformIds,
  registry: CryptoRegistry,
): { encryption: EncryptionTransform; integrity: IntegrityTransform | undefined } {
  const encryption = registry.encryption(ids.encr, ids.encrKeyLengthBits);
  const integrity = ids.integ === undefined || ids.integ === 0 ? undefined : registry.integrity(ids.integ);
  if (encryption === undefined || (ids.integ !== undefined && ids.integ !== 0 && integrity === undefined)) {
    throw new Error(`negotiated ESP transforms not in the registry: ${JSON.stringify(ids)}`);
  }
  return { encryption, integrity };
}

/** Message ID bookkeeping (RFC 7296 2.3), window size 1 both ways. */
export interface MessageIds {
  /** Message ID of our next request. */
  readonly nextRequest: number;
  /** Message ID the peer's next request must carry. */
  readonly expectedRequest: number;
}

/** The IKE SA once keys exist (after IKE_SA_INIT). */
export interface IkeSaSecurity {
  readonly spiI: Buffer;
  readonly spiR: Buffer;
  readonly role: IkeRole;
  readonly transforms: IkeTransformIds;
  readonly keys: IkeSaKeys;
}

/**
 * The security an IKE SA keeps in service (from the end of IKE_AUTH, or from its start for an SA
 * a rekey made, 2.18): its SPIs and the keys it still uses in one allocation of their own, and the
 * key material they came from wiped.
 * - SKEYSEED, SK_pi and SK_pr are left out: SK_pi and SK_pr only enter the AUTH payloads of
 *   IKE_AUTH (2.15), SKEYSEED was only the source of the others (2.14), and a rekey starts from
 *   SK_d (2.18). No key stays in memory longer than its use.
 * - One allocation: the SPIs and the keys had one each, and every allocation costs V8 and the C
 *   allocator bookkeeping of their own, a few hundred bytes per SA in all; the values live and
 *   die together.
 */
export function securityInService(sa: IkeSaSecurity): IkeSaSecurity {
  const k = sa.keys;
  if (k.SKEYSEED.length === 0 && k.SK_pi.length === 0 && k.SK_pr.length === 0 && sa.spiI.buffer === k.SK_d.buffer && sa.spiR.buffer === k.SK_d.buffer) return sa;
  const [spiI, spiR, SK_d, SK_ai, SK_ar, SK_ei, SK_er] = unpooledViews([sa.spiI, sa.spiR, k.SK_d, k.SK_ai, k.SK_ar, k.SK_ei, k.SK_er]) as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
  for (const old of [k.SKEYSEED, k.SK_d, k.SK_ai, k.SK_ar, k.SK_ei, k.SK_er, k.SK_pi, k.SK_pr]) old.fill(0);
  return { ...sa, spiI, spiR, keys: redacted({ SKEYSEED: NO_OCTETS, SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi: NO_OCTETS, SK_pr: NO_OCTETS }) };
}

/**
 * Kept only for machines/ and src/engine/, which still import it under this name; new code
 * imports ikeSpiHex from src/wire.
 */
export { ikeSpiHex as spiHex } from '../wire/spi-text.js';

/** Our SPI and the peer's, by role. */
export function localSpiOf(sa: Pick<IkeSaSecurity, 'spiI' | 'spiR' | 'role'>): Buffer {
  return sa.role === 'initiator' ? sa.spiI : sa.spiR;
}

/**
 * The IKE header of a message we send on this SA. RFC 7296 3.1: I is set in messages sent by the
 * original initiator, R in responses.
 */
export function headerFor(
  sa: Pick<IkeSaSecurity, 'spiI' | 'spiR' | 'role'>,
  exchangeType: number,
  messageId: number,
  response: boolean,
): IkeHeader {
  return {
    spiI: sa.spiI,
    spiR: sa.spiR,
    majorVersion: IKEV2_MAJOR_VERSION,
    minorVersion: 0,
    exchangeType,
    flags: { initiator: sa.role === 'initiator', version: false, response },
    messageId,
  };
}

/** RFC 7296 2.14: SK_ei/SK_ai protect what the original initiator sends, SK_er/SK_ar the rest. */
export function protectionOf(sa: IkeSaSecurity, sender: IkeRole, registry: CryptoRegistry): SkProtection {
  const t = ikeTransformsOf(sa.transforms, registry);
  return skProtectionFor(sa.keys, sender, t.encryption, t.integrity);
}

export function peerRole(role: IkeRole): IkeRole {
  return role === 'initiator' ? 'responder' : 'initiator';
}

/** header + SK{ inner } from our side of the SA. */
export function sealMessage(
  sa: IkeSaSecurity,
  header: IkeHeader,
  inner: readonly Payload[],
  registry: CryptoRegistry,
  random: RandomPort,
): Buffer {
  return encodeProtectedMessage(header, inner, protectionOf(sa, sa.role, registry), random);
}

/** Opens a message the peer sent on this SA. */
export function openMessage(
  sa: IkeSaSecurity,
  bytes: Uint8Array,
  registry: CryptoRegistry,
): Result<OpenedMessage, ProtectedMessageError> {
  return decodeProtectedMessage(bytes, protectionOf(sa, peerRole(sa.role), registry));
}

/** Both directions' ESP keys of a Child SA, seen from one side. */
export function childKeysByDirection(
  keys: ChildSaKeys,
  role: IkeRole,
): { readonly outbound: { encr: Buffer; integ: Buffer }; readonly inbound: { encr: Buffer; integ: Buffer } } {
  // RFC 7296 2.17: keys for initiator → responder first; "initiator" here is the initiator of
  // the exchange that created the Child SA.
  const i = { encr: keys.encrI, integ: keys.integI };
  const r = { encr: keys.encrR, integ: keys.integR };
  return role === 'initiator' ? { outbound: i, inbound: r } : { outbound: r, inbound: i };
}

export type { Endpoint };
