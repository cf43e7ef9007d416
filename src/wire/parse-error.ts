/**
 * The one error type of the wire codec.
 *
 * Public decoders return it inside a `Result` and never throw it: a datagram from the network is
 * hostile input, and a codec that throws on it turns a malformed packet into a crashed actor.
 * Internally the bounds-checked `ByteReader` throws it so that deep decoders stay linear; the
 * public boundary (`catchParseError`) turns it back into a value and lets anything else (a bug)
 * propagate.
 */
import { err, ok, type Result } from '../result.js';

/** Machine-readable reason, for logs, metrics and for choosing the Notify to answer with. */
export type ParseErrorCode =
  /** A read would go past the end of the datagram or of a declared length. */
  | 'truncated'
  /** RFC 7296 3.1: the header Length field is not the datagram length, or is below 28. */
  | 'bad-header-length'
  /** RFC 7296 2.5 / 3.1: Major Version is not 2; the body cannot be IKEv2. */
  | 'invalid-major-version'
  /** RFC 7296 3.2: a generic Payload Length below 4, or beyond the bytes that remain. */
  | 'bad-payload-length'
  /** Bytes left after the last payload of a chain (Next Payload 0, or an SK/SKF payload). */
  | 'trailing-data'
  /** A substructure does not fill the length its container declares, or declares more than it has. */
  | 'length-mismatch'
  /** A count field (Num Transforms, Number of TSs) disagrees with the substructures present. */
  | 'count-mismatch'
  /** RFC 7296 3.3.1 / 3.3.2: Last Substruc is not 0 on the last element and 2 (resp. 3) otherwise. */
  | 'bad-last-substruc'
  /** RFC 7296 3.3: an SA payload carries one or more Proposals; this one has none. */
  | 'no-proposals'
  /** RFC 7296 3.4: a KE payload without Key Exchange Data. */
  | 'empty-ke-data'
  /** RFC 7296 3.5: ID_IPV4_ADDR / ID_IPV6_ADDR data that is not 4 / 16 octets. */
  | 'bad-id-data'
  /** RFC 7296 3.13.1: an address-range Traffic Selector whose Selector Length is not 16 / 40. */
  | 'bad-selector-length'
  /** RFC 7296 3.10.1 and extensions: Notification Data (or SPI) that does not fit the Notify type. */
  | 'bad-notify-data'
  /** RFC 7296 3.16: an EAP message shorter than its header, or whose Length is not the payload's. */
  | 'bad-eap-message'
  /** RFC 7383 2.5: Fragment Number 0, or above Total Fragments. */
  | 'bad-fragment-number'
  /** RFC 3948 2.2/2.3: a UDP 4500 datagram that is neither IKE, NAT-keepalive nor ESP. */
  | 'bad-natt-datagram'
  /** decode-limits.ts: a message longer than MAX_MESSAGE_OCTETS, refused before its payloads are read. */
  | 'message-too-large'
  /** decode-limits.ts: more payloads in a chain (or of one type) than a peer sends; found walking the generic headers, before any body is decoded. */
  | 'too-many-payloads'
  /** decode-limits.ts: more Proposals, Transforms or attributes in one payload than a peer sends. */
  | 'too-many-substructures';

export interface ParseErrorInit {
  code: ParseErrorCode;
  /** Absolute byte offset in the datagram (or in the buffer passed with a base offset). */
  offset: number;
  /** Payload type being decoded (RFC 7296 3.2 value); undefined for the IKE header. */
  payloadType: number | undefined;
  reason: string;
}

export class ParseError extends Error {
  readonly code: ParseErrorCode;
  readonly offset: number;
  readonly payloadType: number | undefined;
  readonly reason: string;

  constructor(init: ParseErrorInit) {
    const where = init.payloadType === undefined ? 'header' : `payload ${init.payloadType}`;
    // No stack trace: a ParseError describes the input (code, offset, payload type), not a fault
    // in the code, and capturing the decoder's frames for every malformed datagram of a flood
    // cost more than decoding it.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(`${init.reason} (${init.code}, ${where}, offset ${init.offset})`);
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'ParseError';
    this.code = init.code;
    this.offset = init.offset;
    this.payloadType = init.payloadType;
    this.reason = init.reason;
  }
}

/**
 * The public boundary of every decoder: runs `decode`, returns a thrown ParseError as a value,
 * and lets any other exception through — a TypeError or RangeError here is a bug in the codec,
 * and hiding it as "malformed input" would hide the bug (the fuzz tests assert none escapes).
 */
export function catchParseError<T>(decode: () => T): Result<T, ParseError> {
  try {
    return ok(decode());
  } catch (e) {
    if (e instanceof ParseError) return err(e);
    throw e;
  }
}
