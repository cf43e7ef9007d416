/**
 * A chain of payloads linked by Next Payload (RFC 7296 3.2): the body of an IKE message, and the
 * plaintext inside an SK or SKF payload (RFC 7296 3.14, RFC 7383 2.5).
 *
 * Decoding rules:
 * - each generic Payload Length is at least 4 and fits in what remains ('bad-payload-length');
 * - every body decoder reads inside its payload's declared length only;
 * - an SK or SKF payload ends the chain: its Next Payload is the first inner payload's type;
 * - the chain must end exactly at the end of the bytes ('trailing-data' otherwise, 'truncated'
 *   when the bytes end first);
 * - before any body is decoded, the generic headers are walked and counted against
 *   decode-limits.ts ('too-many-payloads').
 *
 * Unknown payload types (RFC 7296 2.5) are kept as `UnknownPayload`s whether or not their
 * critical bit is set; see `firstUnsupportedCriticalPayload`.
 */
import { PayloadType } from './iana.js';
import { MAX_PAYLOADS, MAX_PAYLOADS_OF_TYPE } from './decode-limits.js';
import { catchParseError, ParseError } from './parse-error.js';
import { PAYLOAD_HEADER_LENGTH, splitCriticalOctet, writePayloadHeader } from './payload-header.js';
import {
  decodeKnownBody,
  isEncryptedPayload,
  isKnownPayloadType,
  isUnknownPayload,
  payloadBodyLength,
  writePayloadBody,
  type Payload,
} from './payload.js';
import { decodeUnknownBody } from './payloads/unknown.js';
import { ByteReader } from './reader.js';
import { ByteWriter } from './writer.js';
import type { Result } from '../result.js';

/**
 * Decodes a payload chain (e.g. the decrypted content of an SK payload, without padding).
 * @param baseOffset absolute offset of `bytes[0]` in the datagram, so that errors point into it
 */
export function decodePayloadChain(
  bytes: Uint8Array,
  firstPayloadType: number,
  baseOffset: number,
): Result<Payload[], ParseError> {
  return catchParseError(() => readPayloadChain(ByteReader.of(bytes, baseOffset), firstPayloadType));
}

/** Encodes a payload chain; `firstPayloadType` goes into the Next Payload field before it. */
export function encodePayloadChain(payloads: readonly Payload[]): { firstPayloadType: number; bytes: Buffer } {
  const w = new ByteWriter(payloadChainLength(payloads));
  writePayloadChain(w, payloads, PayloadType.NONE);
  return { firstPayloadType: firstPayloadTypeOf(payloads), bytes: w.finish() };
}

/**
 * Walks the generic headers of the chain without decoding a body and throws 'too-many-payloads'
 * at the first payload beyond MAX_PAYLOADS (or beyond its type's limit): a chain of thousands of
 * cheap payloads is refused for the price of reading their headers. A header that does not fit
 * ends the walk; the decode that follows reports it where it is.
 */
function checkPayloadCounts(r: ByteReader, firstPayloadType: number): void {
  const walk = r.fork();
  // Indexed by payload type (one octet); allocated only once a limited type shows up.
  let ofType: Uint16Array | undefined;
  let count = 0;
  let type = firstPayloadType;
  while (type !== PayloadType.NONE && walk.remaining >= PAYLOAD_HEADER_LENGTH) {
    const start = walk.offset;
    const nextPayload = walk.u8();
    walk.u8();
    const length = walk.u16();
    if (length < PAYLOAD_HEADER_LENGTH || length - PAYLOAD_HEADER_LENGTH > walk.remaining) return;
    if (++count > MAX_PAYLOADS) {
      throw new ParseError({ code: 'too-many-payloads', offset: start, payloadType: type, reason: `more than ${MAX_PAYLOADS} payloads in one chain` });
    }
    const limit = MAX_PAYLOADS_OF_TYPE.get(type);
    if (limit !== undefined) {
      ofType ??= new Uint16Array(256);
      if (++ofType[type]! > limit) {
        throw new ParseError({ code: 'too-many-payloads', offset: start, payloadType: type, reason: `more than ${limit} payloads of type ${type} in one chain` });
      }
    }
    // RFC 7296 3.14 / RFC 7383 2.5: an SK or SKF payload ends the chain.
    if (type === PayloadType.SK || type === PayloadType.SKF) return;
    walk.skip(length - PAYLOAD_HEADER_LENGTH);
    type = nextPayload;
  }
}

/** One generic payload header read, checked, and its body cut out (RFC 7296 3.2). */
function readGenericPayload(r: ByteReader, type: number): { nextPayload: number; criticalOctet: number; body: ByteReader } {
  r.payloadType = type;
  const start = r.offset;
  const nextPayload = r.u8();
  const criticalOctet = r.u8();
  const length = r.u16();
  if (length < PAYLOAD_HEADER_LENGTH) {
    r.fail('bad-payload-length', `Payload Length ${length} is below the 4-octet generic header`, start + 2);
  }
  if (length - PAYLOAD_HEADER_LENGTH > r.remaining) {
    r.fail('bad-payload-length', `Payload Length ${length} exceeds the ${r.remaining + 4} octets left`, start + 2);
  }
  return { nextPayload, criticalOctet, body: r.sub(length - PAYLOAD_HEADER_LENGTH, type) };
}

/**
 * Walks a chain as `readPayloadChain` reads it, with the same limits and the same errors for its
 * structure, but decodes no body: `visit` gets each payload's type and body. For the stateless
 * handling of IKE_SA_INIT (ike-sa-init-peek.ts), which needs two payloads of a dozen.
 */
export function walkPayloadChain(r: ByteReader, firstPayloadType: number, visit: (type: number, body: ByteReader) => void): void {
  checkPayloadCounts(r, firstPayloadType);
  let type = firstPayloadType;
  while (type !== PayloadType.NONE) {
    const { nextPayload, body } = readGenericPayload(r, type);
    visit(type, body);
    type = type === PayloadType.SK || type === PayloadType.SKF ? PayloadType.NONE : nextPayload;
  }
  if (!r.atEnd) {
    r.fail('trailing-data', `${r.remaining} octet(s) after the last payload`);
  }
}

/** Reads payloads until Next Payload 0 or an SK/SKF payload; throws ParseError. */
export function readPayloadChain(r: ByteReader, firstPayloadType: number): Payload[] {
  checkPayloadCounts(r, firstPayloadType);
  const payloads: Payload[] = [];
  let type = firstPayloadType;
  while (type !== PayloadType.NONE) {
    const generic = readGenericPayload(r, type);
    const { nextPayload, body } = generic;
    const { critical, headerReserved } = splitCriticalOctet(generic.criticalOctet);
    let p: Payload;
    if (isKnownPayloadType(type)) {
      p = decodeKnownBody(body, type, nextPayload);
      if (critical) p.critical = true;
    } else {
      p = decodeUnknownBody(body, type, critical);
    }
    if (!body.atEnd) {
      // Every body decoder consumes its whole window; reaching this is a decoder bug.
      throw new Error(`internal: payload ${type} decoder left ${body.remaining} octets`);
    }
    if (headerReserved !== 0) p.headerReserved = headerReserved;
    payloads.push(p);
    type = isEncryptedPayload(p) ? PayloadType.NONE : nextPayload;
  }
  if (!r.atEnd) {
    r.fail('trailing-data', `${r.remaining} octet(s) after the last payload`);
  }
  return payloads;
}

export function firstPayloadTypeOf(payloads: readonly Payload[]): number {
  return payloads[0]?.type ?? PayloadType.NONE;
}

/** Encoded length of the payloads, generic headers included. */
export function payloadChainLength(payloads: readonly Payload[]): number {
  let n = 0;
  for (const p of payloads) n += PAYLOAD_HEADER_LENGTH + payloadBodyLength(p);
  return n;
}

/**
 * Writes the payloads with derived Next Payload and Payload Length fields.
 * @param lastNext Next Payload of the last payload: 0 at the end of a message, SK when an
 *   encrypted payload follows (see sk-prefix.ts)
 */
export function writePayloadChain(w: ByteWriter, payloads: readonly Payload[], lastNext: number): void {
  for (let i = 0; i < payloads.length; i++) {
    const p = payloads[i]!;
    const following = payloads[i + 1];
    let next: number;
    if (isEncryptedPayload(p)) {
      if (following !== undefined || lastNext !== PayloadType.NONE) {
        throw new RangeError('an SK or SKF payload must be the last payload (RFC 7296 3.14)');
      }
      next = p.firstInnerPayload;
    } else {
      next = following?.type ?? lastNext;
    }
    if (isUnknownPayload(p) && isKnownPayloadType(p.type)) {
      throw new RangeError(`UnknownPayload with known type ${p.type}: it would not decode back to itself`);
    }
    if (p.type === PayloadType.NONE) throw new RangeError('payload type 0 (NONE) ends a chain and cannot be a payload');
    writePayloadHeader(w, next, PAYLOAD_HEADER_LENGTH + payloadBodyLength(p), p);
    writePayloadBody(w, p);
  }
}
