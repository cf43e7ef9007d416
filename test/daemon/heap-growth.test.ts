import { describe, expect, it } from 'vitest';
import { applyHeapGrowth, heapGrowthFlag } from '../../src/daemon/heap-growth.js';

describe('heap growth (daemon.heapGrowthPercent)', () => {
  it("sets V8's --heap-growing-percent, and nothing for 0 (V8's own heuristics)", () => {
    const set: string[] = [];
    expect(applyHeapGrowth(25, (f) => set.push(f))).toBe('--heap-growing-percent=25');
    expect(applyHeapGrowth(0, (f) => set.push(f))).toBeUndefined();
    expect(set).toEqual(['--heap-growing-percent=25']);
  });

  it('refuses what is not a whole percentage', () => {
    expect(() => heapGrowthFlag(-1)).toThrow(RangeError);
    expect(() => heapGrowthFlag(2.5)).toThrow(RangeError);
  });
});
