/**
 * RFC 7296 3.1: the 28-octet IKE header.
 *
 *                        1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       IKE SA Initiator's SPI                  |
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                       IKE SA Responder's SPI                  |
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                          Message ID                           |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                            Length                             |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Next Payload and Length are not in the model: they are derived from the payloads on encode.
 */
import { ExchangeType } from './iana.js';
import type { ByteReader } from './reader.js';
import { ByteWriter } from './writer.js';

export const IKE_HEADER_LENGTH = 28;
export const IKE_SPI_LENGTH = 8;
/** RFC 7296 3.1: this document's Major Version. */
export const IKEV2_MAJOR_VERSION = 2;

// RFC 7296 3.1 Flags: bits are numbered from the most significant (bit 0 = 0x80).
const FLAG_INITIATOR = 0x08; // bit 4, I
const FLAG_VERSION = 0x10; // bit 3, V
const FLAG_RESPONSE = 0x20; // bit 2, R
const FLAG_KNOWN = FLAG_INITIATOR | FLAG_VERSION | FLAG_RESPONSE;

/** Offsets of the header fields looked at before a datagram is decoded. */
const SPI_R_OFFSET = 8;
const EXCHANGE_TYPE_OFFSET = 18;
const FLAGS_OFFSET = 19;
const MESSAGE_ID_OFFSET = 20;

/**
 * Whether a datagram's header is that of a fresh IKE_SA_INIT request (RFC 7296 2.2, 2.6): from
 * the original initiator, not a response, SPIr zero, Message ID 0. Reads six fields, decodes
 * nothing: the supervisor's first look at a datagram, before it is peeked at or decoded.
 */
export function isNewIkeSaInitRequest(b: Uint8Array): boolean {
  if (b.length < IKE_HEADER_LENGTH || b[EXCHANGE_TYPE_OFFSET] !== ExchangeType.IKE_SA_INIT) return false;
  const flags = b[FLAGS_OFFSET]!;
  if ((flags & FLAG_INITIATOR) === 0 || (flags & FLAG_RESPONSE) !== 0) return false;
  for (let i = MESSAGE_ID_OFFSET; i < MESSAGE_ID_OFFSET + 4; i++) if (b[i] !== 0) return false;
  for (let i = SPI_R_OFFSET; i < SPI_R_OFFSET + IKE_SPI_LENGTH; i++) if (b[i] !== 0) return false;
  return true;
}

export interface IkeHeaderFlags {
  /** I: set in messages sent by the original initiator of the IKE SA. */
  initiator: boolean;
  /** V: the sender can speak a higher major version; MUST be cleared for IKEv2 (kept for round trip). */
  version: boolean;
  /** R: this message is a response. */
  response: boolean;
  /**
   * RFC 7296 3.1: the other five bits "MUST be cleared when sending and MUST be ignored on
   * receipt". Kept (as the flags byte with I, V and R masked out) so that a message re-encodes
   * to the same bytes; omitted when zero.
   */
  reserved?: number;
}

export interface IkeHeader {
  /** IKE SA Initiator's SPI, 8 octets. */
  spiI: Buffer;
  /** IKE SA Responder's SPI, 8 octets (zero in the first IKE_SA_INIT request). */
  spiR: Buffer;
  majorVersion: number;
  minorVersion: number;
  /** ExchangeType registry value (kept as a number: unknown exchanges still decode). */
  exchangeType: number;
  flags: IkeHeaderFlags;
  messageId: number;
}

/** Fields that the payload chain decoder needs, beside the model. */
export interface DecodedHeaderFields {
  header: IkeHeader;
  firstPayloadType: number;
  length: number;
}

/**
 * Reads the 28 header octets. Version and length checks are the caller's (message.ts), which
 * knows the datagram length; this function only reads.
 */
export function readHeader(r: ByteReader): DecodedHeaderFields {
  const spiI = r.bytes(IKE_SPI_LENGTH);
  const spiR = r.bytes(IKE_SPI_LENGTH);
  const firstPayloadType = r.u8();
  const version = r.u8();
  const exchangeType = r.u8();
  const flagsByte = r.u8();
  const messageId = r.u32();
  const length = r.u32();
  const flags: IkeHeaderFlags = {
    initiator: (flagsByte & FLAG_INITIATOR) !== 0,
    version: (flagsByte & FLAG_VERSION) !== 0,
    response: (flagsByte & FLAG_RESPONSE) !== 0,
  };
  const reserved = flagsByte & ~FLAG_KNOWN;
  if (reserved !== 0) flags.reserved = reserved;
  return {
    header: {
      spiI,
      spiR,
      majorVersion: version >>> 4,
      minorVersion: version & 0x0f,
      exchangeType,
      flags,
      messageId,
    },
    firstPayloadType,
    length,
  };
}

export function writeHeader(w: ByteWriter, header: IkeHeader, firstPayloadType: number, totalLength: number): void {
  checkSpi(header.spiI, 'spiI');
  checkSpi(header.spiR, 'spiR');
  w.bytes(header.spiI);
  w.bytes(header.spiR);
  w.u8(firstPayloadType, 'Next Payload');
  if (header.majorVersion > 0xf || header.minorVersion > 0xf) {
    throw new RangeError(`version ${header.majorVersion}.${header.minorVersion} does not fit 4 bits each`);
  }
  w.u8((header.majorVersion << 4) | header.minorVersion, 'version');
  w.u8(header.exchangeType, 'Exchange Type');
  w.u8(flagsByte(header.flags), 'Flags');
  w.u32(header.messageId, 'Message ID');
  w.u32(totalLength, 'Length');
}

/**
 * The 28 header octets with Next Payload and Length given explicitly: the first part of the
 * associated data of an SK payload (RFC 7296 3.14, RFC 5282 5.1).
 */
export function encodeHeader(header: IkeHeader, firstPayloadType: number, totalLength: number): Buffer {
  const w = new ByteWriter(IKE_HEADER_LENGTH);
  writeHeader(w, header, firstPayloadType, totalLength);
  return w.finish();
}

function flagsByte(flags: IkeHeaderFlags): number {
  const reserved = flags.reserved ?? 0;
  if ((reserved & FLAG_KNOWN) !== 0) {
    throw new RangeError(`flags.reserved 0x${reserved.toString(16)} overlaps the I, V or R bit`);
  }
  return (
    reserved |
    (flags.initiator ? FLAG_INITIATOR : 0) |
    (flags.version ? FLAG_VERSION : 0) |
    (flags.response ? FLAG_RESPONSE : 0)
  );
}

function checkSpi(spi: Uint8Array, field: string): void {
  if (spi.length !== IKE_SPI_LENGTH) throw new RangeError(`${field} is ${spi.length} octets, not 8`);
}
