/**
 * IKEv2 messages: RFC 7296 3.1 header + payload chain, bytes ⇄ `IkeMessage`.
 *
 * Design decisions (the contract other layers code against):
 *
 * - Total decoding. `decodeMessage` returns `Result<IkeMessage, ParseError>` and never throws on
 *   any input. Internally a bounds-checked reader throws ParseError, caught at this boundary;
 *   any other exception is a codec bug and is not swallowed.
 *
 * - Exact round trip. For every input that decodes, `encodeMessage(decoded)` is the same bytes.
 *   Everything that is not derived is kept: RESERVED fields and bits a peer set (optional
 *   `reserved`/`headerReserved`/`flags.reserved`, omitted when zero, zero when building), the C
 *   bit on known payloads, attribute formats (TV/TLV), Delete's SPI Size. Everything derived is
 *   checked on decode instead: lengths, counts, SPI sizes, Last Substruc, Next Payload.
 *
 * - Unknown payloads (RFC 7296 2.5). They are kept in `payloads` as `UnknownPayload` with their
 *   critical bit, never dropped and never an error: the message still decodes, so the protocol
 *   layer has the header (SPIs, Message ID) it needs to answer. If
 *   `firstUnsupportedCriticalPayload(msg.payloads)` returns a type, the receiver MUST reject the
 *   message with UNSUPPORTED_CRITICAL_PAYLOAD carrying that type (Notification Data is the one
 *   octet payload type); non-critical unknown payloads are ignored. The same holds for the
 *   decrypted chain of an SK payload (`decodePayloadChain`), where critical payloads usually live.
 *
 * - Aliasing. Byte fields of a decoded message (SPIs, nonces, KE data, SK body...) are
 *   `subarray` views of the input: no copies on the hot path. Do not reuse or mutate the input
 *   buffer while the message is alive; `Buffer.from(field)` if a field must outlive it.
 *
 * - Encoding trusts the model: a field out of range (a 9-octet SPI, a 70000-octet payload, a
 *   non-final SK) throws a RangeError — that is a bug in the caller, not hostile input.
 *
 * - Bounded work. A message over MAX_MESSAGE_OCTETS, a chain of more payloads than a peer sends,
 *   an SA payload of hundreds of Proposals are ParseErrors, found before the bodies that would
 *   exceed the limits are decoded (decode-limits.ts): decoding is the one thing done for every
 *   datagram, before anything knows who sent it.
 *
 * - Semantics stay out: nonce sizes, KE length per group, which payloads an exchange needs,
 *   SPI values, proposal numbering are checked by the protocol layer (src/ikev2).
 */
import { MAX_MESSAGE_OCTETS } from './decode-limits.js';
import { PayloadType } from './iana.js';
import { catchParseError, type ParseError } from './parse-error.js';
import { IKE_HEADER_LENGTH, IKEV2_MAJOR_VERSION, readHeader, writeHeader, type IkeHeader } from './header.js';
import { firstPayloadTypeOf, payloadChainLength, readPayloadChain, writePayloadChain } from './payload-chain.js';
import { isUnknownPayload, type Payload } from './payload.js';
import { ByteReader } from './reader.js';
import { ByteWriter } from './writer.js';
import type { Result } from '../result.js';

export interface IkeMessage {
  header: IkeHeader;
  payloads: Payload[];
}

/** Offset of the Length field in the header (for error offsets). */
const LENGTH_FIELD_OFFSET = 24;
/** Offset of the MjVer/MnVer octet. */
const VERSION_FIELD_OFFSET = 17;

export function decodeMessage(bytes: Uint8Array): Result<IkeMessage, ParseError> {
  return catchParseError(() => {
    const { r, header, firstPayloadType } = readMessageHeader(bytes);
    return { header, payloads: readPayloadChain(r, firstPayloadType) };
  });
}

/**
 * The header of a message, checked as a whole message's (version, Length, size limit), and a
 * reader positioned at its first payload; throws ParseError. Shared with ike-sa-init-peek.ts.
 */
export function readMessageHeader(bytes: Uint8Array): { r: ByteReader; header: IkeHeader; firstPayloadType: number } {
  const r = ByteReader.of(bytes, 0, undefined);
  if (bytes.length < IKE_HEADER_LENGTH) {
    r.fail('truncated', `${bytes.length} octets is shorter than the 28-octet IKE header`, bytes.length);
  }
  const { header, firstPayloadType, length } = readHeader(r);
  // RFC 7296 2.5: a major version above 2 is answered with INVALID_MAJOR_VERSION; any version
  // other than 2 means the rest is not an IKEv2 body, so it is not decoded.
  if (header.majorVersion !== IKEV2_MAJOR_VERSION) {
    r.fail('invalid-major-version', `Major Version ${header.majorVersion}, this is IKEv2 (2)`, VERSION_FIELD_OFFSET);
  }
  // RFC 7296 3.1: Length is the "length of the total message (header + payloads) in octets".
  if (length !== bytes.length) {
    r.fail('bad-header-length', `header Length ${length} but the datagram has ${bytes.length} octets`, LENGTH_FIELD_OFFSET);
  }
  if (length > MAX_MESSAGE_OCTETS) {
    r.fail('message-too-large', `${length} octets is more than the ${MAX_MESSAGE_OCTETS} a message may have (decode-limits.ts)`, LENGTH_FIELD_OFFSET);
  }
  return { r, header, firstPayloadType };
}

export function encodeMessage(msg: IkeMessage): Buffer {
  const total = IKE_HEADER_LENGTH + payloadChainLength(msg.payloads);
  const w = new ByteWriter(total);
  writeHeader(w, msg.header, firstPayloadTypeOf(msg.payloads), total);
  writePayloadChain(w, msg.payloads, PayloadType.NONE);
  return w.finish();
}

/**
 * RFC 7296 2.5: the type of the first payload that is not understood and has the critical bit
 * set, or undefined. A defined result means: reject the message, answer UNSUPPORTED_CRITICAL_PAYLOAD.
 */
export function firstUnsupportedCriticalPayload(payloads: readonly Payload[]): number | undefined {
  for (const p of payloads) if (isUnknownPayload(p) && p.critical) return p.type;
  return undefined;
}

export function ikeMessage(header: IkeHeader, payloads: Payload[]): IkeMessage {
  return { header, payloads };
}
