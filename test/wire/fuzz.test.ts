/**
 * Fuzz-style tests for totality: whatever the bytes, the decoders return a value or a
 * ParseError and never throw. Inputs are derived from valid messages (truncations, inflated
 * length fields, bit flips) and from garbage, raw or framed so that it reaches deep decoders.
 *
 * Two further invariants hold for every input:
 * - an accepted input re-encodes to exactly the same bytes (nothing is silently normalised);
 * - an error is a ParseError whose offset lies inside the input and whose code is known.
 *
 * The runs are seeded (FUZZ_SEED, or IKEKM_FUZZ_SEED to explore others): the last test checks
 * that the inputs reached the deep decoders, and with unseeded runs a few thousand random inputs
 * missed one of them about one run in six.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyNattDatagram,
  decodeMessage,
  decodePayloadChain,
  encodeMessage,
  encodePayloadChain,
  IKE_HEADER_LENGTH,
  isKnownPayloadType,
  ParseError,
  PayloadType,
  type ParseErrorCode,
} from '../../src/wire/index.js';
import type { Result } from '../../src/result.js';
import { ikeMessageArb, payloadChainArb } from './arbitraries.js';

const CODES: ReadonlySet<string> = new Set<ParseErrorCode>([
  'truncated',
  'bad-header-length',
  'invalid-major-version',
  'bad-payload-length',
  'trailing-data',
  'length-mismatch',
  'count-mismatch',
  'bad-last-substruc',
  'no-proposals',
  'empty-ke-data',
  'bad-id-data',
  'bad-selector-length',
  'bad-notify-data',
  'bad-eap-message',
  'bad-fragment-number',
  'bad-natt-datagram',
  'message-too-large',
  'too-many-payloads',
  'too-many-substructures',
]);

/** Tallies which codes the fuzzer reached, so a regression that makes it shallow shows up. */
const FUZZ_SEED = Number(process.env.IKEKM_FUZZ_SEED ?? 20261205);
fc.configureGlobal({ seed: FUZZ_SEED });

const reached = new Map<string, number>();

function checkError(e: unknown, base: number, length: number): void {
  expect(e).toBeInstanceOf(ParseError);
  const pe = e as ParseError;
  expect(CODES.has(pe.code)).toBe(true);
  expect(Number.isInteger(pe.offset)).toBe(true);
  expect(pe.offset).toBeGreaterThanOrEqual(base);
  expect(pe.offset).toBeLessThanOrEqual(base + length);
  expect(pe.payloadType === undefined || (Number.isInteger(pe.payloadType) && pe.payloadType <= 255)).toBe(true);
  reached.set(pe.code, (reached.get(pe.code) ?? 0) + 1);
}

/** Runs a decoder; an escaping exception fails the test with the input in the message. */
function total<T>(decode: () => Result<T, ParseError>, input: Uint8Array): Result<T, ParseError> {
  try {
    return decode();
  } catch (e) {
    throw new Error(`exception escaped for input ${Buffer.from(input).toString('hex')}: ${String(e)}`);
  }
}

function checkMessage(bytes: Uint8Array): boolean {
  const r = total(() => decodeMessage(bytes), bytes);
  if (r.ok) {
    expect(encodeMessage(r.value).equals(Buffer.from(bytes))).toBe(true);
    return true;
  }
  checkError(r.error, 0, bytes.length);
  return false;
}

function checkChain(bytes: Uint8Array, firstType: number, base: number): boolean {
  const r = total(() => decodePayloadChain(bytes, firstType, base), bytes);
  if (r.ok) {
    const re = encodePayloadChain(r.value);
    expect(re.bytes.equals(Buffer.from(bytes))).toBe(true);
    if (r.value.length > 0) expect(re.firstPayloadType).toBe(firstType);
    return true;
  }
  checkError(r.error, base, bytes.length);
  return false;
}

/** Offsets of the Payload Length fields of the top-level chain of an encoded message. */
function payloadLengthOffsets(message: Buffer): number[] {
  const out: number[] = [];
  let offset = IKE_HEADER_LENGTH;
  let type = message[16]!;
  while (type !== PayloadType.NONE && offset + 4 <= message.length) {
    out.push(offset + 2);
    const next = message[offset]!;
    if (type === PayloadType.SK || type === PayloadType.SKF) break;
    offset += message.readUInt16BE(offset + 2);
    type = next;
  }
  return out;
}

describe('fuzz: decoders are total', () => {
  it('every truncation of a valid message is a ParseError', () => {
    fc.assert(
      fc.property(ikeMessageArb, (m) => {
        const b = encodeMessage(m);
        for (let n = 0; n < b.length; n++) expect(checkMessage(b.subarray(0, n))).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('every strict prefix of a non-empty payload chain is a ParseError', () => {
    fc.assert(
      fc.property(payloadChainArb, (c) => {
        const { firstPayloadType, bytes } = encodePayloadChain(c);
        for (let n = 0; n < bytes.length; n++) expect(checkChain(bytes.subarray(0, n), firstPayloadType, 28)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('over-long Payload Length and header Length fields never throw; the header one always fails', () => {
    fc.assert(
      fc.property(ikeMessageArb, fc.integer({ min: 1, max: 0xffff }), (m, extra) => {
        const b = encodeMessage(m);
        for (const at of payloadLengthOffsets(b)) {
          for (const delta of [1, 2, 3, 4, 8, extra]) {
            const v = b.readUInt16BE(at) + delta;
            if (v > 0xffff) continue;
            const mutated = Buffer.from(b);
            mutated.writeUInt16BE(v, at);
            checkMessage(mutated);
          }
        }
        const longer = Buffer.from(b);
        longer.writeUInt32BE(b.length + extra, 24);
        expect(checkMessage(longer)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('random bit flips in valid messages', () => {
    fc.assert(
      fc.property(
        ikeMessageArb,
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        (m, flips) => {
          const b = Buffer.from(encodeMessage(m));
          for (const f of flips) {
            const bit = f % (b.length * 8);
            b[bit >> 3]! ^= 1 << (bit & 7);
          }
          checkMessage(b);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('random bytes, raw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 255 }), (b, type) => {
        checkMessage(b);
        checkChain(b, type, 0);
        const natt = total(() => classifyNattDatagram(b), b);
        if (!natt.ok) checkError(natt.error, 0, b.length);
      }),
      { numRuns: 2000 },
    );
  });

  it('random bytes behind a well-formed header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.uint8Array({ maxLength: 300 }), (head, tail) => {
        const b = Buffer.concat([head, Buffer.alloc(8), tail]);
        b[17] = 0x20; // version 2.0
        b.writeUInt32BE(b.length, 24);
        checkMessage(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('payload-shaped garbage: correct chain framing, random bodies of known and unknown types', () => {
    const segment = fc.record({
      type: fc.oneof(
        { arbitrary: fc.constantFrom(...Object.values(PayloadType).filter((t) => t !== 0)), weight: 6 },
        { arbitrary: fc.integer({ min: 1, max: 255 }), weight: 1 },
      ),
      flags: fc.oneof({ arbitrary: fc.constant(0), weight: 6 }, { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 }),
      body: fc.uint8Array({ maxLength: 48 }),
    });
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
        const parts = segments.map((s, i) => {
          const header = Buffer.alloc(4);
          header[0] = segments[i + 1]?.type ?? 0;
          header[1] = s.flags;
          header.writeUInt16BE(4 + s.body.length, 2);
          return Buffer.concat([header, s.body]);
        });
        checkChain(Buffer.concat(parts), segments[0]!.type, 100);
      }),
      { numRuns: 4000 },
    );
  });

  it('reached deep decoder errors, not just framing ones', () => {
    // Runs after the tests above (vitest runs a file's tests in order).
    for (const code of ['length-mismatch', 'count-mismatch', 'bad-last-substruc', 'bad-notify-data', 'bad-selector-length', 'bad-eap-message']) {
      expect(reached.get(code) ?? 0, code).toBeGreaterThan(0);
    }
    expect(isKnownPayloadType(PayloadType.SKF)).toBe(true);
  });
});
