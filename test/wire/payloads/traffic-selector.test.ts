import { describe, expect, it } from 'vitest';
import {
  addressRange,
  decodePayloadChain,
  encodePayloadChain,
  formatIp,
  isAddressRange,
  PayloadType,
  TsType,
  tsPayload,
  type TsPayload,
} from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';
import { withU16, withU8 } from '../mutate.js';

const BASE = 28;
const TSi = PayloadType.TSi;

// RFC 7296 3.13: TSi with an IPv4 range (any protocol, any port) and an IPv6 range (TCP 443).
const TS = hex`
  2d 00 00 40         # generic header: Next Payload 45 (TSr), length 64
  02 00 00 00         # Number of TSs 2, RESERVED                               @32
  07                  # TS Type 7 TS_IPV4_ADDR_RANGE                            @36
  00                  # IP Protocol ID 0 (any)
  00 10               # Selector Length 16
  00 00 ff ff         # Start Port 0, End Port 65535
  0a 00 00 00         # Starting Address 10.0.0.0
  0a 00 00 ff         # Ending Address 10.0.0.255
  08                  # TS Type 8 TS_IPV6_ADDR_RANGE                            @52
  06                  # IP Protocol ID 6 (TCP)
  00 28               # Selector Length 40
  01 bb 01 bb         # ports 443..443
  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 00   # 2001:db8::
  20 01 0d b8 00 00 00 00 ff ff ff ff ff ff ff ff   # 2001:db8::ffff:ffff:ffff:ffff
  00 00 00 08         # TSr, last, length 8                                     @92
  00 00 00 00         # no selectors
`;

describe('TSi / TSr payloads (RFC 7296 3.13)', () => {
  it('decodes IPv4 and IPv6 address ranges', () => {
    const payloads = expectOk(decodePayloadChain(TS, TSi, BASE));
    expect(payloads).toEqual([
      tsPayload(TSi, [
        addressRange('10.0.0.0', '10.0.0.255'),
        addressRange('2001:db8::', '2001:db8::ffff:ffff:ffff:ffff', { ipProtocolId: 6, startPort: 443, endPort: 443 }),
      ]),
      tsPayload(PayloadType.TSr, []),
    ]);
    const ts = (payloads[0] as TsPayload).selectors[1]!;
    expect(isAddressRange(ts) && formatIp(ts.endAddress)).toBe('2001:db8::ffff:ffff:ffff:ffff');
    expect(encodePayloadChain(payloads).bytes.equals(TS)).toBe(true);
  });

  it('keeps other TS types opaque (TS_SECLABEL) and RESERVED', () => {
    const bytes = hex`
      00 00 00 0d   # length 13
      01 00 00 2a   # 1 selector, RESERVED 0x2a
      0a            # TS Type 10 TS_SECLABEL
      00            # RESERVED
      00 05         # Selector Length 5
      73            # security label "s"
    `;
    const payloads = expectOk(decodePayloadChain(bytes, TSi, BASE));
    expect(payloads).toEqual([
      { type: TSi, reserved: 0x2a, selectors: [{ tsType: TsType.TS_SECLABEL, octet1: 0, data: hex`73` }] },
    ]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  describe('errors', () => {
    it('Number of TSs that disagrees with the selectors is count-mismatch', () => {
      expectParseError(decodePayloadChain(withU8(TS, BASE, 32, 3), TSi, BASE), {
        code: 'count-mismatch',
        offset: 32,
        payloadType: TSi,
      });
      expectParseError(decodePayloadChain(withU8(TS, BASE, 96, 1), TSi, BASE), {
        code: 'count-mismatch',
        offset: 96,
        payloadType: PayloadType.TSr,
      });
    });

    it('an address range whose Selector Length is not 16 / 40 is bad-selector-length', () => {
      // Selector Length 40 on the IPv4 range: fits the payload but not the type.
      expectParseError(decodePayloadChain(withU16(TS, BASE, 38, 40), TSi, BASE), {
        code: 'bad-selector-length',
        offset: 38,
        payloadType: TSi,
      });
      // Swap the types: IPv6 with length 16.
      expectParseError(decodePayloadChain(withU8(TS, BASE, 36, 8), TSi, BASE), {
        code: 'bad-selector-length',
        offset: 38,
        payloadType: TSi,
      });
    });

    it('Selector Length beyond the payload or below 4 is length-mismatch', () => {
      expectParseError(decodePayloadChain(withU16(TS, BASE, 54, 41), TSi, BASE), {
        code: 'length-mismatch',
        offset: 54,
        payloadType: TSi,
      });
      expectParseError(decodePayloadChain(withU16(TS, BASE, 38, 3), TSi, BASE), {
        code: 'length-mismatch',
        offset: 38,
        payloadType: TSi,
      });
    });
  });

  it('addressRange refuses mixed families and bad text', () => {
    expect(() => addressRange('10.0.0.1', '::1')).toThrow(RangeError);
    expect(() => addressRange('10.0.0.256', '10.0.0.1')).toThrow(RangeError);
  });
});
