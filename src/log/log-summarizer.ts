/**
 * Summarised logging of repeatable network events. Anyone can send an IKE_SA_INIT from a spoofed
 * address; one record per such datagram lets a single sender fill the disk (1 000 datagrams/s
 * made ~235 KB/s of log). A record marked with a `LogSummary` key passes through at most
 * `perWindow` times per window for that key; the rest are counted, and when the window ends one
 * record says how many there were, with the first one not logged as an example:
 *
 *     1234 IKE_SA_INIT from peers no connection is configured for in the last 10 s
 *     (1231 not logged one by one), e.g. the first not logged   {example: {remote: …}}
 *
 * A window opens with the first record of its key and lasts `windowMs`; then the key starts
 * afresh. So a steady flood costs at most `perWindow + 1` records per key per window, and a lone
 * event is logged as it is, at once. Keys are independent. Time is the injected clock, and the
 * end of a window is a wake-up the owner arranges (`wakeAt`, the engine's timer service), so the
 * whole thing runs in virtual time in tests. A window whose wake-up never came (timers disposed)
 * is closed by the next record of its key.
 */
import type { ClockPort, LogPort } from '../ports.js';
import { distinctFields, writeRecord, type LogRecord, type LogRecordLevel } from './record-writer.js';

/** The mark a call site puts on a record of a repeatable network event. */
export interface LogSummary {
  /** Records with the same key are counted together, e.g. 'ike-sa-init-unknown-peer'. */
  readonly key: string;
  /** What the records are, plural, for the summary: 'IKE_SA_INIT from peers no connection is configured for'. */
  readonly events: string;
}

export interface SummarizableRecord extends LogRecord {
  readonly summary?: LogSummary | undefined;
}

export interface LogSummarizerOptions {
  readonly log: LogPort;
  readonly clock: ClockPort;
  /** Arranges a call of `windowEnded(key)` at `atMs` (re-arming the same key replaces it). */
  readonly wakeAt: (key: string, atMs: number) => void;
  /** Default 10 s. */
  readonly windowMs?: number;
  /** Records of one key logged one by one per window. Default 3. */
  readonly perWindow?: number;
}

export const DEFAULT_SUMMARY_WINDOW_MS = 10_000;
export const DEFAULT_SUMMARY_PER_WINDOW = 3;

const SEVERITY: Record<LogRecordLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

interface Window {
  readonly summary: LogSummary;
  readonly startMs: number;
  logged: number;
  notLogged: number;
  /** The highest level among the records not logged: the summary's level. */
  level: LogRecordLevel;
  /** The first record not logged, fields over bindings. */
  example: Record<string, unknown> | undefined;
}

export class LogSummarizer {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly perWindow: number;

  constructor(private readonly options: LogSummarizerOptions) {
    this.windowMs = options.windowMs ?? DEFAULT_SUMMARY_WINDOW_MS;
    this.perWindow = options.perWindow ?? DEFAULT_SUMMARY_PER_WINDOW;
  }

  write(record: SummarizableRecord): void {
    const { summary } = record;
    if (summary === undefined) {
      writeRecord(this.options.log, record);
      return;
    }
    const now = this.options.clock.now();
    let w = this.windows.get(summary.key);
    if (w !== undefined && now >= w.startMs + this.windowMs) {
      this.windowEnded(summary.key);
      w = undefined;
    }
    if (w === undefined) {
      w = { summary, startMs: now, logged: 0, notLogged: 0, level: record.level, example: undefined };
      this.windows.set(summary.key, w);
      this.options.wakeAt(summary.key, now + this.windowMs);
    }
    if (w.logged < this.perWindow) {
      w.logged++;
      writeRecord(this.options.log, record);
      return;
    }
    if (w.notLogged === 0 || SEVERITY[record.level] > SEVERITY[w.level]) w.level = record.level;
    w.notLogged++;
    w.example ??= { message: record.message, ...distinctFields(record.bindings, record.fields).bindings, ...record.fields };
  }

  /** The window of `key` is over: its summary, if any record was not logged. */
  windowEnded(key: string): void {
    const w = this.windows.get(key);
    if (w === undefined) return;
    this.windows.delete(key);
    if (w.notLogged === 0) return;
    const seconds = Math.round(this.windowMs / 1000);
    const total = w.logged + w.notLogged;
    this.options.log[w.level](
      { summary: key, events: total, logged: w.logged, notLogged: w.notLogged, windowSeconds: seconds, example: w.example },
      `${total} ${w.summary.events} in the last ${seconds} s (${w.notLogged} not logged one by one), e.g. the first not logged`,
    );
  }

  /** Every open window's summary now (the engine stops). */
  flush(): void {
    for (const key of [...this.windows.keys()]) this.windowEnded(key);
  }

  /** Keys with an open window. */
  get openWindows(): number {
    return this.windows.size;
  }
}
