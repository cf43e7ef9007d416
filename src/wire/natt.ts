/**
 * UDP-encapsulation framing on port 4500 (RFC 3948, used by RFC 7296 2.23).
 *
 * - IKE: preceded by the 4-octet non-ESP marker, all zeros, sitting where an ESP SPI would be
 *   (RFC 3948 2.2). An SPI of zero is reserved, so the two cannot be confused.
 * - NAT-keepalive: a single octet 0xFF (RFC 3948 2.3).
 * - ESP: anything else, starting with a non-zero SPI (RFC 3948 2.1); it goes to the kernel, not
 *   here, but is told apart so the transport can drop or count it.
 */
import { catchParseError, type ParseError } from './parse-error.js';
import { ByteReader, toBuffer } from './reader.js';
import type { Result } from '../result.js';

export const NON_ESP_MARKER_LENGTH = 4;
export const NON_ESP_MARKER: Buffer = Buffer.alloc(NON_ESP_MARKER_LENGTH);
export const NATT_KEEPALIVE: Buffer = Buffer.from([0xff]);
/** RFC 4303 2: SPI (4) + Sequence Number (4) precede the payload of every ESP packet. */
const ESP_HEADER_LENGTH = 8;

export type NattDatagram =
  /** `message` is a view of the datagram after the marker: pass it to decodeMessage. */
  | { kind: 'ike'; message: Buffer }
  | { kind: 'keepalive' }
  | { kind: 'esp' };

export function classifyNattDatagram(bytes: Uint8Array): Result<NattDatagram, ParseError> {
  return catchParseError((): NattDatagram => {
    const buf = toBuffer(bytes);
    const r = ByteReader.of(buf, 0, undefined);
    if (buf.length === 1 && buf[0] === 0xff) return { kind: 'keepalive' };
    if (buf.length < NON_ESP_MARKER_LENGTH) {
      r.fail('bad-natt-datagram', `${buf.length}-octet datagram is neither a NAT-keepalive nor IKE or ESP`);
    }
    const marker = r.u32();
    if (marker === 0) return { kind: 'ike', message: buf.subarray(NON_ESP_MARKER_LENGTH) };
    if (buf.length < ESP_HEADER_LENGTH) {
      r.fail('bad-natt-datagram', `${buf.length}-octet datagram with a non-zero SPI is too short for ESP`, 0);
    }
    return { kind: 'esp' };
  });
}

/** An IKE message as sent on port 4500: non-ESP marker || message. */
export function encodeNattIke(message: Uint8Array): Buffer {
  return Buffer.concat([NON_ESP_MARKER, message]);
}
