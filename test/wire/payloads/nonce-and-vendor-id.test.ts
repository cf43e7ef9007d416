import { describe, expect, it } from 'vitest';
import { decodePayloadChain, encodePayloadChain, noncePayload, PayloadType, vendorIdPayload } from '../../../src/wire/index.js';
import { expectOk } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;

describe('Nonce (RFC 7296 3.9) and Vendor ID (3.12) payloads', () => {
  it('decodes a Nonce followed by a Vendor ID', () => {
    const bytes = hex`
      2b 00 00 14                                       # Next Payload 43 (V), length 20
      00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff   # Nonce Data, 16 octets
      00 00 00 08                                       # V, last, length 8
      73 77 61 6e                                       # Vendor ID "swan"
    `;
    const payloads = expectOk(decodePayloadChain(bytes, PayloadType.Nonce, BASE));
    expect(payloads).toEqual([noncePayload(hex`00112233445566778899aabbccddeeff`), vendorIdPayload(Buffer.from('swan'))]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('accepts nonces outside 16..256 octets: the size rule belongs to the protocol layer', () => {
    expect(expectOk(decodePayloadChain(hex`00 00 00 04`, PayloadType.Nonce, BASE))).toEqual([noncePayload(Buffer.alloc(0))]);
    const big = Buffer.concat([hex`00 00 01 08`, Buffer.alloc(260, 7)]);
    expect(expectOk(decodePayloadChain(big, PayloadType.Nonce, BASE))).toEqual([noncePayload(Buffer.alloc(260, 7))]);
  });

  it('an empty Vendor ID is kept', () => {
    expect(expectOk(decodePayloadChain(hex`00 00 00 04`, PayloadType.V, BASE))).toEqual([vendorIdPayload(Buffer.alloc(0))]);
  });
});
