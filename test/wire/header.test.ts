import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeHeader, encodeMessage, ExchangeType, type IkeHeader } from '../../src/wire/index.js';
import { expectOk, expectParseError } from './expect-parse-error.js';
import { hex } from './hex.js';

// RFC 7296 3.1, a header with no payloads (Next Payload 0, Length 28).
const EMPTY_IKE_SA_INIT = hex`
  01 02 03 04 05 06 07 08   # IKE SA Initiator's SPI
  00 00 00 00 00 00 00 00   # IKE SA Responder's SPI (zero in the first IKE_SA_INIT request)
  00                        # Next Payload: none
  20                        # MjVer 2, MnVer 0
  22                        # Exchange Type 34 IKE_SA_INIT
  08                        # Flags: I (bit 4, 0x08)
  00 00 00 00               # Message ID 0
  00 00 00 1c               # Length 28
`;

const HEADER: IkeHeader = {
  spiI: hex`0102030405060708`,
  spiR: hex`0000000000000000`,
  majorVersion: 2,
  minorVersion: 0,
  exchangeType: ExchangeType.IKE_SA_INIT,
  flags: { initiator: true, version: false, response: false },
  messageId: 0,
};

describe('IKE header (RFC 7296 3.1)', () => {
  it('decodes every field', () => {
    const msg = expectOk(decodeMessage(EMPTY_IKE_SA_INIT));
    expect(msg).toEqual({ header: HEADER, payloads: [] });
    expect(encodeMessage(msg).equals(EMPTY_IKE_SA_INIT)).toBe(true);
  });

  it('reads R and V flags, minor version and a 32-bit Message ID', () => {
    const bytes = hex`
      1111111111111111 2222222222222222
      00 2f              # MjVer 2, MnVer 15
      25                 # INFORMATIONAL
      30                 # Flags: R (0x20) | V (0x10)
      ff ff ff fe        # Message ID 2^32 - 2
      00 00 00 1c`;
    const { header } = expectOk(decodeMessage(bytes));
    expect(header).toEqual({
      spiI: Buffer.alloc(8, 0x11),
      spiR: Buffer.alloc(8, 0x22),
      majorVersion: 2,
      minorVersion: 15,
      exchangeType: ExchangeType.INFORMATIONAL,
      flags: { initiator: false, version: true, response: true },
      messageId: 0xfffffffe,
    });
    expect(encodeMessage({ header, payloads: [] }).equals(bytes)).toBe(true);
  });

  it('keeps RESERVED flag bits a peer set, so the message re-encodes exactly', () => {
    // Flags 0x89: X bits 0x80 and 0x01 set, plus I. RFC 7296 3.1: "MUST be ignored on receipt".
    const bytes = hex`0102030405060708 0000000000000000 00 20 22 89 00000000 0000001c`;
    const { header } = expectOk(decodeMessage(bytes));
    expect(header.flags).toEqual({ initiator: true, version: false, response: false, reserved: 0x81 });
    expect(encodeMessage({ header, payloads: [] }).equals(bytes)).toBe(true);
  });

  it('encodeHeader writes Next Payload and Length as given', () => {
    expect(encodeHeader(HEADER, 0, 28).equals(EMPTY_IKE_SA_INIT)).toBe(true);
    expect(encodeHeader(HEADER, 46, 0x1234)).toEqual(hex`0102030405060708 0000000000000000 2e 20 22 08 00000000 00001234`);
  });

  it('refuses to encode what the header cannot carry', () => {
    expect(() => encodeHeader({ ...HEADER, spiI: Buffer.alloc(7) }, 0, 28)).toThrow(RangeError);
    expect(() => encodeHeader({ ...HEADER, minorVersion: 16 }, 0, 28)).toThrow(RangeError);
    expect(() => encodeHeader({ ...HEADER, flags: { ...HEADER.flags, reserved: 0x08 } }, 0, 28)).toThrow(RangeError);
    expect(() => encodeHeader({ ...HEADER, messageId: 2 ** 32 }, 0, 28)).toThrow(RangeError);
  });

  describe('errors', () => {
    it('a datagram shorter than the header is truncated', () => {
      expectParseError(decodeMessage(EMPTY_IKE_SA_INIT.subarray(0, 27)), {
        code: 'truncated',
        offset: 27,
        payloadType: undefined,
      });
      expectParseError(decodeMessage(new Uint8Array(0)), { code: 'truncated', offset: 0, payloadType: undefined });
    });

    it('Major Version other than 2 is invalid-major-version at the version octet', () => {
      for (const version of [0x10, 0x30, 0xf0, 0x00]) {
        const bytes = Buffer.from(EMPTY_IKE_SA_INIT);
        bytes[17] = version;
        expectParseError(decodeMessage(bytes), { code: 'invalid-major-version', offset: 17, payloadType: undefined });
      }
    });

    it('Length must equal the datagram length', () => {
      const longer = Buffer.from(EMPTY_IKE_SA_INIT);
      longer.writeUInt32BE(29, 24);
      expectParseError(decodeMessage(longer), { code: 'bad-header-length', offset: 24, payloadType: undefined });

      const withExtra = Buffer.concat([EMPTY_IKE_SA_INIT, hex`00000000`]);
      expectParseError(decodeMessage(withExtra), { code: 'bad-header-length', offset: 24, payloadType: undefined });

      const below = Buffer.from(EMPTY_IKE_SA_INIT);
      below.writeUInt32BE(12, 24);
      expectParseError(decodeMessage(below), { code: 'bad-header-length', offset: 24, payloadType: undefined });
    });

    it('bytes after a chain that ended in the header are trailing-data', () => {
      const bytes = hex`0102030405060708 0000000000000000 00 20 22 08 00000000 00000020 deadbeef`;
      expectParseError(decodeMessage(bytes), { code: 'trailing-data', offset: 28, payloadType: undefined });
    });

    it('a Uint8Array that is not a Buffer decodes the same (and at a non-zero byteOffset)', () => {
      const backing = new Uint8Array(EMPTY_IKE_SA_INIT.length + 3);
      backing.set(EMPTY_IKE_SA_INIT, 3);
      const view = new Uint8Array(backing.buffer, 3, EMPTY_IKE_SA_INIT.length);
      expect(expectOk(decodeMessage(view))).toEqual({ header: HEADER, payloads: [] });
    });
  });
});
