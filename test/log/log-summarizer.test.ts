/**
 * LogSummarizer in virtual time: records of repeatable network events (marked with a summary
 * key) are logged a few per window, the rest counted into one summary record when the window
 * ends; unmarked records and distinct keys are untouched by each other.
 */
import { describe, expect, it } from 'vitest';
import { LogSummarizer, type LogSummary } from '../../src/log/log-summarizer.js';
import { HeapVirtualScheduler } from '../../src/timers/heap-virtual-scheduler.js';
import { createTimerService } from '../../src/timers/timer-service.js';
import { capturingLog, type LogRecord } from '../engine/lab.js';

const UNKNOWN_PEER: LogSummary = { key: 'ike-sa-init-unknown-peer', events: 'IKE_SA_INIT from unknown peers' };
const MALFORMED: LogSummary = { key: 'malformed', events: 'malformed IKE datagrams' };

function setup(options: { wakeUps?: boolean } = {}) {
  const scheduler = new HeapVirtualScheduler();
  const records: LogRecord[] = [];
  let summarizer: LogSummarizer | undefined;
  const timers = createTimerService({ scheduler, deliver: (_owner, event) => summarizer?.windowEnded((event as unknown as { key: string }).key) });
  summarizer = new LogSummarizer({
    log: capturingLog(records),
    clock: timers,
    wakeAt: (key, atMs) => {
      if (options.wakeUps !== false) timers.arm('log-summary', key, atMs, { type: 'WINDOW_END', key } as never);
    },
  });
  return { scheduler, records, summarizer };
}

const refusal = (n: number, summary: LogSummary = UNKNOWN_PEER) => ({
  level: 'info' as const,
  bindings: { component: 'supervisor' },
  fields: { remote: `198.51.100.${n % 256}` },
  message: 'IKE_SA_INIT from a peer no connection is configured for: dropped',
  summary,
});

describe('LogSummarizer', () => {
  it('1 000 events in a second: three records, then silence, then one summary with the counts and the first one not logged', () => {
    const { scheduler, records, summarizer } = setup();
    for (let i = 0; i < 1000; i++) {
      summarizer.write(refusal(i));
      scheduler.advanceBy(1);
    }
    expect(records.map((r) => r.fields.remote)).toEqual(['198.51.100.0', '198.51.100.1', '198.51.100.2']);
    scheduler.advanceTo(9_999);
    expect(records).toHaveLength(3);
    scheduler.advanceTo(10_000);
    expect(records).toHaveLength(4);
    const summary = records[3]!;
    expect(summary.level).toBe('info');
    expect(summary.message).toBe('1000 IKE_SA_INIT from unknown peers in the last 10 s (997 not logged one by one), e.g. the first not logged');
    expect(summary.fields).toEqual({
      summary: 'ike-sa-init-unknown-peer',
      events: 1000,
      logged: 3,
      notLogged: 997,
      windowSeconds: 10,
      example: { message: 'IKE_SA_INIT from a peer no connection is configured for: dropped', component: 'supervisor', remote: '198.51.100.3' },
    });
    // Then nothing more: the window is closed and no event came.
    scheduler.advanceTo(100_000);
    expect(records).toHaveLength(4);
  });

  it('a flood that goes on costs four records per window', () => {
    const { scheduler, records, summarizer } = setup();
    for (let ms = 0; ms < 60_000; ms++) {
      summarizer.write(refusal(ms));
      scheduler.advanceBy(1);
    }
    scheduler.advanceBy(10_000);
    expect(records).toHaveLength(6 * 4);
    const summaries = records.filter((r) => r.fields.summary !== undefined);
    expect(summaries.map((r) => r.fields.events)).toEqual([10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
  });

  it('a lone event is logged at once and makes no summary', () => {
    const { scheduler, records, summarizer } = setup();
    summarizer.write(refusal(1));
    expect(records).toHaveLength(1);
    scheduler.advanceBy(60_000);
    expect(records).toHaveLength(1);
    expect(summarizer.openWindows).toBe(0);
  });

  it('distinct keys are independent, and records without a key are never held back', () => {
    const { scheduler, records, summarizer } = setup();
    for (let i = 0; i < 100; i++) {
      summarizer.write(refusal(i));
      summarizer.write({ ...refusal(i, MALFORMED), level: 'debug', message: 'malformed IKE datagram dropped' });
      summarizer.write({ level: 'info', bindings: {}, fields: { n: i }, message: 'IKE SA established' });
    }
    expect(records.filter((r) => r.message === 'IKE SA established')).toHaveLength(100);
    expect(records.filter((r) => r.message.startsWith('IKE_SA_INIT from a peer'))).toHaveLength(3);
    expect(records.filter((r) => r.message === 'malformed IKE datagram dropped')).toHaveLength(3);
    scheduler.advanceBy(10_000);
    const summaries = records.filter((r) => r.fields.summary !== undefined);
    expect(summaries.map((r) => [r.fields.summary, r.level, r.fields.events, r.fields.notLogged])).toEqual([
      ['ike-sa-init-unknown-peer', 'info', 100, 97],
      ['malformed', 'debug', 100, 97],
    ]);
  });

  it('the summary takes the highest level among the records not logged', () => {
    const { scheduler, records, summarizer } = setup();
    for (let i = 0; i < 5; i++) summarizer.write(refusal(i));
    summarizer.write({ ...refusal(5), level: 'warn' });
    summarizer.write(refusal(6));
    scheduler.advanceBy(10_000);
    expect(records.at(-1)?.level).toBe('warn');
  });

  it('a window whose wake-up never came is closed by the next record of its key', () => {
    const { scheduler, records, summarizer } = setup({ wakeUps: false });
    for (let i = 0; i < 10; i++) summarizer.write(refusal(i));
    scheduler.advanceBy(10_000);
    expect(records).toHaveLength(3);
    summarizer.write(refusal(10));
    expect(records.map((r) => r.fields.events ?? r.fields.remote)).toEqual(['198.51.100.0', '198.51.100.1', '198.51.100.2', 10, '198.51.100.10']);
  });

  it('flush writes every open window now', () => {
    const { records, summarizer } = setup();
    for (let i = 0; i < 10; i++) summarizer.write(refusal(i));
    summarizer.flush();
    expect(records.at(-1)?.fields.notLogged).toBe(7);
    expect(summarizer.openWindows).toBe(0);
  });
});
