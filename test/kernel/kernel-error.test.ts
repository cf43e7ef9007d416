import { describe, expect, it } from 'vitest';
import { KernelError, isKernelError } from '../../src/kernel/kernel-error.js';

describe('KernelError', () => {
  it('expected answers (exists, not-found) carry no stack frames; the others do', () => {
    for (const code of ['exists', 'not-found'] as const) {
      const e = new KernelError(code, `a ${code} answer`);
      expect(e.stack?.split('\n').filter((l) => l.trim().startsWith('at ')) ?? []).toEqual([]);
      expect(isKernelError(e, code)).toBe(true);
    }
    const failed = new KernelError('failed', 'no memory', 12);
    expect(failed.stack).toMatch(/\n\s+at /);
    expect(failed.errno).toBe(12);
  });

  it("leaves the process's stack trace limit as it was", () => {
    const before = Error.stackTraceLimit;
    new KernelError('exists', 'x');
    expect(Error.stackTraceLimit).toBe(before);
  });
});
