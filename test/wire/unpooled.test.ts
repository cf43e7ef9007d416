import { describe, expect, it } from 'vitest';
import { unpooledCopy, unpooledViews } from '../../src/wire/unpooled.js';

describe('bytes kept for an SA’s life, outside Node’s Buffer pool', () => {
  it('a copy owns exactly its bytes (a pooled Buffer.from shares an 8 KiB slab)', () => {
    const source = Buffer.from('0011223344556677', 'hex');
    expect(source.buffer.byteLength).toBeGreaterThan(source.length); // the pool, as Node hands it out
    const copy = unpooledCopy(source);
    expect(copy.equals(source)).toBe(true);
    expect(copy.buffer.byteLength).toBe(8);
    source.fill(0);
    expect(copy.toString('hex')).toBe('0011223344556677');
  });

  it('views share one allocation of exactly their total, and zeroing one leaves the others', () => {
    const [a, b, c] = unpooledViews([Buffer.from([1, 2, 3]), Buffer.alloc(0), Buffer.from([4, 5])]) as [Buffer, Buffer, Buffer];
    expect([...a, ...b, ...c]).toEqual([1, 2, 3, 4, 5]);
    expect(a.buffer).toBe(c.buffer);
    expect(a.buffer.byteLength).toBe(5);
    a.fill(0);
    expect([...c]).toEqual([4, 5]);
  });
});
