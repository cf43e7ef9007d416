import { describe, expect, it } from 'vitest';
import { tsharkAvailable, tsharkGate } from '../support/tshark.js';

describe('tshark availability policy', () => {
  it('runs when tshark is there, skips when missing, fails when missing under CI=true', () => {
    expect(tsharkGate({ available: true, version: 'TShark 4.0' }, {})).toBe('run');
    expect(tsharkGate({ available: true, version: 'TShark 4.0' }, { CI: 'true' })).toBe('run');
    expect(tsharkGate({ available: false, reason: 'ENOENT' }, {})).toBe('skip');
    expect(tsharkGate({ available: false, reason: 'ENOENT' }, { CI: 'false' })).toBe('skip');
    expect(tsharkGate({ available: false, reason: 'ENOENT' }, { CI: 'true' })).toBe('fail');
  });

  it('reports a missing binary with the reason', () => {
    const availability = tsharkAvailable('/nonexistent/tshark-for-ikekm-test');
    expect(availability.available).toBe(false);
    if (!availability.available) expect(availability.reason).toMatch(/ENOENT/);
  });
});
