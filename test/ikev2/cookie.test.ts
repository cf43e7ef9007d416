import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { COOKIE_LENGTH, createCookieGenerator, createCookieSecrets, type CookieSecretPort } from '../../src/ikev2/cookie.js';
import { COOKIE_MAX_LENGTH } from '../../src/wire/index.js';

/** A RandomPort that hands out 0x01.., 0x02.., ... and records every draw (as replay would). */
function countingRandom() {
  const draws: number[] = [];
  let n = 0;
  const random = (size: number) => {
    draws.push(size);
    n++;
    return Buffer.alloc(size, n);
  };
  return { random, draws };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const Ni = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const SPIi = Buffer.from('0123456789abcdef', 'hex');
const IPi = '198.51.100.7';

describe('cookie (RFC 7296 2.6)', () => {
  it('is <VersionIDofSecret> | SHA-256(Ni | IPi | SPIi | <secret>), within the 64 octets COOKIE allows', () => {
    const { random } = countingRandom();
    const gen = createCookieGenerator({ random, now: clock().now });
    const cookie = gen.cookie(Ni, IPi, SPIi);
    const secret = Buffer.alloc(32, 1); // the first draw
    const expected = createHash('sha256').update(Buffer.concat([Ni, Buffer.from([198, 51, 100, 7]), SPIi, secret])).digest();
    expect(cookie.subarray(0, 4)).toEqual(Buffer.from([0, 0, 0, 1]));
    expect(cookie.subarray(4)).toEqual(expected);
    expect(cookie.length).toBe(COOKIE_LENGTH);
    expect(cookie.length).toBeLessThanOrEqual(COOKIE_MAX_LENGTH);
  });

  it('verifies its own cookie, for IPv4 and IPv6 initiators', () => {
    const gen = createCookieGenerator({ random: countingRandom().random, now: clock().now });
    expect(gen.verify(gen.cookie(Ni, IPi, SPIi), Ni, IPi, SPIi)).toBe(true);
    expect(gen.verify(gen.cookie(Ni, '2001:db8::7', SPIi), Ni, '2001:db8::7', SPIi)).toBe(true);
  });

  it('refuses it for another IP, SPI or nonce', () => {
    const gen = createCookieGenerator({ random: countingRandom().random, now: clock().now });
    const cookie = gen.cookie(Ni, IPi, SPIi);
    expect(gen.verify(cookie, Ni, '198.51.100.8', SPIi)).toBe(false);
    expect(gen.verify(cookie, Ni, IPi, Buffer.from('0123456789abcdee', 'hex'))).toBe(false);
    expect(gen.verify(cookie, Buffer.from(Ni).fill(0xff, 0, 1), IPi, SPIi)).toBe(false);
    expect(gen.verify(cookie, Ni, 'not an address', SPIi)).toBe(false);
  });

  it('refuses a tampered cookie: any flipped bit, a changed version, truncation, extension', () => {
    const gen = createCookieGenerator({ random: countingRandom().random, now: clock().now });
    const cookie = gen.cookie(Ni, IPi, SPIi);
    for (let bit = 0; bit < cookie.length * 8; bit++) {
      const t = Buffer.from(cookie);
      t[bit >> 3]! ^= 1 << (bit & 7);
      expect(gen.verify(t, Ni, IPi, SPIi)).toBe(false);
    }
    expect(gen.verify(cookie.subarray(0, 35), Ni, IPi, SPIi)).toBe(false);
    expect(gen.verify(Buffer.concat([cookie, Buffer.from([0])]), Ni, IPi, SPIi)).toBe(false);
    expect(gen.verify(Buffer.alloc(0), Ni, IPi, SPIi)).toBe(false);
  });

  it('refuses a cookie from another secret', () => {
    const a = createCookieGenerator({ random: countingRandom().random, now: clock().now });
    const b = createCookieGenerator({ random: () => Buffer.alloc(32, 0xee), now: clock().now });
    expect(b.verify(a.cookie(Ni, IPi, SPIi), Ni, IPi, SPIi)).toBe(false);
  });
});

describe('secret rotation', () => {
  const period = 10_000;

  it('keeps the previous secret valid for one period, then drops it', () => {
    const { random, draws } = countingRandom();
    const c = clock();
    const gen = createCookieGenerator({ random, now: c.now, rotateEveryMs: period });
    const early = gen.cookie(Ni, IPi, SPIi);
    c.advance(period - 1);
    expect(gen.cookie(Ni, IPi, SPIi)).toEqual(early); // same secret within the period
    c.advance(1); // rotation on next use
    const later = gen.cookie(Ni, IPi, SPIi);
    expect(later.readUInt32BE(0)).toBe(2);
    expect(later).not.toEqual(early);
    expect(gen.verify(early, Ni, IPi, SPIi)).toBe(true); // previous secret still accepted
    expect(gen.verify(later, Ni, IPi, SPIi)).toBe(true);
    c.advance(period);
    expect(gen.verify(early, Ni, IPi, SPIi)).toBe(false); // two rotations later: gone
    expect(gen.verify(later, Ni, IPi, SPIi)).toBe(true); // now the previous one
    c.advance(period);
    expect(gen.verify(later, Ni, IPi, SPIi)).toBe(false);
    expect(draws).toEqual([32, 32, 32, 32]);
  });

  it('does not keep a secret that stopped being current more than a period ago', () => {
    const c = clock();
    const gen = createCookieGenerator({ random: countingRandom().random, now: c.now, rotateEveryMs: period });
    const cookie = gen.cookie(Ni, IPi, SPIi);
    c.advance(2 * period); // idle for two periods: the old secret expired without being seen
    expect(gen.verify(cookie, Ni, IPi, SPIi)).toBe(false);
  });

  it('draws its first secret on first use, through the RandomPort only', () => {
    const { random, draws } = countingRandom();
    const secrets = createCookieSecrets({ random, now: clock().now });
    expect(draws).toEqual([]);
    expect(secrets.previous()).toBeUndefined();
    expect(secrets.current()).toEqual({ version: 1, secret: Buffer.alloc(32, 1) });
    expect(draws).toEqual([32]);
  });

  it('gives the same cookies for the same draws and times (replay)', () => {
    const run = () => {
      const c = clock();
      const gen = createCookieGenerator({ random: countingRandom().random, now: c.now, rotateEveryMs: period });
      const out = [gen.cookie(Ni, IPi, SPIi)];
      c.advance(period * 1.5);
      out.push(gen.cookie(Ni, IPi, SPIi));
      return out;
    };
    expect(run()).toEqual(run());
  });

  it('uses a CookieSecretPort given by the caller', () => {
    let current = { version: 7, secret: Buffer.alloc(32, 7) };
    let previous: { version: number; secret: Buffer } | undefined;
    const port: CookieSecretPort = { current: () => current, previous: () => previous };
    const gen = createCookieGenerator({ secrets: port });
    const cookie = gen.cookie(Ni, IPi, SPIi);
    expect(cookie.readUInt32BE(0)).toBe(7);
    previous = current;
    current = { version: 8, secret: Buffer.alloc(32, 8) };
    expect(gen.verify(cookie, Ni, IPi, SPIi)).toBe(true);
    previous = undefined;
    expect(gen.verify(cookie, Ni, IPi, SPIi)).toBe(false);
  });

  it('refuses a non-positive period and a short random draw', () => {
    expect(() => createCookieSecrets({ random: countingRandom().random, now: clock().now, rotateEveryMs: 0 })).toThrow(RangeError);
    const short = createCookieSecrets({ random: () => Buffer.alloc(16), now: clock().now });
    expect(() => short.current()).toThrow(RangeError);
  });
});
