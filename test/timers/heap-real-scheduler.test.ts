import { interval, type Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HeapRealScheduler } from '../../src/timers/heap-real-scheduler.js';
import { createTimerService } from '../../src/timers/timer-service.js';

beforeEach(() => void vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => void vi.useRealTimers());

describe('HeapRealScheduler', () => {
  it('runs work by due time, then in scheduling order, never inside schedule, with one Node timer', () => {
    const s = new HeapRealScheduler();
    const ran: string[] = [];
    s.schedule(() => void ran.push('b@20'), 20);
    s.schedule(() => void ran.push('a@10'), 10);
    s.schedule(() => void ran.push('c@20'), 20);
    s.schedule(() => void ran.push('now'), 0);
    expect(ran).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(10);
    expect(ran).toEqual(['now', 'a@10']);
    vi.advanceTimersByTime(10);
    expect(ran).toEqual(['now', 'a@10', 'b@20', 'c@20']);
    expect(vi.getTimerCount()).toBe(0);
    expect(s.pending).toBe(0);
  });

  it('cancelling removes the work; with nothing queued no Node timer keeps the process alive', () => {
    const s = new HeapRealScheduler();
    const ran: string[] = [];
    const first = s.schedule(() => void ran.push('first'), 5);
    const second = s.schedule(() => void ran.push('second'), 50);
    first.unsubscribe();
    vi.advanceTimersByTime(10);
    expect(ran).toEqual([]);
    second.unsubscribe();
    expect(s.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('work scheduled while a batch runs waits for the next timer callback, even with delay 0', () => {
    const s = new HeapRealScheduler();
    const ran: string[] = [];
    s.schedule(() => {
      ran.push('a');
      s.schedule(() => void ran.push('a-follow-up'), 0);
    }, 5);
    s.schedule(() => void ran.push('b'), 5);
    vi.advanceTimersToNextTimer();
    expect(ran).toEqual(['a', 'b']);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersToNextTimer();
    expect(ran).toEqual(['a', 'b', 'a-follow-up']);
  });

  it('an action that throws is closed, the rest of its batch runs, and the error reaches the caller of the timer', () => {
    const s = new HeapRealScheduler();
    const ran: string[] = [];
    const failing = s.schedule(() => {
      throw new Error('boom');
    }, 5);
    s.schedule(() => void ran.push('after'), 5);
    s.schedule(() => void ran.push('later'), 10);
    expect(() => vi.advanceTimersByTime(5)).toThrow('boom');
    expect(ran).toEqual(['after']);
    expect(failing.closed).toBe(true);
    vi.advanceTimersByTime(5);
    expect(ran).toEqual(['after', 'later']);
  });

  it("does not fire early for work beyond Node's 2^31−1 ms timer limit", () => {
    const s = new HeapRealScheduler();
    let ran = false;
    const far = 2 ** 31 + 10_000;
    s.schedule(() => void (ran = true), far);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(ran).toBe(false);
    vi.advanceTimersByTime(10_001);
    expect(ran).toBe(true);
  });

  it('drives RxJS operators that re-schedule their action (interval) and the engine timer service', () => {
    const s = new HeapRealScheduler();
    const ticks: number[] = [];
    const sub: Subscription = interval(100, s).subscribe((n) => ticks.push(n));
    vi.advanceTimersByTime(350);
    expect(ticks).toEqual([0, 1, 2]);
    sub.unsubscribe();
    vi.advanceTimersByTime(1000);
    expect(ticks).toEqual([0, 1, 2]);

    const delivered: string[] = [];
    const timers = createTimerService({ scheduler: s, deliver: (owner, event) => void delivered.push(`${owner}:${event.type}`) });
    timers.arm('ike-1', 'rekey', Date.now() + 3_600_000, { type: 'REKEY_IKE_SA' } as never);
    timers.arm('ike-2', 'dpd', Date.now() + 30_000, { type: 'DPD' } as never);
    timers.arm('ike-2', 'dpd', Date.now() + 60_000, { type: 'DPD' } as never); // re-armed: replaces
    vi.advanceTimersByTime(59_999);
    expect(delivered).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(delivered).toEqual(['ike-2:DPD']);
    timers.dispose();
    expect(vi.getTimerCount()).toBe(0);
  });
});
