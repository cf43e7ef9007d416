import { describe, expect, it } from 'vitest';
import { toLogSafe, toLogSafeRecord } from '../../src/log/log-safe.js';

describe('toLogSafe', () => {
  it('leaves plain values alone and copies rather than mutating', () => {
    const record = { connection: 'home', count: 3, ok: true, none: null, nested: { list: [1, 'two'] } };
    const safe = toLogSafe(record);
    expect(safe).toEqual(record);
    expect(safe).not.toBe(record);
  });

  it('replaces every kind of binary value by its length', () => {
    expect(toLogSafe({ a: Buffer.alloc(3), b: new Uint16Array(4), c: new ArrayBuffer(5), d: new DataView(new ArrayBuffer(6)) })).toEqual({
      a: '[3 octets]',
      b: '[8 octets]',
      c: '[5 octets]',
      d: '[6 octets]',
    });
  });

  it('redacts secret names at any depth', () => {
    const deep = { a: { b: { c: { d: { e: { SKEYSEED: 'x', ok: 'y' } } } } } };
    expect(toLogSafe(deep)).toEqual({ a: { b: { c: { d: { e: { SKEYSEED: '[Redacted]', ok: 'y' } } } } } });
  });

  it('bounds the depth and breaks cycles without letting anything through unexamined', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(toLogSafe(cyclic)).toEqual({ name: 'loop', self: '[Circular]' });
    expect(toLogSafe({ a: { b: { c: Buffer.alloc(1) } } }, 2)).toEqual({ a: { b: '[Object]' } });
    expect(toLogSafe({ a: [[Buffer.alloc(1)]] }, 2)).toEqual({ a: ['[Array]'] });
    // the same object twice (not a cycle) is shown twice
    const shared = { v: 1 };
    expect(toLogSafe({ x: shared, y: shared })).toEqual({ x: { v: 1 }, y: { v: 1 } });
  });

  it('follows toJSON, keeps Dates and turns bigints into strings', () => {
    const state = { toJSON: () => ({ sas: [{ spi: 'c0ffee01', key: Buffer.alloc(16) }] }) };
    const when = new Date(0);
    expect(toLogSafe({ state, when, big: 2n ** 64n })).toEqual({ state: { sas: [{ spi: 'c0ffee01', key: '[Redacted]' }] }, when, big: '18446744073709551616' });
  });

  it('wraps a non-object record', () => {
    expect(toLogSafeRecord(Buffer.alloc(2) as unknown as object)).toEqual({ value: '[2 octets]' });
  });
});
