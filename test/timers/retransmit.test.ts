import { toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  HeapVirtualScheduler,
  RETRANSMIT_DEFAULTS,
  nextRetransmit,
  retransmit$,
  retransmitSchedule,
  type RetransmitEvent,
} from '../../src/timers/index.js';

/** strongSwan's formula: wait after transmission n = retransmit_timeout × retransmit_base^n. */
const formulaMs = (initialMs: number, factor: number, n: number): number => initialMs * factor ** n;

describe('retransmitSchedule (RFC 7296 2.1, strongSwan defaults)', () => {
  it('defaults: 5 retransmissions after waits of 4, 7.2, 12.96, 23.328, 41.99 s, giving up 75.58 s later', () => {
    const schedule = retransmitSchedule();
    expect(RETRANSMIT_DEFAULTS).toEqual({ initialMs: 4000, factor: 1.8, tries: 5 });
    expect(schedule.tries).toBe(5);
    expect(schedule.delaysMs).toEqual([4000, 7200, 12960, 23328, 41990, 75582]);
    for (const [n, delay] of schedule.delaysMs.entries()) {
      expect(Math.abs(delay - formulaMs(4000, 1.8, n))).toBeLessThan(1); // whole ms, truncated
    }
    expect(schedule.retransmitAtOffsetsMs).toEqual([4000, 11200, 24160, 47488, 89478]);
    expect(schedule.giveUpAtOffsetMs).toBe(165060);
  });

  it('custom values follow the same formula, including tries = 0 and a per-wait limit', () => {
    const doubling = retransmitSchedule({ initialMs: 500, factor: 2, tries: 3 });
    expect(doubling.delaysMs).toEqual([500, 1000, 2000, 4000]);
    expect(doubling.retransmitAtOffsetsMs).toEqual([500, 1500, 3500]);
    expect(doubling.giveUpAtOffsetMs).toBe(7500);

    const none = retransmitSchedule({ tries: 0 });
    expect(none.delaysMs).toEqual([4000]);
    expect(none.retransmitAtOffsetsMs).toEqual([]);
    expect(none.giveUpAtOffsetMs).toBe(4000);

    const limited = retransmitSchedule({ tries: 8, limitMs: 30_000 });
    expect(limited.delaysMs).toEqual([4000, 7200, 12960, 23328, 30000, 30000, 30000, 30000, 30000]);

    const odd = retransmitSchedule({ initialMs: 1234, factor: 1.37, tries: 10 });
    for (const [n, delay] of odd.delaysMs.entries()) {
      const exact = formulaMs(1234, 1.37, n);
      expect(delay).toBeLessThanOrEqual(exact + 1e-6);
      expect(delay).toBeGreaterThan(exact - 1);
      expect(Number.isInteger(delay)).toBe(true);
    }
    expect(odd.giveUpAtOffsetMs).toBe(odd.delaysMs.reduce((a, b) => a + b, 0));
  });

  it('rejects nonsense', () => {
    expect(() => retransmitSchedule({ initialMs: 0 })).toThrow(RangeError);
    expect(() => retransmitSchedule({ factor: 0.5 })).toThrow(RangeError);
    expect(() => retransmitSchedule({ tries: 1.5 })).toThrow(RangeError);
    expect(() => retransmitSchedule({ tries: -1 })).toThrow(RangeError);
    expect(() => retransmitSchedule({ limitMs: 0 })).toThrow(RangeError);
  });
});

describe('nextRetransmit', () => {
  const schedule = retransmitSchedule();

  it('walks the schedule: attempt = retransmissions already sent', () => {
    expect(nextRetransmit(schedule, 0)).toEqual({ kind: 'retransmit', attempt: 1, delayMs: 4000, atOffsetMs: 4000 });
    expect(nextRetransmit(schedule, 1)).toEqual({ kind: 'retransmit', attempt: 2, delayMs: 7200, atOffsetMs: 11200 });
    expect(nextRetransmit(schedule, 4)).toEqual({ kind: 'retransmit', attempt: 5, delayMs: 41990, atOffsetMs: 89478 });
    expect(nextRetransmit(schedule, 5)).toEqual({ kind: 'give-up', delayMs: 75582, atOffsetMs: 165060 });
    expect(nextRetransmit(schedule, 9)).toEqual({ kind: 'give-up', delayMs: 75582, atOffsetMs: 165060 });
    expect(() => nextRetransmit(schedule, -1)).toThrow(RangeError);
  });

  it('counts 1 original send + `tries` retransmissions before giving up', () => {
    let transmissions = 1;
    let attempt = 0;
    for (let step = nextRetransmit(schedule, attempt); step.kind === 'retransmit'; step = nextRetransmit(schedule, attempt)) {
      transmissions++;
      attempt = step.attempt;
    }
    expect(transmissions).toBe(6);
  });
});

describe('retransmit$', () => {
  it('emits RETRANSMIT 1..tries then RETRANSMIT_TIMEOUT at the offsets from subscription, then completes', () => {
    const scheduler = new HeapVirtualScheduler({ startMs: 50_000 });
    const schedule = retransmitSchedule();
    const seen: Array<[RetransmitEvent, number]> = [];
    let completed = false;
    retransmit$(schedule, scheduler).subscribe({
      next: (e) => seen.push([e, scheduler.now() - 50_000]),
      complete: () => (completed = true),
    });
    scheduler.flush();
    expect(seen).toEqual([
      [{ type: 'RETRANSMIT', attempt: 1 }, 4000],
      [{ type: 'RETRANSMIT', attempt: 2 }, 11200],
      [{ type: 'RETRANSMIT', attempt: 3 }, 24160],
      [{ type: 'RETRANSMIT', attempt: 4 }, 47488],
      [{ type: 'RETRANSMIT', attempt: 5 }, 89478],
      [{ type: 'RETRANSMIT_TIMEOUT' }, 165060],
    ]);
    expect(completed).toBe(true);
  });

  it('is timed from subscription, and unsubscribing (response received) stops it', () => {
    const scheduler = new HeapVirtualScheduler();
    const stream = retransmit$(retransmitSchedule({ initialMs: 1000, factor: 2, tries: 2 }), scheduler);
    scheduler.advanceTo(10_000); // nothing happens before subscription
    const events: Array<[string, number]> = [];
    const sub = stream.subscribe((e) => events.push([e.type, scheduler.now()]));
    scheduler.advanceTo(11_500);
    sub.unsubscribe();
    expect(scheduler.pending).toBe(0);
    scheduler.advanceTo(100_000);
    expect(events).toEqual([['RETRANSMIT', 11_000]]);
  });

  it('collects as a list', async () => {
    const scheduler = new HeapVirtualScheduler();
    const collected = new Promise<RetransmitEvent[]>((resolve) =>
      retransmit$(retransmitSchedule({ tries: 1 }), scheduler).pipe(toArray()).subscribe(resolve),
    );
    scheduler.flush();
    expect(await collected).toEqual([{ type: 'RETRANSMIT', attempt: 1 }, { type: 'RETRANSMIT_TIMEOUT' }]);
  });
});
