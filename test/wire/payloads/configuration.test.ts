import { describe, expect, it } from 'vitest';
import { CfgType, cpPayload, decodePayloadChain, encodePayloadChain, PayloadType } from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;
const CP = PayloadType.CP;

describe('CP payload (RFC 7296 3.15)', () => {
  it('CFG_REQUEST with empty attributes', () => {
    const bytes = hex`
      00 00 00 10   # length 16
      01 00 00 00   # CFG Type 1 (CFG_REQUEST), RESERVED
      00 01 00 00   # R 0, INTERNAL_IP4_ADDRESS (1), Length 0
      00 03 00 00   # INTERNAL_IP4_DNS (3), Length 0
    `;
    const payloads = expectOk(decodePayloadChain(bytes, CP, BASE));
    expect(payloads).toEqual([
      cpPayload(CfgType.CFG_REQUEST, [
        { attributeType: 1, value: Buffer.alloc(0) },
        { attributeType: 3, value: Buffer.alloc(0) },
      ]),
    ]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('CFG_REPLY with values, the R bit and RESERVED kept', () => {
    const bytes = hex`
      00 00 00 14   # length 20
      02 00 00 01   # CFG_REPLY, RESERVED 1
      00 01 00 04   # INTERNAL_IP4_ADDRESS, 4 octets
      c0 00 02 64   # 192.0.2.100
      80 19 00 00   # R bit set, type 25, Length 0
    `;
    const payloads = expectOk(decodePayloadChain(bytes, CP, BASE));
    expect(payloads).toEqual([
      {
        ...cpPayload(CfgType.CFG_REPLY, [
          { attributeType: 1, value: hex`c0000264` },
          { attributeType: 25, value: Buffer.alloc(0), reserved: 1 },
        ]),
        reserved: 1,
      },
    ]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('an attribute Length beyond the payload is length-mismatch', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 0e  02 00 00 00  00 01 00 04  c0 00`, CP, BASE), {
      code: 'length-mismatch',
      offset: 38,
      payloadType: CP,
    });
  });

  it('half an attribute header is truncated', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 0a  01 00 00 00  00 01`, CP, BASE), {
      code: 'truncated',
      offset: 38,
      payloadType: CP,
    });
  });
});
