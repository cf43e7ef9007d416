import { describe, expect, it } from 'vitest';
import { decodePayloadChain, DhId, encodePayloadChain, kePayload, PayloadType } from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;
const KE = PayloadType.KE;

describe('KE payload (RFC 7296 3.4)', () => {
  it('decodes group, RESERVED and Key Exchange Data', () => {
    const bytes = hex`
      00 00 00 0c   # generic header, length 12
      00 13         # Diffie-Hellman Group Num 19 (ECP_256)
      00 00         # RESERVED
      aa bb cc dd   # Key Exchange Data (truncated for the test; length per group is not the codec's)
    `;
    const payloads = expectOk(decodePayloadChain(bytes, KE, BASE));
    expect(payloads).toEqual([kePayload(DhId.ECP_256, hex`aabbccdd`)]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('keeps non-zero RESERVED', () => {
    const bytes = hex`00 00 00 09  00 1f 12 34  ee`;
    const payloads = expectOk(decodePayloadChain(bytes, KE, BASE));
    expect(payloads).toEqual([{ ...kePayload(DhId.CURVE25519, hex`ee`), reserved: 0x1234 }]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('KE without Key Exchange Data is empty-ke-data', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 08  00 13 00 00`, KE, BASE), {
      code: 'empty-ke-data',
      offset: 36,
      payloadType: KE,
    });
  });

  it('a KE body shorter than group + RESERVED is truncated at the payload end', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 06  00 13`, KE, BASE), {
      code: 'truncated',
      offset: 34,
      payloadType: KE,
    });
  });
});
