import { describe, expect, it } from 'vitest';
import {
  decodePayloadChain,
  encodePayloadChain,
  firstUnsupportedCriticalPayload,
  noncePayload,
  PayloadType,
  vendorIdPayload,
  type UnknownPayload,
} from '../../src/wire/index.js';
import { expectOk, expectParseError } from './expect-parse-error.js';
import { hex } from './hex.js';

const BASE = 28;

describe('payload chain and generic payload header (RFC 7296 3.2)', () => {
  it('an empty chain is no bytes and type 0', () => {
    expect(expectOk(decodePayloadChain(Buffer.alloc(0), PayloadType.NONE, BASE))).toEqual([]);
    expect(encodePayloadChain([])).toEqual({ firstPayloadType: 0, bytes: Buffer.alloc(0) });
  });

  it('keeps the critical bit and RESERVED bits of known payloads', () => {
    const bytes = hex`
      2b 81 00 05  aa   # Nonce: Next Payload 43, C=1 and RESERVED 0x01, length 5
      00 7f 00 04       # V: C=0, RESERVED 0x7f, length 4
    `;
    const payloads = expectOk(decodePayloadChain(bytes, PayloadType.Nonce, BASE));
    expect(payloads).toEqual([
      { ...noncePayload(hex`aa`), critical: true, headerReserved: 1 },
      { ...vendorIdPayload(Buffer.alloc(0)), headerReserved: 0x7f },
    ]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
    expect(firstUnsupportedCriticalPayload(payloads)).toBeUndefined();
  });

  describe('unknown payloads (RFC 7296 2.5)', () => {
    const bytes = hex`
      80 00 00 06  01 02   # type 99 (unknown), Next Payload 128, C=0, length 6
      28 80 00 05  03      # type 128 (unknown), Next Payload 40, C=1, length 5
      00 00 00 05  04      # Nonce
    `;

    it('are kept with their body and critical bit, and re-encode exactly', () => {
      const payloads = expectOk(decodePayloadChain(bytes, 99, BASE));
      const expected: UnknownPayload[] = [
        { unknown: true, type: 99, critical: false, body: hex`0102` },
        { unknown: true, type: 128, critical: true, body: hex`03` },
      ];
      expect(payloads).toEqual([...expected, noncePayload(hex`04`)]);
      expect(encodePayloadChain(payloads)).toEqual({ firstPayloadType: 99, bytes });
    });

    it('firstUnsupportedCriticalPayload names the first critical one only', () => {
      const payloads = expectOk(decodePayloadChain(bytes, 99, BASE));
      expect(firstUnsupportedCriticalPayload(payloads)).toBe(128);
      expect(firstUnsupportedCriticalPayload(payloads.slice(0, 1))).toBeUndefined();
    });

    it('a known type is never decoded as unknown, and cannot be encoded as one', () => {
      expect(() =>
        encodePayloadChain([{ unknown: true, type: PayloadType.Nonce, critical: false, body: Buffer.alloc(0) }]),
      ).toThrow(RangeError);
    });
  });

  describe('errors', () => {
    it('Payload Length below 4 is bad-payload-length at the length field', () => {
      expectParseError(decodePayloadChain(hex`00 00 00 03`, PayloadType.Nonce, BASE), {
        code: 'bad-payload-length',
        offset: 30,
        payloadType: PayloadType.Nonce,
      });
    });

    it('Payload Length beyond the remaining bytes is bad-payload-length', () => {
      expectParseError(decodePayloadChain(hex`2b 00 00 05  aa  00 00 00 09  bb`, PayloadType.Nonce, BASE), {
        code: 'bad-payload-length',
        offset: 35,
        payloadType: PayloadType.V,
      });
    });

    it('a chain that announces a payload the bytes do not hold is truncated', () => {
      expectParseError(decodePayloadChain(hex`2b 00 00 05  aa`, PayloadType.Nonce, BASE), {
        code: 'truncated',
        offset: 33,
        payloadType: PayloadType.V,
      });
      expectParseError(decodePayloadChain(hex`2b 00`, PayloadType.Nonce, BASE), {
        code: 'truncated',
        offset: 30,
        payloadType: PayloadType.Nonce,
      });
      expectParseError(decodePayloadChain(Buffer.alloc(0), PayloadType.Nonce, 100), {
        code: 'truncated',
        offset: 100,
        payloadType: PayloadType.Nonce,
      });
    });

    it('bytes after Next Payload 0 are trailing-data', () => {
      expectParseError(decodePayloadChain(hex`00 00 00 05  aa  bb`, PayloadType.Nonce, BASE), {
        code: 'trailing-data',
        offset: 33,
        payloadType: PayloadType.Nonce,
      });
      expectParseError(decodePayloadChain(hex`ff`, PayloadType.NONE, BASE), {
        code: 'trailing-data',
        offset: 28,
        payloadType: undefined,
      });
    });
  });

  it('refuses to encode a payload longer than 65535 octets', () => {
    expect(() => encodePayloadChain([noncePayload(Buffer.alloc(65532))])).toThrow(RangeError);
    expect(encodePayloadChain([noncePayload(Buffer.alloc(65531))]).bytes.length).toBe(65535);
  });
});
