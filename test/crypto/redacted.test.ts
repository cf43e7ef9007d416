import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REDACTED, isRedacted, redacted } from '../../src/crypto/redacted.js';

describe('redacted', () => {
  it('prints as [redacted] to JSON and util.inspect, while the Buffers stay readable', () => {
    const keys = redacted({ SK_d: Buffer.from('00112233', 'hex') });
    expect(JSON.stringify({ keys })).toBe(`{"keys":"${REDACTED}"}`);
    expect(inspect({ keys })).not.toContain('00112233');
    expect(keys.SK_d.toString('hex')).toBe('00112233');
    expect(isRedacted(keys)).toBe(true);
    expect(isRedacted({ toJSON: () => REDACTED })).toBe(false);
    expect(Object.isFrozen(keys)).toBe(true);
  });

  it('every redacted object shares one hook: no closure per key set (one per SA adds up at 100 000 SAs)', () => {
    const a = redacted({ k: Buffer.alloc(1) });
    const b = redacted({ k: Buffer.alloc(1) });
    expect(a.toJSON).toBe(b.toJSON);
    const custom = Symbol.for('nodejs.util.inspect.custom');
    expect((a as unknown as Record<symbol, unknown>)[custom]).toBe((b as unknown as Record<symbol, unknown>)[custom]);
  });
});
