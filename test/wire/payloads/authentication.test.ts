import { describe, expect, it } from 'vitest';
import { AuthMethod, authPayload, decodePayloadChain, encodePayloadChain, PayloadType } from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;
const AUTH = PayloadType.AUTH;

describe('AUTH payload (RFC 7296 3.8)', () => {
  it('decodes method and Authentication Data', () => {
    const bytes = hex`
      00 00 00 0c   # length 12
      02 00 00 00   # Auth Method 2 (Shared Key Message Integrity Code), RESERVED
      de ad be ef   # Authentication Data
    `;
    const payloads = expectOk(decodePayloadChain(bytes, AUTH, BASE));
    expect(payloads).toEqual([authPayload(AuthMethod.SHARED_KEY_MIC, hex`deadbeef`)]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('keeps RESERVED', () => {
    const bytes = hex`00 00 00 09  0e 00 01 00  aa`;
    const payloads = expectOk(decodePayloadChain(bytes, AUTH, BASE));
    expect(payloads).toEqual([{ ...authPayload(AuthMethod.DIGITAL_SIGNATURE, hex`aa`), reserved: 0x100 }]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('a body shorter than method + RESERVED is truncated', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 06  02 00`, AUTH, BASE), { code: 'truncated', offset: 33, payloadType: AUTH });
  });
});
