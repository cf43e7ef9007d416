import { describe, expect, it } from 'vitest';
import { decodePayloadChain, encodePayloadChain, PayloadType, skfPayload, skPayload } from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';
import { withU16 } from '../mutate.js';

const BASE = 28;

describe('SK payload (RFC 7296 3.14)', () => {
  it('is an opaque body whose Next Payload is the first inner payload', () => {
    const bytes = hex`
      23 00 00 14                                       # Next Payload 35 (IDi, inside), length 20
      00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f   # IV || ciphertext || ICV, opaque here
    `;
    const payloads = expectOk(decodePayloadChain(bytes, PayloadType.SK, BASE));
    expect(payloads).toEqual([skPayload(PayloadType.IDi, hex`000102030405060708090a0b0c0d0e0f`)]);
    expect(encodePayloadChain(payloads)).toEqual({ firstPayloadType: PayloadType.SK, bytes });
  });

  it('ends the chain: bytes after it are trailing-data', () => {
    const bytes = hex`23 00 00 06  aa bb  cc`;
    expectParseError(decodePayloadChain(bytes, PayloadType.SK, BASE), {
      code: 'trailing-data',
      offset: 34,
      payloadType: PayloadType.SK,
    });
  });

  it('must be last when encoding', () => {
    expect(() => encodePayloadChain([skPayload(0, Buffer.alloc(0)), { type: PayloadType.V, data: Buffer.alloc(0) }])).toThrow(
      RangeError,
    );
  });
});

describe('SKF payload (RFC 7383 2.5)', () => {
  const SKF = hex`
    21 00 00 10     # Next Payload 33 (SA, first inner payload), length 16
    00 01           # Fragment Number 1                                   @32
    00 03           # Total Fragments 3
    de ad be ef ca fe ba be   # IV || ciphertext || ICV
  `;

  it('decodes fragment number, total and the opaque body', () => {
    const payloads = expectOk(decodePayloadChain(SKF, PayloadType.SKF, BASE));
    expect(payloads).toEqual([
      skfPayload({ firstInnerPayload: PayloadType.SA, fragmentNumber: 1, totalFragments: 3, body: hex`deadbeefcafebabe` }),
    ]);
    expect(encodePayloadChain(payloads).bytes.equals(SKF)).toBe(true);
  });

  it('keeps a non-zero Next Payload on a later fragment (that rule is the protocol layer\'s)', () => {
    const later = withU16(SKF, BASE, 32, 2);
    const [p] = expectOk(decodePayloadChain(later, PayloadType.SKF, BASE));
    expect(p).toMatchObject({ firstInnerPayload: PayloadType.SA, fragmentNumber: 2 });
  });

  it('Fragment Number 0 or above Total Fragments is bad-fragment-number', () => {
    for (const fragmentNumber of [0, 4]) {
      expectParseError(decodePayloadChain(withU16(SKF, BASE, 32, fragmentNumber), PayloadType.SKF, BASE), {
        code: 'bad-fragment-number',
        offset: 32,
        payloadType: PayloadType.SKF,
      });
    }
  });

  it('a body shorter than the fragment fields is truncated', () => {
    expectParseError(decodePayloadChain(hex`21 00 00 06  00 01`, PayloadType.SKF, BASE), {
      code: 'truncated',
      offset: 34,
      payloadType: PayloadType.SKF,
    });
  });
});
