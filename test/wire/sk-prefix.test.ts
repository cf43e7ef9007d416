import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  encodeSkfPrefix,
  encodeSkPrefix,
  ExchangeType,
  PayloadType,
  skfPayload,
  skPayload,
  vendorIdPayload,
  type IkeHeader,
} from '../../src/wire/index.js';
import { expectOk } from './expect-parse-error.js';
import { hex } from './hex.js';

const HEADER: IkeHeader = {
  spiI: hex`a1a2a3a4a5a6a7a8`,
  spiR: hex`b1b2b3b4b5b6b7b8`,
  majorVersion: 2,
  minorVersion: 0,
  exchangeType: ExchangeType.IKE_AUTH,
  flags: { initiator: true, version: false, response: false },
  messageId: 1,
};

const BODY = Buffer.alloc(52, 0xe5); // IV || ciphertext || ICV, whatever the transform

describe('encodeSkPrefix (RFC 7296 3.14, RFC 5282 5.1)', () => {
  it('is the IKE header and the SK generic header, with the final length in place', () => {
    const prefix = encodeSkPrefix(HEADER, [], BODY.length, PayloadType.IDi);
    expect(prefix).toEqual(hex`
      a1a2a3a4a5a6a7a8 b1b2b3b4b5b6b7b8
      2e 20 23 08   # Next Payload 46 (SK), 2.0, IKE_AUTH, I
      00 00 00 01   # Message ID 1
      00 00 00 54   # Length 84 = 28 (header) + 4 (SK header) + 52 (body)
      23 00 00 38   # SK: Next Payload 35 (IDi), length 56 = 4 + 52
    `);
    const message = Buffer.concat([prefix, BODY]);
    expect(message.equals(encodeMessage({ header: HEADER, payloads: [skPayload(PayloadType.IDi, BODY)] }))).toBe(true);
  });

  it('includes unencrypted payloads before SK, linked to it', () => {
    const v = vendorIdPayload(Buffer.from('ikekm'));
    const prefix = encodeSkPrefix(HEADER, [v], BODY.length, PayloadType.IDi);
    const message = Buffer.concat([prefix, BODY]);
    const expected = encodeMessage({ header: HEADER, payloads: [v, skPayload(PayloadType.IDi, BODY)] });
    expect(message.equals(expected)).toBe(true);
    expect(prefix.length).toBe(28 + 9 + 4);
  });

  it('equals the received message minus the SK body, so the receiver can slice instead of rebuild', () => {
    const datagram = encodeMessage({ header: HEADER, payloads: [skPayload(PayloadType.N, BODY)] });
    const msg = expectOk(decodeMessage(datagram));
    const sk = msg.payloads[0]!;
    if (sk.type !== PayloadType.SK || 'unknown' in sk) throw new Error('expected SK');
    const received = datagram.subarray(0, datagram.length - sk.body.length);
    expect(received.equals(encodeSkPrefix(msg.header, [], sk.body.length, sk.firstInnerPayload))).toBe(true);
  });

  it('carries C and RESERVED bits of the SK header when asked', () => {
    const prefix = encodeSkPrefix(HEADER, [], 0, 0, { critical: true, headerReserved: 3 });
    expect(prefix.subarray(28)).toEqual(hex`00 83 00 04`);
  });

  it('refuses an SK or SKF among the preceding payloads', () => {
    expect(() => encodeSkPrefix(HEADER, [skPayload(0, Buffer.alloc(0))], 0, 0)).toThrow(RangeError);
  });
});

describe('encodeSkfPrefix (RFC 7383 2.5)', () => {
  it('is the IKE header, the SKF generic header, Fragment Number and Total Fragments', () => {
    const fragment = { firstInnerPayload: PayloadType.IDi, fragmentNumber: 1, totalFragments: 2, bodyLength: BODY.length };
    const prefix = encodeSkfPrefix(HEADER, [], fragment);
    expect(prefix).toEqual(hex`
      a1a2a3a4a5a6a7a8 b1b2b3b4b5b6b7b8
      35 20 23 08   # Next Payload 53 (SKF)
      00 00 00 01
      00 00 00 58   # Length 88 = 28 + 8 + 52
      23 00 00 3c   # SKF: Next Payload 35, length 60 = 8 + 52
      00 01 00 02   # Fragment 1 of 2
    `);
    const message = Buffer.concat([prefix, BODY]);
    const expected = encodeMessage({
      header: HEADER,
      payloads: [skfPayload({ firstInnerPayload: PayloadType.IDi, fragmentNumber: 1, totalFragments: 2, body: BODY })],
    });
    expect(message.equals(expected)).toBe(true);
  });

  it('second fragment: Next Payload 0', () => {
    const prefix = encodeSkfPrefix(HEADER, [], { firstInnerPayload: 0, fragmentNumber: 2, totalFragments: 2, bodyLength: 16 });
    expect(prefix.subarray(28)).toEqual(hex`00 00 00 18  00 02 00 02`);
    expect(prefix.readUInt32BE(24)).toBe(28 + 8 + 16);
  });
});
