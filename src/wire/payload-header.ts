/**
 * RFC 7296 3.2: the generic payload header that starts every payload.
 *
 *                        1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | Next Payload  |C|  RESERVED   |         Payload Length        |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Next Payload and Payload Length are derived on encode, the C bit and RESERVED are kept.
 */
import { ByteWriter } from './writer.js';

export const PAYLOAD_HEADER_LENGTH = 4;
/** Payload Length is 16 bits and includes the generic header. */
export const MAX_PAYLOAD_LENGTH = 0xffff;

const CRITICAL_BIT = 0x80;

/** Fields of the generic header that every payload model carries (omitted when zero). */
export interface PayloadHeaderFields {
  /**
   * RFC 7296 3.2: the critical bit "MUST be ignored by the recipient if the recipient understands
   * the payload type" — kept on known payloads only so that the message re-encodes byte for byte.
   */
  critical?: boolean;
  /** The 7 RESERVED bits after C; MUST be sent as zero, kept for round trip. */
  headerReserved?: number;
}

export interface GenericPayloadHeader {
  nextPayload: number;
  critical: boolean;
  headerReserved: number;
  payloadLength: number;
}

export function writePayloadHeader(
  w: ByteWriter,
  nextPayload: number,
  payloadLength: number,
  fields: PayloadHeaderFields,
): void {
  w.u8(nextPayload, 'Next Payload');
  const reserved = fields.headerReserved ?? 0;
  if (reserved > 0x7f || reserved < 0) throw new RangeError(`headerReserved ${reserved} does not fit 7 bits`);
  w.u8((fields.critical ? CRITICAL_BIT : 0) | reserved, 'C/RESERVED');
  w.u16(payloadLength, 'Payload Length');
}

/** The 4 generic header octets on their own (e.g. the SK header in associated data). */
export function encodePayloadHeader(
  nextPayload: number,
  payloadLength: number,
  fields: PayloadHeaderFields = {},
): Buffer {
  const w = new ByteWriter(PAYLOAD_HEADER_LENGTH);
  writePayloadHeader(w, nextPayload, payloadLength, fields);
  return w.finish();
}

/** Splits the second octet: bit 7 is C, bits 0-6 RESERVED. */
export function splitCriticalOctet(octet: number): { critical: boolean; headerReserved: number } {
  return { critical: (octet & CRITICAL_BIT) !== 0, headerReserved: octet & 0x7f };
}
