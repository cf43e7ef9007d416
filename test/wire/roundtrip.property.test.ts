/**
 * Property tests: for every generated (valid, canonical) model, encode then decode gives the
 * model back, and decode then encode gives the bytes back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  decodePayloadChain,
  encodeMessage,
  encodePayloadChain,
  encodeSkfPrefix,
  encodeSkPrefix,
  identityOf,
  idPayload,
  notifyDataOf,
  notifyPayload,
  PayloadType,
  type Payload,
} from '../../src/wire/index.js';
import {
  bytes,
  encryptedPayloadArb,
  identityArb,
  ikeHeaderArb,
  ikeMessageArb,
  knownPayloadArbs,
  notifyDataArb,
  payloadChainArb,
  plainPayloadArb,
  unknownPayloadArb,
} from './arbitraries.js';
import { expectOk } from './expect-parse-error.js';

function roundTripChain(payloads: Payload[], base: number): void {
  const { firstPayloadType, bytes: encoded } = encodePayloadChain(payloads);
  const decoded = expectOk(decodePayloadChain(encoded, firstPayloadType, base));
  expect(decoded).toEqual(payloads);
  expect(encodePayloadChain(decoded).bytes.equals(encoded)).toBe(true);
}

describe('round trip: every payload type', () => {
  for (const [type, arb] of Object.entries(knownPayloadArbs)) {
    it(`payload type ${type}`, () => {
      fc.assert(
        fc.property(arb, fc.nat(1000), (p, base) => roundTripChain([p], base)),
        { numRuns: 150 },
      );
    });
  }

  it('unknown payload types, critical or not', () => {
    fc.assert(fc.property(unknownPayloadArb, (p) => roundTripChain([p], 28)), { numRuns: 150 });
  });
});

describe('round trip: chains and messages', () => {
  it('decodePayloadChain(encodePayloadChain(c)) = c', () => {
    fc.assert(fc.property(payloadChainArb, (c) => roundTripChain(c, 28)), { numRuns: 500 });
  });

  it('decodeMessage(encodeMessage(m)) deep-equals m', () => {
    fc.assert(
      fc.property(ikeMessageArb, (m) => {
        expect(expectOk(decodeMessage(encodeMessage(m)))).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  it('encodeMessage(decodeMessage(b)) = b', () => {
    fc.assert(
      fc.property(ikeMessageArb, (m) => {
        const b = encodeMessage(m);
        // Decode from a copy in a larger buffer at an odd offset: no reliance on Buffer pooling.
        const host = new Uint8Array(b.length + 7);
        host.set(b, 7);
        const view = new Uint8Array(host.buffer, 7, b.length);
        expect(encodeMessage(expectOk(decodeMessage(view))).equals(b)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('round trip: typed views', () => {
  it('notifyDataOf(notifyPayload(d)) = d', () => {
    fc.assert(fc.property(notifyDataArb, (d) => {
        expect(notifyDataOf(notifyPayload(d))).toEqual(d);
      }), { numRuns: 500 });
  });

  it('identityOf(idPayload(t, id)) = id', () => {
    fc.assert(
      fc.property(identityArb, fc.constantFrom(PayloadType.IDi, PayloadType.IDr), (id, t) => {
        expect(identityOf(idPayload(t, id))).toEqual(id);
      }),
      { numRuns: 500 },
    );
  });
});

describe('SK / SKF prefix: prefix || body = encodeMessage', () => {
  it('for any header, preceding payloads and encrypted payload', () => {
    fc.assert(
      fc.property(ikeHeaderArb, fc.array(plainPayloadArb, { maxLength: 3 }), encryptedPayloadArb, (header, before, enc) => {
        const message = encodeMessage({ header, payloads: [...before, enc] });
        const prefix =
          enc.type === PayloadType.SK
            ? encodeSkPrefix(header, before, enc.body.length, enc.firstInnerPayload, enc)
            : encodeSkfPrefix(header, before, { ...enc, bodyLength: enc.body.length });
        expect(Buffer.concat([prefix, enc.body]).equals(message)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('the prefix is the message minus the body', () => {
    fc.assert(
      fc.property(ikeHeaderArb, bytes(0, 80), (header, body) => {
        const message = encodeMessage({ header, payloads: [{ type: PayloadType.SK, firstInnerPayload: 41, body }] });
        expect(message.subarray(0, message.length - body.length).equals(encodeSkPrefix(header, [], body.length, 41))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
