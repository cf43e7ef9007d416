import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { xfrmHostUnsupportedReason } from '../../../src/kernel/xfrm/xfrm-host.js';

describe('xfrmHostUnsupportedReason', () => {
  it('accepts 64-bit little-endian hosts, where the layouts checked against gcc hold', () => {
    expect(xfrmHostUnsupportedReason('x64', 'LE')).toBeUndefined();
    expect(xfrmHostUnsupportedReason('arm64', 'LE')).toBeUndefined();
  });

  it('refuses big-endian hosts and 32-bit ones (u64 fields 4-aligned there)', () => {
    expect(xfrmHostUnsupportedReason('s390x', 'BE')).toMatch(/big-endian/);
    expect(xfrmHostUnsupportedReason('ia32', 'LE')).toMatch(/64-bit/);
    expect(xfrmHostUnsupportedReason('arm', 'LE')).toMatch(/64-bit/);
  });

  it('accepts the machine the tests run on (they compare bytes with its kernel)', () => {
    expect(xfrmHostUnsupportedReason(process.arch, endianness())).toBeUndefined();
  });
});
