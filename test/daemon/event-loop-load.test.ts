/**
 * The daemon's LoadPort: the event loop's utilization over the last window, as admission reads it
 * (loadLimitPercent). A loop kept busy reads near 1, a loop waiting for a timer near 0.
 */
import { describe, expect, it } from 'vitest';
import { eventLoopLoad } from '../../src/daemon/event-loop-load.js';

const busyFor = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the loop does not get to poll
  }
};
const idleFor = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('eventLoopLoad', () => {
  it('reads 0 until its first window ends, near 1 after a busy window and near 0 after an idle one', async () => {
    const load = eventLoopLoad(50);
    expect(load.utilization()).toBe(0);
    busyFor(80);
    expect(load.utilization()).toBeGreaterThan(0.8);
    await idleFor(120);
    expect(load.utilization()).toBeLessThan(0.5);
    // Within a window the figure stays that of the last complete one.
    busyFor(10);
    expect(load.utilization()).toBeLessThan(0.5);
  });
});
