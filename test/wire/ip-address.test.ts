import fc from 'fast-check';
import { isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatIp, parseIp } from '../../src/wire/index.js';
import { hex } from './hex.js';

describe('IP address text (ID and TS accessors)', () => {
  it('IPv4', () => {
    expect(formatIp(hex`c0000201`)).toBe('192.0.2.1');
    expect(parseIp('192.0.2.1')).toEqual(hex`c0000201`);
    expect(parseIp('256.0.0.1')).toBeUndefined();
  });

  it('IPv6 in RFC 5952 canonical form', () => {
    const cases: [string, string][] = [
      ['20010db8000000000000000000000001', '2001:db8::1'],
      ['00000000000000000000000000000000', '::'],
      ['00000000000000000000000000000001', '::1'],
      ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'], // first of two equal runs
      ['20010000000000010000000000000001', '2001:0:0:1::1'], // longest run wins
      ['20010db8000100010001000100010001', '2001:db8:1:1:1:1:1:1'], // a single zero group is not compressed
      ['20010db8000000010001000100010000', '2001:db8:0:1:1:1:1:0'],
      ['fe800000000000000000000000000000', 'fe80::'],
    ];
    for (const [bytes, text] of cases) {
      expect(formatIp(Buffer.from(bytes, 'hex'))).toBe(text);
      expect(parseIp(text)).toEqual(Buffer.from(bytes, 'hex'));
    }
  });

  it('parses IPv6 with an embedded IPv4 tail and upper case', () => {
    expect(parseIp('::ffff:192.0.2.1')).toEqual(hex`00000000000000000000ffffc0000201`);
    expect(parseIp('64:FF9B::10.0.0.1')).toEqual(hex`0064ff9b0000000000000000 0a000001`);
    expect(parseIp('1:2:3:4:5:6:7.8.9.10')).toEqual(hex`0001000200030004000500060708090a`);
    expect(parseIp('not an address')).toBeUndefined();
    expect(parseIp('1::2::3')).toBeUndefined();
  });

  it('IPv4 text is what node:net accepts, and nothing else: no leading zeros, four octets of 0-255', () => {
    for (const text of ['0.0.0.0', '255.255.255.255', '10.0.0.1', '1.2.3.4']) expect(parseIp(text), text).toEqual(Buffer.from(text.split('.').map(Number)));
    for (const text of ['01.2.3.4', '1.2.3.04', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', '1.2.3.256', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.-4', '1.2.3.4/32', '', '1234.1.1.1', '0x1.2.3.4']) {
      expect(parseIp(text), JSON.stringify(text)).toBeUndefined();
    }
    // and against node:net on strings built of the characters that matter
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.]{0,16}$/), (text) => {
        expect(parseIp(text) !== undefined).toBe(isIPv4(text) || isIPv6(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('formatIp refuses lengths other than 4 and 16', () => {
    expect(() => formatIp(hex`0102`)).toThrow(RangeError);
  });

  it('parseIp(formatIp(b)) = b for every address', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })), (b) => {
        expect(parseIp(formatIp(b))).toEqual(Buffer.from(b));
      }),
      { numRuns: 500 },
    );
  });
});
