/**
 * Random octets from node:crypto's CSPRNG, drawn 64 KiB at a time. A handshake draws a dozen
 * small values (SPIs, nonces, a DH private key, IVs); one getrandom per draw was 5 % of a
 * responder's CPU under load, one per pool refill is noise. Each draw is a copy, and the pool's
 * octets are zeroed as they are handed out, so a value (a future private key) exists once.
 */
import { randomFillSync } from 'node:crypto';
import type { RandomPort } from './types.js';

export const RANDOM_POOL_OCTETS = 64 * 1024;

export function pooledRandom(poolSize = RANDOM_POOL_OCTETS): RandomPort {
  const pool = Buffer.alloc(poolSize);
  let offset = poolSize;
  return (n) => {
    if (n > poolSize) return randomFillSync(Buffer.allocUnsafe(n));
    if (offset + n > poolSize) {
      randomFillSync(pool);
      offset = 0;
    }
    const out = Buffer.from(pool.subarray(offset, offset + n));
    pool.fill(0, offset, offset + n);
    offset += n;
    return out;
  };
}
