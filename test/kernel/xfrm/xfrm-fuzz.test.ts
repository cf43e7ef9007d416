/**
 * Totality: whatever the bytes, the decoders return a value or an XfrmParseError and never throw.
 * Inputs are the real datagrams of ip-xfrm-captures.ts (requests and answers), cut at every length,
 * with seeded random bit flips and overwritten length fields, and raw garbage. An error's offset
 * lies inside the input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAttributes, decodeNetlinkMessages } from '../../../src/kernel/xfrm/netlink.js';
import { decodeAllocatedSpi, decodeXfrmMessage } from '../../../src/kernel/xfrm/xfrm-events.js';
import { XfrmParseError } from '../../../src/kernel/xfrm/xfrm-parse-error.js';
import * as captures from './ip-xfrm-captures.js';

const SEED = Number(process.env.IKEKM_FUZZ_SEED ?? 20261205);

const DATAGRAMS: readonly Buffer[] = Object.values(captures).flatMap((capture) => [...capture.sent, ...capture.received]);

const codes = new Set<string>();

/** Fails the test unless `error` is an XfrmParseError inside the input (plain checks: expect() is too slow here). */
function checkError(error: unknown, length: number): void {
  if (!(error instanceof XfrmParseError)) throw new Error(`not an XfrmParseError: ${String(error)}`);
  if (!Number.isInteger(error.offset) || error.offset < 0 || error.offset > length) throw new Error(`offset ${error.offset} outside 0..${length}: ${error.message}`);
  codes.add(error.code);
}

/** XFRM_MSG_NEWSA, NEWPOLICY, ACQUIRE, EXPIRE, POLEXPIRE, NLMSG_ERROR, NLMSG_DONE: every decoder decodeXfrmMessage dispatches to. */
const TYPES = [16, 19, 23, 24, 27, 2, 3];

/** Every message of `datagram` through every decoder, its type forced to each one's, so any body is read as any struct. */
function decodeEverything(datagram: Buffer): void {
  const messages = decodeNetlinkMessages(datagram);
  if (!messages.ok) return checkError(messages.error, datagram.length);
  for (const message of messages.value) {
    for (const type of [message.type, ...TYPES]) {
      const result = decodeXfrmMessage({ ...message, type });
      if (!result.ok) checkError(result.error, datagram.length);
    }
    for (const type of [message.type, 16]) {
      const spi = decodeAllocatedSpi({ ...message, type });
      if (!spi.ok) checkError(spi.error, datagram.length);
    }
    const attributes = decodeAttributes(message.payload, message.offset + 16);
    if (!attributes.ok) checkError(attributes.error, datagram.length);
  }
}

describe('XFRM decoders never throw', () => {
  it('on every truncation of every captured datagram', () => {
    for (const datagram of DATAGRAMS) {
      for (let length = 0; length <= datagram.length; length++) {
        const cut = Buffer.from(datagram.subarray(0, length));
        decodeEverything(cut);
        // And with nlmsg_len saying the cut length, so the message reaches the struct decoders.
        if (length >= 4) {
          cut.writeUInt32LE(length, 0);
          decodeEverything(cut);
        }
      }
    }
  });

  it('on captured datagrams with random bit flips and overwritten 16-bit fields', () => {
    const datagram = fc.constantFrom(...DATAGRAMS);
    fc.assert(
      fc.property(datagram, fc.array(fc.tuple(fc.nat(), fc.nat(15), fc.integer({ min: 0, max: 0xffff })), { minLength: 1, maxLength: 6 }), (original, edits) => {
        const mutated = Buffer.from(original);
        for (const [position, bit, value] of edits) {
          const at = position % mutated.length;
          if (bit < 8) mutated[at]! ^= 1 << bit;
          else if (at + 2 <= mutated.length) mutated.writeUInt16LE(value, at & ~1);
        }
        decodeEverything(mutated);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('on garbage', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => decodeEverything(Buffer.from(bytes))),
      { seed: SEED, numRuns: 2000 },
    );
  });

  it('reached the deep decoders: every error code showed up', () => {
    expect([...codes].sort()).toEqual(['bad-attribute-length', 'bad-message-length', 'bad-value', 'truncated', 'unexpected-message']);
  });
});
