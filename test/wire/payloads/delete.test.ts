import { describe, expect, it } from 'vitest';
import { decodePayloadChain, deletePayload, encodePayloadChain, PayloadType, ProtocolId } from '../../../src/wire/index.js';
import { expectOk, expectParseError } from '../expect-parse-error.js';
import { hex } from '../hex.js';

const BASE = 28;
const D = PayloadType.D;

describe('Delete payload (RFC 7296 3.11)', () => {
  it('ESP SAs: SPI Size 4, a list of SPIs', () => {
    const bytes = hex`
      00 00 00 10   # length 16
      03            # Protocol ID ESP
      04            # SPI Size 4
      00 02         # Num of SPIs 2
      c0 ff ee 01   # SPI
      c0 ff ee 02   # SPI
    `;
    const payloads = expectOk(decodePayloadChain(bytes, D, BASE));
    expect(payloads).toEqual([deletePayload(ProtocolId.ESP, [hex`c0ffee01`, hex`c0ffee02`])]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('the IKE SA: Protocol ID 1, no SPIs', () => {
    const bytes = hex`00 00 00 08  01 00 00 00`;
    const payloads = expectOk(decodePayloadChain(bytes, D, BASE));
    expect(payloads).toEqual([{ type: D, protocolId: ProtocolId.IKE, spiSize: 0, spis: [] }]);
    expect(deletePayload(ProtocolId.IKE, [])).toEqual(payloads[0]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('keeps SPI Size when there are no SPIs', () => {
    const bytes = hex`00 00 00 08  03 04 00 00`;
    const payloads = expectOk(decodePayloadChain(bytes, D, BASE));
    expect(payloads).toEqual([{ type: D, protocolId: ProtocolId.ESP, spiSize: 4, spis: [] }]);
    expect(encodePayloadChain(payloads).bytes.equals(bytes)).toBe(true);
  });

  it('SPIs that do not fill SPI Size × Num of SPIs are length-mismatch at Num of SPIs', () => {
    expectParseError(decodePayloadChain(hex`00 00 00 0c  03 04 00 02  c0 ff ee 01`, D, BASE), {
      code: 'length-mismatch',
      offset: 34,
      payloadType: D,
    });
    expectParseError(decodePayloadChain(hex`00 00 00 0d  03 04 00 01  c0 ff ee 01 00`, D, BASE), {
      code: 'length-mismatch',
      offset: 34,
      payloadType: D,
    });
  });

  it('refuses to encode an SPI whose length is not SPI Size', () => {
    expect(() => encodePayloadChain([{ type: D, protocolId: 3, spiSize: 4, spis: [hex`01`] }])).toThrow(RangeError);
  });
});
