/**
 * prf+ (RFC 7296 2.13): the iterated PRF that expands one key into as much keying material as
 * the negotiated transforms need. Used for the IKE SA keys (2.14), rekeyed IKE SA keys (2.18)
 * and Child SA KEYMAT (2.17).
 */
import type { PrfTransform } from './types.js';

/** RFC 7296 2.13: "prf+ in this document is not defined beyond 255 times the size of the prf output." */
export const PRF_PLUS_MAX_ITERATIONS = 255;

/**
 * RFC 7296 2.13:
 *
 *     prf+ (K,S) = T1 | T2 | T3 | T4 | ...
 *     T1 = prf (K, S | 0x01)
 *     T2 = prf (K, T1 | S | 0x02)
 *     ...
 *
 * Returns the first `length` octets of that stream. Keys are then cut from the stream "without
 * regard to boundaries" of the T blocks, which is why this returns one contiguous Buffer.
 *
 * Asking for more than 255 × the PRF output is a programming error (the caller's key lengths come
 * from our own transform table, never from the peer), so it throws RangeError instead of
 * returning a Result.
 */
export function prfPlus(prf: PrfTransform, key: Uint8Array, seed: Uint8Array, length: number): Buffer {
  if (!Number.isInteger(length) || length < 0) {
    throw new RangeError(`prf+: length must be a non-negative integer, got ${length}`);
  }
  const max = PRF_PLUS_MAX_ITERATIONS * prf.outputLength;
  if (length > max) {
    throw new RangeError(`prf+: ${length} octets requested, ${prf.name} allows at most ${max} (RFC 7296 2.13)`);
  }
  const blocks: Buffer[] = [];
  let produced = 0;
  let previous: Buffer = Buffer.alloc(0); // T0 is empty, so T1 = prf(K, S | 0x01)
  for (let n = 1; produced < length; n++) {
    if (n > PRF_PLUS_MAX_ITERATIONS) {
      // Only reachable if the PRF returns less than its declared outputLength.
      throw new RangeError(`prf+: ${prf.name} would need more than ${PRF_PLUS_MAX_ITERATIONS} iterations`);
    }
    // RFC 7296 2.13: "The constant concatenated to the end of each string feeding the prf is a single octet."
    previous = prf.compute(key, Buffer.concat([previous, seed, Uint8Array.of(n)]));
    if (previous.length === 0) {
      throw new RangeError(`prf+: ${prf.name} returned no output`);
    }
    blocks.push(previous);
    produced += previous.length;
  }
  const stream = Buffer.concat(blocks);
  return stream.length === length ? stream : Buffer.from(stream.subarray(0, length));
}
