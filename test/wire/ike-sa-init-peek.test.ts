/**
 * peekIkeSaInitRequest against decodeMessage: on every input the decoder accepts, the peek gives
 * the same header, Ni and COOKIE; whatever the peek refuses the decoder refuses too, with the same
 * error when it lies in the header, the limits or the COOKIE. The peek may accept a request whose
 * other payload bodies are malformed (it does not read them): that is its point.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cookieOf } from '../../src/ikev2/exchanges/ike-sa-init.js';
import { PayloadType, decodeMessage, findPayload, peekIkeSaInitRequest, type ParseError } from '../../src/wire/index.js';
import { strangerInit } from '../engine/stranger-initiator.js';
import { HOSTILE_VARIANTS, hostileIkeSaInit, plainIkeSaInit } from './hostile-ike-sa-init.js';

fc.configureGlobal({ seed: Number(process.env.IKEKM_FUZZ_SEED ?? 20261205) });

const attempt = strangerInit('198.51.100.7');
const plain = attempt.datagram.bytes;
const withCookie = attempt.withCookie(Buffer.from('a cookie of 32 octets, no more..')).bytes;

/** Errors found before any payload body is decoded, where both must agree exactly. */
const STRUCTURAL = new Set(['bad-header-length', 'invalid-major-version', 'message-too-large', 'too-many-payloads']);

function agree(bytes: Buffer): void {
  const decoded = decodeMessage(bytes);
  const peeked = peekIkeSaInitRequest(bytes);
  if (decoded.ok) {
    expect(peeked.ok).toBe(true);
    if (!peeked.ok) return;
    expect(peeked.value.header).toEqual(decoded.value.header);
    expect(peeked.value.nonce).toEqual(findPayload(decoded.value.payloads, PayloadType.Nonce)?.data);
    expect(peeked.value.cookie).toEqual(cookieOf(decoded.value));
    return;
  }
  if (peeked.ok) return;
  const e: ParseError = peeked.error;
  if (STRUCTURAL.has(e.code)) expect({ code: decoded.error.code, offset: decoded.error.offset }).toEqual({ code: e.code, offset: e.offset });
}

describe('peekIkeSaInitRequest', () => {
  it('reads the header, Ni and the COOKIE of a real request as decodeMessage does', () => {
    for (const bytes of [plain, withCookie]) {
      const peeked = peekIkeSaInitRequest(bytes);
      expect(peeked.ok).toBe(true);
      agree(bytes);
    }
    const peeked = peekIkeSaInitRequest(withCookie);
    expect(peeked.ok && peeked.value.cookie?.toString()).toBe('a cookie of 32 octets, no more..');
    expect(peeked.ok && peeked.value.nonce?.length).toBe(32);
  });

  it('refuses the hostile requests as decodeMessage does where the limits are structural, and reads no Proposal of the others', () => {
    for (const variant of HOSTILE_VARIANTS) {
      for (const size of [63_000, 30_000]) {
        const bytes = hostileIkeSaInit(plainIkeSaInit(), variant, size);
        const peeked = peekIkeSaInitRequest(bytes);
        const decoded = decodeMessage(bytes);
        expect(decoded.ok).toBe(false);
        if (decoded.ok) continue;
        if (STRUCTURAL.has(decoded.error.code)) {
          expect(!peeked.ok && [peeked.error.code, peeked.error.offset]).toEqual([decoded.error.code, decoded.error.offset]);
        } else {
          // 255 Proposals in 30 KB: a limit inside the SA payload's body, which the peek skips.
          expect([variant, decoded.error.code, peeked.ok]).toEqual(['proposals', 'too-many-substructures', true]);
        }
      }
    }
  });

  it('refuses an empty COOKIE where the decoder does, and does not read a malformed SA payload', () => {
    // A COOKIE notify emptied of its one octet (the builder refuses to make a bad one).
    const one = attempt.withCookie(Buffer.alloc(1, 1)).bytes;
    expect(one[16]).toBe(PayloadType.N);
    const empty = Buffer.concat([one.subarray(0, 28 + 8), one.subarray(28 + 9)]);
    empty.writeUInt16BE(8, 28 + 2);
    empty.writeUInt32BE(empty.length, 24);
    const peeked = peekIkeSaInitRequest(empty);
    const decoded = decodeMessage(empty);
    expect(!peeked.ok && !decoded.ok && [peeked.error.code, peeked.error.offset, peeked.error.message]).toEqual(!decoded.ok && [decoded.error.code, decoded.error.offset, decoded.error.message]);

    // The SA payload (the first) with its Last Substruc octet spoilt: the decoder refuses it,
    // the peek does not look inside.
    const bad = Buffer.from(plain);
    expect(bad[16]).toBe(PayloadType.SA);
    bad[28 + 4] = 7;
    expect(decodeMessage(bad).ok).toBe(false);
    expect(peekIkeSaInitRequest(bad).ok).toBe(true);
  });

  it('agrees with decodeMessage on mutated requests (bit flips, overwritten octets, truncation, extension)', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('write' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (cookie, mutations, fixLength) => {
        let bytes = Buffer.from(cookie ? withCookie : plain);
        for (const m of mutations) {
          switch (m.kind) {
            case 'flip':
              bytes[m.at % bytes.length]! ^= 1 << m.bit;
              break;
            case 'write':
              bytes[m.at % bytes.length] = m.value;
              break;
            case 'truncate':
              bytes = bytes.subarray(0, m.at % (bytes.length + 1));
              break;
            case 'extend':
              bytes = Buffer.concat([bytes, m.extra]);
              break;
          }
        }
        // Mostly keep the header Length right, so that the mutations reach the payloads.
        if (fixLength && bytes.length >= 28) bytes.writeUInt32BE(bytes.length, 24);
        agree(bytes);
      }),
      { numRuns: 5_000 },
    );
  });
});
