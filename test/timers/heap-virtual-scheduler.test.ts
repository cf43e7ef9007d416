import { Subject, debounceTime, delay, interval, take, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { HeapVirtualScheduler, IndexedMinHeap, VirtualTimeLimitError, type HeapNode } from '../../src/timers/index.js';

describe('IndexedMinHeap', () => {
  interface Item extends HeapNode {
    key: number;
  }
  const item = (key: number): Item => ({ key, heapIndex: -1 });

  it('pops in key order and removes arbitrary nodes', () => {
    const heap = new IndexedMinHeap<Item>((a, b) => a.key < b.key);
    const items = [5, 3, 9, 1, 7, 2, 8, 6, 4, 0].map(item);
    for (const it of items) heap.push(it);
    heap.remove(items[0]!); // 5
    heap.remove(items[3]!); // 1
    heap.remove(items[3]!); // already gone: ignored
    expect(heap.size).toBe(8);
    const out: number[] = [];
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) out.push(next.key);
    expect(out).toEqual([0, 2, 3, 4, 6, 7, 8, 9]);
    expect(items.every((it) => it.heapIndex === -1)).toBe(true);
  });

  it('stays a heap under random push/remove/pop', () => {
    const heap = new IndexedMinHeap<Item>((a, b) => a.key < b.key);
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const live = new Set<Item>();
    for (let i = 0; i < 5000; i++) {
      const r = rand();
      if (r < 0.5 || live.size === 0) {
        const it = item(Math.floor(rand() * 1000));
        heap.push(it);
        live.add(it);
      } else if (r < 0.8) {
        const victim = [...live][Math.floor(rand() * live.size)]!;
        heap.remove(victim);
        live.delete(victim);
      } else {
        const top = heap.pop()!;
        expect(Math.min(...[...live].map((x) => x.key))).toBe(top.key);
        live.delete(top);
      }
      expect(heap.size).toBe(live.size);
    }
  });
});

describe('HeapVirtualScheduler', () => {
  it('runs work in due order, equal due times in scheduling order', () => {
    const s = new HeapVirtualScheduler();
    const log: string[] = [];
    s.schedule(() => log.push('b@20'), 20);
    s.schedule(() => log.push('a@10'), 10);
    s.schedule(() => log.push('c@20'), 20);
    s.schedule(() => log.push('d@0'), 0);
    s.schedule(() => log.push('e@20'), 20);
    expect(log).toEqual([]); // nothing runs inside schedule
    expect(s.pending).toBe(5);
    expect(s.nextDueMs).toBe(0);
    s.flush();
    expect(log).toEqual(['d@0', 'a@10', 'b@20', 'c@20', 'e@20']);
    expect(s.now()).toBe(20);
    expect(s.pending).toBe(0);
  });

  it('passes state and binds this to a re-schedulable action; the clock reads the due time', () => {
    const s = new HeapVirtualScheduler({ startMs: 1000 });
    const seen: Array<[number, number]> = [];
    s.schedule<number>(
      function (n) {
        seen.push([n!, s.now()]);
        if (n! < 3) this.schedule(n! + 1, 5);
      },
      10,
      0,
    );
    s.flush();
    expect(seen).toEqual([
      [0, 1010],
      [1, 1015],
      [2, 1020],
      [3, 1025],
    ]);
  });

  it('advanceTo runs everything due up to and including the target, even work scheduled inside the window', () => {
    const s = new HeapVirtualScheduler();
    const log: Array<[string, number]> = [];
    s.schedule(() => {
      log.push(['outer', s.now()]);
      s.schedule(() => log.push(['nested+5', s.now()]), 5); // 15: inside the window
      s.schedule(() => log.push(['nested+0', s.now()]), 0); // 10: same instant, after outer
      s.schedule(() => log.push(['nested+50', s.now()]), 50); // 60: outside
    }, 10);
    s.schedule(() => log.push(['edge', s.now()]), 20);
    s.schedule(() => log.push(['late', s.now()]), 21);
    expect(s.advanceTo(20)).toBe(4);
    expect(log).toEqual([
      ['outer', 10],
      ['nested+0', 10],
      ['nested+5', 15],
      ['edge', 20],
    ]);
    expect(s.now()).toBe(20);
    expect(s.pending).toBe(2);
    expect(s.advanceBy(0)).toBe(0);
    expect(s.advanceBy(1)).toBe(1);
    expect(s.advanceTo(1000)).toBe(1);
    expect(s.now()).toBe(1000);
    expect(log.slice(4)).toEqual([
      ['late', 21],
      ['nested+50', 60],
    ]);
  });

  it('refuses to move time backwards or to advance from inside work', () => {
    const s = new HeapVirtualScheduler({ startMs: 50 });
    expect(() => s.advanceTo(49)).toThrow(RangeError);
    expect(() => s.advanceBy(-1)).toThrow(RangeError);
    s.schedule(() => s.advanceBy(1), 1);
    expect(() => s.advanceBy(1)).toThrow(/inside scheduled work/);
    // The scheduler is usable afterwards.
    let ran = false;
    s.schedule(() => (ran = true), 1);
    s.flush();
    expect(ran).toBe(true);
  });

  it('treats negative and NaN delays as 0', () => {
    const s = new HeapVirtualScheduler({ startMs: 100 });
    const at: number[] = [];
    s.schedule(() => at.push(s.now()), -50);
    s.schedule(() => at.push(s.now()), Number.NaN);
    s.advanceBy(0);
    expect(at).toEqual([100, 100]);
  });

  it('cancellation removes the action at once; re-scheduling a queued action moves it', () => {
    const s = new HeapVirtualScheduler();
    const log: string[] = [];
    const a = s.schedule(() => log.push('a'), 10);
    const b = s.schedule(() => log.push('b'), 20);
    s.schedule(() => log.push('c'), 30);
    a.unsubscribe();
    a.unsubscribe(); // idempotent
    expect(s.pending).toBe(2);
    (b as unknown as { schedule(state?: unknown, delay?: number): unknown }).schedule(undefined, 40);
    expect(s.pending).toBe(2);
    s.flush();
    expect(log).toEqual(['c', 'b']);
    // A closed action ignores schedule.
    (a as unknown as { schedule(state?: unknown, delay?: number): unknown }).schedule(undefined, 1);
    expect(s.pending).toBe(0);
  });

  it('a failing action is closed and its error reaches the caller; the rest stays runnable', () => {
    const s = new HeapVirtualScheduler();
    const log: number[] = [];
    s.schedule(() => log.push(1), 1);
    s.schedule(() => {
      throw new Error('boom');
    }, 2);
    s.schedule(() => log.push(3), 3);
    expect(() => s.advanceTo(10)).toThrow('boom');
    expect(s.now()).toBe(2);
    expect(s.pending).toBe(1);
    s.advanceTo(10);
    expect(log).toEqual([1, 3]);
  });

  it('flush guards against periodic work with maxSteps and maxTimeMs', () => {
    const s = new HeapVirtualScheduler();
    const sub = interval(10, s).subscribe();
    expect(() => s.flush({ maxSteps: 100 })).toThrow(VirtualTimeLimitError);
    expect(s.now()).toBe(1000);
    expect(() => s.flush({ maxTimeMs: 5000 })).toThrow(VirtualTimeLimitError);
    expect(s.now()).toBe(5000);
    sub.unsubscribe();
    expect(s.pending).toBe(0);
    expect(s.flush()).toBe(0);

    const tight = new HeapVirtualScheduler({ maxSteps: 50 });
    interval(0, tight).subscribe(); // never leaves the current instant
    expect(() => tight.advanceBy(1)).toThrow(VirtualTimeLimitError);
  });

  describe('with RxJS 7 operators', () => {
    it('timer(delay) and timer(Date)', () => {
      const s = new HeapVirtualScheduler({ startMs: 1_000 });
      const at: Array<[string, number]> = [];
      timer(250, s).subscribe(() => at.push(['delay', s.now()]));
      timer(new Date(1_100), s).subscribe(() => at.push(['date', s.now()]));
      timer(new Date(0), s).subscribe(() => at.push(['past date', s.now()]));
      expect(at).toEqual([]);
      s.flush();
      expect(at).toEqual([
        ['past date', 1_000],
        ['date', 1_100],
        ['delay', 1_250],
      ]);
    });

    it('interval + take emits on the period and completes', () => {
      const s = new HeapVirtualScheduler();
      const at: Array<[number, number]> = [];
      let completedAt = -1;
      interval(1_000, s)
        .pipe(take(4))
        .subscribe({ next: (n) => at.push([n, s.now()]), complete: () => (completedAt = s.now()) });
      s.advanceTo(2_500);
      expect(at).toEqual([
        [0, 1_000],
        [1, 2_000],
      ]);
      s.flush();
      expect(at.map(([, t]) => t)).toEqual([1_000, 2_000, 3_000, 4_000]);
      expect(completedAt).toBe(4_000);
      expect(s.pending).toBe(0);
    });

    it('timer(first, period) repeats on the same action', () => {
      const s = new HeapVirtualScheduler();
      const at: number[] = [];
      const sub = timer(5, 10, s).subscribe(() => at.push(s.now()));
      s.advanceTo(40);
      expect(at).toEqual([5, 15, 25, 35]);
      expect(s.pending).toBe(1);
      sub.unsubscribe();
      expect(s.pending).toBe(0);
    });

    it('delay shifts each value by the delay', () => {
      const s = new HeapVirtualScheduler();
      const source = new Subject<string>();
      const at: Array<[string, number]> = [];
      source.pipe(delay(100, s)).subscribe((v) => at.push([v, s.now()]));
      source.next('a');
      s.advanceBy(30);
      source.next('b');
      s.flush();
      expect(at).toEqual([
        ['a', 100],
        ['b', 130],
      ]);
    });

    it('debounceTime (which re-schedules its own action) emits after the quiet period', () => {
      const s = new HeapVirtualScheduler();
      const source = new Subject<number>();
      const at: Array<[number, number]> = [];
      source.pipe(debounceTime(50, s)).subscribe((v) => at.push([v, s.now()]));
      source.next(1);
      s.advanceBy(30);
      source.next(2);
      s.advanceBy(30);
      source.next(3);
      s.advanceTo(200);
      expect(at).toEqual([[3, 110]]);
    });

    it('unsubscribing a pending timer leaves nothing queued', () => {
      const s = new HeapVirtualScheduler();
      const subs = Array.from({ length: 1000 }, (_, i) => timer(i, s).subscribe());
      expect(s.pending).toBe(1000);
      for (const sub of subs) sub.unsubscribe();
      expect(s.pending).toBe(0);
    });
  });
});
