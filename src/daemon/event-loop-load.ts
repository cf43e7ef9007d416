/**
 * The daemon's LoadPort: the share of the last window (100 ms) that the event loop spent working
 * rather than waiting in the poll for input (Node's event loop utilization). Near 1, datagrams
 * wait in the socket buffer while the loop computes, and admission takes on no new DH work.
 *
 * Sampled lazily: the figure is the utilization over the last complete window, refreshed on the
 * first call after a window ends; after a quiet spell that window is the whole spell. The first
 * window starts at the first call (0 until it ends).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import type { LoadPort } from '../ports.js';

export const LOAD_WINDOW_MS = 100;

export function eventLoopLoad(windowMs = LOAD_WINDOW_MS): LoadPort {
  // The first window starts at the first question, not at start-up (loading and binding are busy).
  let since: EventLoopUtilization | undefined;
  let sinceMs = 0;
  let last = 0;
  return {
    utilization(): number {
      const now = performance.now();
      if (since === undefined) {
        since = performance.eventLoopUtilization();
        sinceMs = now;
      } else if (now - sinceMs >= windowMs) {
        const sample = performance.eventLoopUtilization();
        last = performance.eventLoopUtilization(sample, since).utilization;
        since = sample;
        sinceMs = now;
      }
      return last;
    },
  };
}
