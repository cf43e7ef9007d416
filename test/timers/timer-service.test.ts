import { Subject, asyncScheduler, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { TimerEvent } from '../../src/ports.js';
import { HeapVirtualScheduler, MAX_TIMER_DELAY_MS, createTimerService, deadline$ } from '../../src/timers/index.js';

const DAY_MS = 86_400_000;

function harness(startMs = 0) {
  const scheduler = new HeapVirtualScheduler({ startMs });
  const delivered: Array<{ owner: string; type: string; atNowMs: number }> = [];
  const fired: Array<{ owner: string; name: string; type: string; atMs: number }> = [];
  const service = createTimerService({
    scheduler,
    deliver: (owner, event) => delivered.push({ owner, type: event.type, atNowMs: scheduler.now() }),
    onFire: (owner, name, event, atMs) => fired.push({ owner, name, type: event.type, atMs }),
  });
  return { scheduler, service, delivered, fired };
}

describe('createTimerService', () => {
  it('delivers the event to its owner at the absolute deadline', () => {
    const { scheduler, service, delivered } = harness(1_000);
    service.arm('ike-1', 'rekey', 5_000, { type: 'SOFT_EXPIRE' });
    expect(service.pending()).toBe(1);
    expect(service.deadlineOf('ike-1', 'rekey')).toBe(5_000);
    scheduler.advanceTo(4_999);
    expect(delivered).toEqual([]);
    scheduler.advanceTo(5_000);
    expect(delivered).toEqual([{ owner: 'ike-1', type: 'SOFT_EXPIRE', atNowMs: 5_000 }]);
    expect(service.pending()).toBe(0);
    expect(service.deadlineOf('ike-1', 'rekey')).toBeUndefined();
    expect(service.now()).toBe(5_000);
  });

  it('re-arming a name replaces the earlier deadline and event', () => {
    const { scheduler, service, delivered } = harness();
    service.arm('ike-1', 'retransmit', 4_000, { type: 'RETRANSMIT' });
    service.arm('ike-1', 'retransmit', 11_200, { type: 'RETRANSMIT_2' });
    expect(service.pending()).toBe(1);
    expect(scheduler.pending).toBe(1); // the old timer left the scheduler too
    scheduler.advanceTo(60_000);
    expect(delivered).toEqual([{ owner: 'ike-1', type: 'RETRANSMIT_2', atNowMs: 11_200 }]);
  });

  it('cancel removes one timer; cancelAll all of one owner and nobody else', () => {
    const { scheduler, service, delivered } = harness();
    service.arm('ike-1', 'rekey', 100, { type: 'A' });
    service.arm('ike-1', 'expire', 200, { type: 'B' });
    service.arm('ike-1', 'dpd', 300, { type: 'C' });
    service.arm('ike-2', 'rekey', 100, { type: 'D' });
    service.cancel('ike-1', 'rekey');
    service.cancel('ike-1', 'nope'); // unknown: ignored
    service.cancel('ike-9', 'rekey');
    expect(service.pending('ike-1')).toBe(2);
    service.cancelAll('ike-1');
    service.cancelAll('ike-1'); // idempotent
    expect(service.pending('ike-1')).toBe(0);
    expect(service.pending()).toBe(1);
    expect(scheduler.pending).toBe(1);
    scheduler.flush();
    expect(delivered.map((d) => d.type)).toEqual(['D']);
  });

  it('a past deadline fires on the next tick, never synchronously inside arm', () => {
    const { scheduler, service, delivered, fired } = harness(10_000);
    service.arm('child-1', 'expire', 2_000, { type: 'HARD_EXPIRE' });
    service.arm('child-2', 'expire', 10_000, { type: 'HARD_EXPIRE' }); // exactly now
    expect(delivered).toEqual([]);
    scheduler.advanceBy(0);
    expect(delivered).toEqual([
      { owner: 'child-1', type: 'HARD_EXPIRE', atNowMs: 10_000 },
      { owner: 'child-2', type: 'HARD_EXPIRE', atNowMs: 10_000 },
    ]);
    expect(fired.map((f) => f.atMs)).toEqual([2_000, 10_000]); // the recorder sees the deadline armed
  });

  it('arming from inside a delivery (re-entrancy) neither recurses nor loses the new timer', () => {
    const scheduler = new HeapVirtualScheduler();
    const log: Array<[string, number]> = [];
    let depth = 0;
    const service = createTimerService({
      scheduler,
      deliver: (owner, event) => {
        depth++;
        expect(depth).toBe(1);
        log.push([event.type, scheduler.now()]);
        if (event.type === 'REKEY') service.arm(owner, 'rekey', scheduler.now(), { type: 'AGAIN' }); // same name, due now
        depth--;
      },
    });
    service.arm('ike-1', 'rekey', 50, { type: 'REKEY' });
    scheduler.advanceTo(50);
    expect(log).toEqual([
      ['REKEY', 50],
      ['AGAIN', 50],
    ]);
  });

  it('timers due at the same instant are delivered in the order armed', () => {
    const { scheduler, service, delivered } = harness();
    for (const owner of ['c', 'a', 'b']) service.arm(owner, 'x', 100, { type: owner });
    service.arm('a', 'x', 100, { type: 'a-again' }); // re-arm moves 'a' behind the others
    scheduler.flush();
    expect(delivered.map((d) => d.type)).toEqual(['c', 'b', 'a-again']);
  });

  it('onFire sees every firing, before deliver, with owner, name, event and deadline', () => {
    const scheduler = new HeapVirtualScheduler();
    const order: string[] = [];
    const service = createTimerService({
      scheduler,
      deliver: (owner, event) => order.push(`deliver ${owner} ${event.type}`),
      onFire: (owner, name, event, atMs) => order.push(`fire ${owner}/${name} ${event.type} @${atMs}`),
    });
    service.arm('o1', 'n1', 30, { type: 'E1' });
    service.arm('o2', 'n2', 10, { type: 'E2' });
    service.arm('o3', 'n3', 20, { type: 'E3' });
    service.cancel('o3', 'n3');
    scheduler.flush();
    expect(order).toEqual(['fire o2/n2 E2 @10', 'deliver o2 E2', 'fire o1/n1 E1 @30', 'deliver o1 E1']);
  });

  it('hands the scheduler one work function for every timer: no closure per armed timer', () => {
    const scheduler = new HeapVirtualScheduler({ startMs: 0 });
    const works = new Set<unknown>();
    const spy: SchedulerLike = { now: () => scheduler.now(), schedule: (work, delay, state) => (works.add(work), scheduler.schedule(work as never, delay, state)) };
    const delivered: string[] = [];
    const service = createTimerService({ scheduler: spy, deliver: (owner) => delivered.push(owner), maxDelayMs: 1_000 });
    for (let i = 0; i < 50; i++) service.arm(`ike-${i}`, 'rekey', 500 + i * 100, { type: 'SOFT_EXPIRE' });
    scheduler.advanceTo(10_000);
    // Deadlines past one chunk (1 s here) were scheduled again, still with the same function.
    expect(delivered).toHaveLength(50);
    expect(works.size).toBe(1);
  });

  it('rejects a non-finite deadline', () => {
    const { service } = harness();
    expect(() => service.arm('o', 'n', Number.NaN, { type: 'X' })).toThrow(RangeError);
    expect(() => service.arm('o', 'n', Infinity, { type: 'X' })).toThrow(RangeError);
    expect(service.pending()).toBe(0);
  });

  it('dispose cancels everything', () => {
    const { scheduler, service, delivered } = harness();
    for (let i = 0; i < 10; i++) service.arm(`o${i % 3}`, `n${i}`, 100 + i, { type: 'X' });
    service.dispose();
    expect(service.pending()).toBe(0);
    expect(scheduler.pending).toBe(0);
    scheduler.flush();
    expect(delivered).toEqual([]);
  });

  describe('deadlines beyond 2^31−1 ms (Node setTimeout limit)', () => {
    /** Wraps a scheduler and records every delay handed to it. */
    function recording(inner: SchedulerLike): { scheduler: SchedulerLike; delays: number[] } {
      const delays: number[] = [];
      const scheduler: SchedulerLike = {
        now: () => inner.now(),
        schedule: (work: Parameters<SchedulerLike['schedule']>[0], delay?: number, state?: unknown) => {
          delays.push(delay ?? 0);
          return inner.schedule(work, delay, state);
        },
      };
      return { scheduler, delays };
    }

    it('a 60-day deadline fires exactly at 60 days and no single delay exceeds 2^31−1', () => {
      const virtual = new HeapVirtualScheduler({ startMs: 1_700_000_000_000 });
      const { scheduler, delays } = recording(virtual);
      const delivered: Array<[string, number]> = [];
      const service = createTimerService({ scheduler, deliver: (owner, e) => delivered.push([e.type, virtual.now()]) });
      const start = virtual.now();
      service.arm('ike-1', 'expire', start + 60 * DAY_MS, { type: 'HARD_EXPIRE' });
      service.arm('ike-1', 'short', start + 1_000, { type: 'SHORT' });
      virtual.advanceTo(start + 60 * DAY_MS - 1);
      expect(delivered).toEqual([['SHORT', start + 1_000]]);
      virtual.advanceTo(start + 61 * DAY_MS);
      expect(delivered).toEqual([
        ['SHORT', start + 1_000],
        ['HARD_EXPIRE', start + 60 * DAY_MS],
      ]);
      expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
      // 60 days = 5 184 000 000 ms: two full chunks and a remainder, plus the short timer.
      expect(delays.filter((d) => d === MAX_TIMER_DELAY_MS)).toHaveLength(2);
      expect(delays).toHaveLength(4);
    });

    it('cancelling a long deadline between chunks stops it', () => {
      const { scheduler, service, delivered } = harness();
      service.arm('o', 'n', 40 * DAY_MS, { type: 'X' });
      scheduler.advanceTo(30 * DAY_MS); // past the first chunk
      expect(scheduler.pending).toBe(1);
      service.cancel('o', 'n');
      expect(scheduler.pending).toBe(0);
      scheduler.advanceTo(50 * DAY_MS);
      expect(delivered).toEqual([]);
    });

    it('deadline$ re-arms when a real clock reads short of the deadline at the timer', () => {
      // A clock that lags the scheduler by 1 ms, as Date.now() can against Node's monotonic timers.
      const virtual = new HeapVirtualScheduler();
      let lag = 1;
      const lagging: SchedulerLike = {
        now: () => virtual.now() - lag,
        schedule: (work: Parameters<SchedulerLike['schedule']>[0], delay?: number, state?: unknown) =>
          virtual.schedule(work, delay, state),
      };
      const at: number[] = [];
      deadline$(100, lagging).subscribe(() => at.push(lagging.now()));
      virtual.advanceTo(100); // lagging clock reads 99: not yet
      expect(at).toEqual([]);
      lag = 0;
      virtual.advanceTo(101);
      expect(at).toEqual([101]);
    });

    it('deadline$ on a fractional deadline never fires early and terminates', () => {
      // now + (atMs − now) rounds to one ulp BELOW atMs for this pair: the remainder is re-armed.
      const startMs = 887.7619277332092;
      const atMs = 7531.809688247967;
      expect(startMs + (atMs - startMs)).toBeLessThan(atMs);
      const scheduler = new HeapVirtualScheduler({ startMs });
      const at: Array<[number, number]> = [];
      deadline$(atMs, scheduler).subscribe((v) => at.push([v, scheduler.now()]));
      expect(scheduler.flush({ maxSteps: 10 })).toBe(2);
      expect(at).toEqual([[atMs, atMs]]);
    });

    it('on the real asyncScheduler a short deadline fires, and a past one not synchronously', async () => {
      const delivered: string[] = [];
      const service = createTimerService({ scheduler: asyncScheduler, deliver: (_, e) => delivered.push(e.type) });
      const start = asyncScheduler.now();
      service.arm('o', 'past', start - 1_000, { type: 'PAST' });
      service.arm('o', 'soon', start + 20, { type: 'SOON' });
      expect(delivered).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 60));
      expect(delivered).toEqual(['PAST', 'SOON']);
      expect(asyncScheduler.now()).toBeGreaterThanOrEqual(start + 20);
    });
  });

  it('works as a TimerPort with events carrying data', () => {
    const scheduler = new HeapVirtualScheduler();
    const inbox = new Subject<[string, TimerEvent]>();
    const received: Array<[string, TimerEvent]> = [];
    inbox.subscribe((x) => received.push(x));
    const service = createTimerService({ scheduler, deliver: (owner, event) => inbox.next([owner, event]) });
    const event = { type: 'RETRANSMIT', attempt: 2 } as const;
    service.arm('ike-7', 'retransmit', 11_200, event);
    scheduler.flush();
    expect(received).toEqual([['ike-7', event]]);
    expect(received[0]![1]).toBe(event);
  });
});
