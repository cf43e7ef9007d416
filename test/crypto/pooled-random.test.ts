import { describe, expect, it } from 'vitest';
import { pooledRandom } from '../../src/crypto/pooled-random.js';

describe('pooledRandom', () => {
  it('hands out draws of the asked lengths across pool refills, each different', () => {
    const random = pooledRandom(64);
    const draws = Array.from({ length: 40 }, (_, i) => random(1 + (i % 32)));
    draws.forEach((d, i) => expect(d.length).toBe(1 + (i % 32)));
    const longOnes = draws.filter((d) => d.length >= 16).map((d) => d.toString('hex'));
    expect(new Set(longOnes).size).toBe(longOnes.length);
  });

  it('returns copies: a draw keeps its value when the pool is refilled under it', () => {
    const random = pooledRandom(64);
    const first = random(48);
    const saved = Buffer.from(first);
    random(48); // does not fit: the pool is refilled
    random(16);
    expect(first.equals(saved)).toBe(true);
  });

  it('draws larger than the pool come straight from the CSPRNG', () => {
    const random = pooledRandom(64);
    const big = random(1000);
    expect(big.length).toBe(1000);
    expect(big.equals(Buffer.alloc(1000))).toBe(false);
  });
});
