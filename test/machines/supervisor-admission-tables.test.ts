/** The supervisor's admission tables on their own: the auth backoff's schedule and bound, the token bucket. */
import { describe, expect, it } from 'vitest';
import { AUTH_FAILURE_MEMORY_MS, AuthBackoff } from '../../machines/supervisor/auth-backoff.js';
import { TokenBucket } from '../../machines/supervisor/token-bucket.js';

const settings = { threshold: 3, baseSeconds: 10, maxSeconds: 600 };

describe('AuthBackoff', () => {
  it('blocks from the threshold on, doubling up to the cap; a success or an hour forgets', () => {
    const b = new AuthBackoff();
    expect(b.failed('198.51.100.1', 0, settings)).toBeUndefined();
    expect(b.failed('198.51.100.1', 0, settings)).toBeUndefined();
    expect(b.failed('198.51.100.1', 0, settings)).toEqual({ blockedForMs: 10_000, failures: 3 });
    expect(b.blockedUntil('198.51.100.1', 9_999)).toBe(10_000);
    expect(b.blockedUntil('198.51.100.1', 10_000)).toBeUndefined();
    expect(b.failed('198.51.100.1', 10_000, settings)).toEqual({ blockedForMs: 20_000, failures: 4 });
    for (let i = 5; i <= 12; i++) b.failed('198.51.100.1', 10_000, settings);
    expect(b.failed('198.51.100.1', 10_000, settings)?.blockedForMs).toBe(600_000);
    b.succeeded('198.51.100.1');
    expect(b.blockedUntil('198.51.100.1', 10_001)).toBeUndefined();
    b.failed('198.51.100.2', 0, settings);
    b.failed('198.51.100.2', 0, settings);
    expect(b.size).toBe(1);
    expect(b.blockedUntil('198.51.100.2', AUTH_FAILURE_MEMORY_MS)).toBeUndefined();
    expect(b.size).toBe(0);
  });

  it('keeps at most its capacity of addresses, dropping the least recently failed', () => {
    const b = new AuthBackoff(100);
    for (let i = 0; i < 10_000; i++) b.failed(`10.0.${i >> 8}.${i & 255}`, i, settings);
    expect(b.size).toBe(100);
    b.failed('192.0.2.9', 20_000, settings);
    b.failed('192.0.2.9', 20_000, settings);
    b.failed('192.0.2.9', 20_000, settings);
    expect(b.blockedUntil('192.0.2.9', 20_001)).toBe(30_000);
  });
});

describe('TokenBucket', () => {
  it('gives a burst of `rate` tokens, then `rate` a second', () => {
    const t = new TokenBucket();
    let granted = 0;
    for (let i = 0; i < 20; i++) if (t.take(0, 5)) granted++;
    expect(granted).toBe(5);
    expect(t.take(100, 5)).toBe(false);
    expect(t.take(200, 5)).toBe(true);
    expect(t.take(200, 0)).toBe(false);
  });
});
