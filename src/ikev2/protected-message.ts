/**
 * IKEv2 messages protected by an Encrypted and Authenticated payload (SK, RFC 7296 3.14): the
 * glue between the codec (src/wire: bytes ⇄ payloads, no crypto) and the SK body protection
 * (src/crypto/sk-payload: seal/open, no message layout).
 *
 * Building: the inner payload chain is encoded first, because the SK payload's length — and so
 * the IKE header's Length — depends on the plaintext length; the prefix (IKE header, any
 * unprotected payloads, SK generic header) is then written with its final lengths, since the
 * ICV (or the AEAD associated data, RFC 5282 5.1) covers it; then the body is sealed.
 *
 * Opening: the outer message is decoded (the codec guarantees SK is the last payload), the
 * prefix is every octet in front of the SK body, the body is verified and decrypted, and the
 * plaintext is decoded as a payload chain starting with the SK header's Next Payload.
 *
 * Fragmented messages (SKF, RFC 7383) are not handled here: they need reassembly first.
 */
import { openSkBody, sealSkBody, skBodyLength, type SkOpenError, type SkProtection } from '../crypto/sk-payload.js';
import type { RandomPort } from '../crypto/types.js';
import { err, ok, type Result } from '../result.js';
import {
  PayloadType,
  decodeMessage,
  decodePayloadChain,
  encodePayloadChain,
  encodeSkPrefix,
  isUnknownPayload,
  type IkeHeader,
  type IkeMessage,
  type ParseError,
  type Payload,
  type SkPayload,
} from '../wire/index.js';

export interface EncodeProtectedOptions {
  /**
   * Unencrypted payloads placed before SK. Normally none; RFC 7296 3.14 allows them, and they are
   * covered by the ICV / associated data like the header.
   */
  readonly precedingPayloads?: readonly Payload[];
}

/**
 * Encodes `header` + SK{ innerPayloads } sealed under `protection` (the sender's direction:
 * SK_ei/SK_ai for messages from the original initiator, SK_er/SK_ar otherwise, RFC 7296 2.14).
 * The IV comes from `random`, so a replay that records the draw reproduces the bytes.
 * `innerPayloads` may be empty (e.g. an INFORMATIONAL liveness check, RFC 7296 1.4).
 * Throws only on programming errors (inconsistent protection, a model field out of range).
 */
export function encodeProtectedMessage(
  header: IkeHeader,
  innerPayloads: readonly Payload[],
  protection: SkProtection,
  random: RandomPort,
  options: EncodeProtectedOptions = {},
): Buffer {
  const inner = encodePayloadChain(innerPayloads);
  try {
    const bodyLength = skBodyLength(protection, inner.bytes.length);
    const prefix = encodeSkPrefix(header, options.precedingPayloads ?? [], bodyLength, inner.firstPayloadType);
    const body = sealSkBody(protection, prefix, inner.bytes, random);
    return Buffer.concat([prefix, body]);
  } finally {
    // The plaintext may hold AUTH data, identities and CP secrets; don't leave a copy around.
    inner.bytes.fill(0);
  }
}

/** Why a protected message could not be opened. Never thrown: received bytes are hostile input. */
export type ProtectedMessageError =
  /** The datagram is not a well-formed IKEv2 message. */
  | { readonly kind: 'parse'; readonly error: ParseError }
  /** Well-formed, but it carries no SK payload (e.g. an IKE_SA_INIT message, or an attack). */
  | { readonly kind: 'not-protected' }
  /** It carries an SKF payload: a fragment (RFC 7383) to reassemble before opening. */
  | { readonly kind: 'fragment' }
  /** The SK body did not verify or decrypt (wrong keys, tampering, bad padding). */
  | { readonly kind: 'sk-open'; readonly error: SkOpenError }
  /** The SK body verified, but its plaintext is not a valid payload chain. */
  | { readonly kind: 'inner-parse'; readonly error: ParseError };

export interface OpenedMessage {
  /** The outer message as decoded; its last payload is the SK payload (still encrypted). */
  readonly message: IkeMessage;
  /** The decrypted inner payloads, in order. */
  readonly inner: Payload[];
}

/**
 * Decodes and opens a protected message with the receiver's view of the sender's keys.
 * Checks nothing about the exchange (which payloads must be inside, Message IDs): that is the
 * protocol layer's business. Note that `inner` aliases a fresh plaintext buffer, not `bytes`.
 */
export function decodeProtectedMessage(bytes: Uint8Array, protection: SkProtection): Result<OpenedMessage, ProtectedMessageError> {
  const decoded = decodeMessage(bytes);
  if (!decoded.ok) return err({ kind: 'parse', error: decoded.error });
  const message = decoded.value;
  const last = message.payloads[message.payloads.length - 1];
  if (last === undefined || isUnknownPayload(last)) return err({ kind: 'not-protected' });
  if (last.type === PayloadType.SKF) return err({ kind: 'fragment' });
  if (last.type !== PayloadType.SK) return err({ kind: 'not-protected' });
  const sk: SkPayload = last;

  // The SK payload is last and its body runs to the end of the message (the codec checked that
  // the header Length equals the datagram length), so the prefix is everything before the body.
  const prefixLength = bytes.length - sk.body.length;
  const prefix = bytes.subarray(0, prefixLength);
  const opened = openSkBody(protection, prefix, sk.body);
  if (!opened.ok) return err({ kind: 'sk-open', error: opened.error });

  // Error offsets in the plaintext are reported relative to the start of the encrypted data, so
  // that they at least point into the SK payload of the datagram.
  const baseOffset = prefixLength + protection.encryption.ivLength;
  const inner = decodePayloadChain(opened.value, sk.firstInnerPayload, baseOffset);
  if (!inner.ok) {
    opened.value.fill(0);
    return err({ kind: 'inner-parse', error: inner.error });
  }
  return ok({ message, inner: inner.value });
}
