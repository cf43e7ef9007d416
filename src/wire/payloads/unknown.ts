/**
 * RFC 7296 2.5 / 3.2: a payload whose type this implementation does not understand.
 *
 * Its body is kept as bytes so the message re-encodes exactly. With the critical bit clear the
 * receiver skips it; with the critical bit set the receiver MUST reject the message with
 * UNSUPPORTED_CRITICAL_PAYLOAD naming the type — see `firstUnsupportedCriticalPayload`.
 * `unknown: true` tells it apart from the known payloads in the `Payload` union (its `type` is
 * a plain number, so it cannot be the discriminant).
 */
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';

export interface UnknownPayload {
  unknown: true;
  /** The payload type number, from the previous payload's Next Payload field. */
  type: number;
  critical: boolean;
  /** The 7 RESERVED bits of the generic header; omitted when zero. */
  headerReserved?: number;
  /** Everything after the generic header. */
  body: Buffer;
}

export function decodeUnknownBody(r: ByteReader, type: number, critical: boolean): UnknownPayload {
  return { unknown: true, type, critical, body: r.rest() };
}

export function unknownBodyLength(p: UnknownPayload): number {
  return p.body.length;
}

export function writeUnknownBody(w: ByteWriter, p: UnknownPayload): void {
  w.bytes(p.body);
}
