import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { RandomPort } from '../../src/ports.js';
import {
  HeapVirtualScheduler,
  byteExpiry,
  byteLifetime,
  dpdDue,
  lifetime$,
  lifetimeDeadlines,
  uniformIntInclusive,
  type LifetimeEvent,
} from '../../src/timers/index.js';

/** A RandomPort that replays fixed bytes and records how many were drawn. */
function fixedRandom(bytes: Buffer): RandomPort & { drawn: number } {
  const port = ((n: number) => {
    const out = bytes.subarray(port.drawn, port.drawn + n);
    port.drawn += n;
    return Buffer.from(out);
  }) as RandomPort & { drawn: number };
  port.drawn = 0;
  return port;
}

describe('uniformIntInclusive', () => {
  it('maps the extreme draws to the ends of the range', () => {
    expect(uniformIntInclusive(fixedRandom(Buffer.alloc(6, 0)), 1000)).toBe(0);
    expect(uniformIntInclusive(fixedRandom(Buffer.alloc(6, 0xff)), 1000)).toBe(1000);
    expect(uniformIntInclusive(fixedRandom(Buffer.from('800000000000', 'hex')), 1000)).toBe(500);
  });

  it('draws nothing for an empty range and refuses a short draw', () => {
    const random = fixedRandom(Buffer.alloc(0));
    expect(uniformIntInclusive(random, 0)).toBe(0);
    expect(random.drawn).toBe(0);
    expect(() => uniformIntInclusive(random, 10)).toThrow(RangeError);
  });

  it('covers the whole range roughly evenly', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const v = uniformIntInclusive(randomBytes, 9);
      counts[v] = (counts[v] ?? 0) + 1;
    }
    for (const c of counts) expect(c).toBeGreaterThan(1500); // 2000 expected each
  });
});

describe('lifetimeDeadlines', () => {
  const NOW = 1_700_000_000_000;

  it('defaults like strongSwan: hard = 110 % of rekey, jitter up to hard − rekey', () => {
    const noJitter = lifetimeDeadlines({ rekeySeconds: 3600 }, NOW, fixedRandom(Buffer.alloc(6, 0)));
    expect(noJitter).toEqual({ rekeyAtMs: NOW + 3_600_000, expireAtMs: NOW + 3_960_000 });
    const fullJitter = lifetimeDeadlines({ rekeySeconds: 3600 }, NOW, fixedRandom(Buffer.alloc(6, 0xff)));
    expect(fullJitter).toEqual({ rekeyAtMs: NOW + 3_600_000 - 360_000, expireAtMs: NOW + 3_960_000 });
  });

  it('jitter stays within [rekey − jitter, rekey] and never touches the hard deadline', () => {
    const policy = { rekeySeconds: 86_400, lifetimeSeconds: 90_000, jitterSeconds: 1_800 };
    for (let i = 0; i < 2000; i++) {
      const { rekeyAtMs, expireAtMs } = lifetimeDeadlines(policy, NOW, randomBytes);
      expect(rekeyAtMs).toBeGreaterThanOrEqual(NOW + (86_400 - 1_800) * 1000);
      expect(rekeyAtMs).toBeLessThanOrEqual(NOW + 86_400 * 1000);
      expect(Number.isInteger(rekeyAtMs)).toBe(true);
      expect(expireAtMs).toBe(NOW + 90_000_000);
    }
  });

  it('is reproducible from the same random bytes (replay), and draws only through the port', () => {
    const bytes = randomBytes(6 * 50);
    const policy = { rekeySeconds: 3_600, jitterSeconds: 600 };
    const first = fixedRandom(bytes);
    const second = fixedRandom(bytes);
    const a = Array.from({ length: 50 }, () => lifetimeDeadlines(policy, NOW, first));
    const b = Array.from({ length: 50 }, () => lifetimeDeadlines(policy, NOW, second));
    expect(a).toEqual(b);
    expect(first.drawn).toBe(6 * 50);
    expect(new Set(a.map((d) => d.rekeyAtMs)).size).toBeGreaterThan(40); // it does vary
  });

  it('clamps jitter to the rekey time, draws nothing without jitter, rejects nonsense', () => {
    const clamped = lifetimeDeadlines({ rekeySeconds: 300, lifetimeSeconds: 900, jitterSeconds: 900 }, 0, fixedRandom(Buffer.alloc(6, 0xff)));
    expect(clamped).toEqual({ rekeyAtMs: 0, expireAtMs: 900_000 });

    const none = fixedRandom(Buffer.alloc(0));
    expect(lifetimeDeadlines({ rekeySeconds: 600, lifetimeSeconds: 600 }, 0, none)).toEqual({ rekeyAtMs: 600_000, expireAtMs: 600_000 });
    expect(none.drawn).toBe(0);

    expect(() => lifetimeDeadlines({ rekeySeconds: 0 }, 0, randomBytes)).toThrow(RangeError);
    expect(() => lifetimeDeadlines({ rekeySeconds: 600, lifetimeSeconds: 500 }, 0, randomBytes)).toThrow(RangeError);
    expect(() => lifetimeDeadlines({ rekeySeconds: 600, jitterSeconds: -1 }, 0, randomBytes)).toThrow(RangeError);
  });
});

describe('lifetime$', () => {
  it('emits SOFT_EXPIRE then HARD_EXPIRE at the deadlines, also past 24.8 days', () => {
    const DAY_MS = 86_400_000;
    const scheduler = new HeapVirtualScheduler();
    const seen: Array<[LifetimeEvent['type'], number]> = [];
    let completed = false;
    lifetime$({ rekeyAtMs: 30 * DAY_MS, expireAtMs: 33 * DAY_MS }, scheduler).subscribe({
      next: (e) => seen.push([e.type, scheduler.now()]),
      complete: () => (completed = true),
    });
    scheduler.flush();
    expect(seen).toEqual([
      ['SOFT_EXPIRE', 30 * DAY_MS],
      ['HARD_EXPIRE', 33 * DAY_MS],
    ]);
    expect(completed).toBe(true);
  });
});

describe('byte lifetimes', () => {
  it('byteLifetime completes a policy: hard defaults to 110 % of soft; hard alone means no soft', () => {
    expect(byteLifetime({ softBytes: 1_000_000 })).toEqual({ softBytes: 1_000_000, hardBytes: 1_100_000 });
    expect(byteLifetime({ hardBytes: 5_000 })).toEqual({ hardBytes: 5_000 });
    expect(byteLifetime({ softBytes: 10, hardBytes: 20 })).toEqual({ softBytes: 10, hardBytes: 20 });
    expect(byteLifetime({})).toEqual({});
    expect(() => byteLifetime({ softBytes: 30, hardBytes: 20 })).toThrow(RangeError);
    expect(() => byteLifetime({ softBytes: 0 })).toThrow(RangeError);
    expect(() => byteLifetime({ hardBytes: 1.5 })).toThrow(RangeError);
  });

  it('byteExpiry decides from a usage sample', () => {
    const limits = byteLifetime({ softBytes: 1000, hardBytes: 2000 });
    expect(byteExpiry(0, limits)).toBe('none');
    expect(byteExpiry(999, limits)).toBe('none');
    expect(byteExpiry(1000, limits)).toBe('soft');
    expect(byteExpiry(1999, limits)).toBe('soft');
    expect(byteExpiry(2000, limits)).toBe('hard');
    expect(byteExpiry(10 ** 15, limits)).toBe('hard');
    expect(byteExpiry(10 ** 15, {})).toBe('none');
    expect(byteExpiry(3000, { hardBytes: 2000 })).toBe('hard');
  });
});

describe('dpdDue (RFC 7296 2.4)', () => {
  it('is the last time heard plus the interval', () => {
    expect(dpdDue(1_000, 30_000)).toBe(31_000);
    expect(() => dpdDue(1_000, 0)).toThrow(RangeError);
    expect(() => dpdDue(1_000, Number.NaN)).toThrow(RangeError);
  });
});
