/**
 * A record begun on a running daemon (`ikekm record start FILE [--connection NAME]`, stopped by
 * `ikekm record stop`): the same format as `--record` (src/replay/record-entry.ts), holding the
 * negotiations that begin after the start (src/replay/journal-scope.ts says what is kept and
 * what cannot be), so that `ikekm replay` replays them on an empty engine.
 *
 * It follows the engine's journal through the tap with the secret draws (journal-tap.ts), as it
 * must to replay: the file is created 0600 by the daemon and holds the DH private values and
 * nonces of what it records. The header says when it began and which IKE SAs it leaves out.
 */
import type { EngineConfig } from '../config/model.js';
import { RECORD_FORMAT, RECORD_VERSION } from '../replay/record-entry.js';
import { RecordFile } from '../replay/record-file.js';
import { IKEKM_VERSION } from '../replay/record-journal.js';
import { JournalScope, type ConnectionOfSa } from '../replay/journal-scope.js';
import type { JournalTap } from './journal-tap.js';

export interface MidRunRecordStart {
  readonly path: string;
  readonly tap: JournalTap;
  /** The configuration now: the replay's engine starts with it. */
  readonly config: EngineConfig;
  readonly kernelEnforcesByteLimits: boolean;
  readonly nowMs: number;
  /** Only this connection's new SAs; `of` reads an IKE SA's connection from the engine. */
  readonly connection?: { readonly name: string; readonly of: (ikeSaId: string) => ConnectionOfSa };
  /** The file stopped taking entries (the disk fell behind, a write failed). */
  readonly onStopped?: (reason: string) => void;
}

/** What `record start` answers. */
export interface MidRunRecordStarted {
  readonly file: string;
  readonly startedAtMs: number;
  /** IKE SAs live at the start, left out (with what is rekeyed from them). */
  readonly existingIkeSas: number;
  readonly connection?: string;
}

/** What `record stop` answers. */
export interface MidRunRecordSummary {
  readonly file: string;
  /** Lines in the file, header included, and its size. */
  readonly entries: number;
  readonly bytes: number;
  /** Groups (an input and what followed from it) kept and left out. */
  readonly keptGroups: number;
  readonly leftOutGroups: number;
  /** Set when the file stopped taking entries before `stop` (it replays up to there). */
  readonly stopped?: string;
}

export class MidRunRecord {
  private unfollow: () => void = () => undefined;
  private closing: Promise<MidRunRecordSummary> | undefined;
  private endedBy: string | undefined;

  private constructor(
    private readonly file: RecordFile,
    private readonly scope: JournalScope,
    readonly started: MidRunRecordStarted,
  ) {}

  static async start(options: MidRunRecordStart): Promise<MidRunRecord> {
    const file = await RecordFile.open(options.path, { newFile: true, ...(options.onStopped === undefined ? {} : { onStopped: options.onStopped }) });
    // Kept entries are held until the header is written (the scope keeps none before its
    // first complete group, which cannot come while the tap attaches).
    const pending: Parameters<RecordFile['write']>[0][] = [];
    let sink = (entry: Parameters<RecordFile['write']>[0]): void => void pending.push(entry);
    const scope = new JournalScope({ sink: (entry) => sink(entry), ...(options.connection === undefined ? {} : { connection: options.connection }) });
    let record: MidRunRecord | undefined;
    const unfollow = options.tap.followWithSecrets({
      entry: (entry) => scope.push(entry),
      end: (reason) => record?.followEnded(reason),
    });
    file.write({
      t: 'header',
      format: RECORD_FORMAT,
      version: RECORD_VERSION,
      ikekm: IKEKM_VERSION,
      kernelEnforcesByteLimits: options.kernelEnforcesByteLimits,
      config: options.config,
      midRun: {
        startedAtMs: options.nowMs,
        existingIkeSas: scope.existing,
        ...(options.connection === undefined ? {} : { connection: options.connection.name }),
      },
    });
    for (const entry of pending) file.write(entry);
    sink = (entry) => file.write(entry);
    record = new MidRunRecord(file, scope, {
      file: options.path,
      startedAtMs: options.nowMs,
      existingIkeSas: scope.existing.length,
      ...(options.connection === undefined ? {} : { connection: options.connection.name }),
    });
    record.unfollow = unfollow;
    return record;
  }

  get path(): string {
    return this.file.path;
  }

  /** Stops following, writes what is kept of the last group, closes the file (idempotent). */
  stop(): Promise<MidRunRecordSummary> {
    this.closing ??= (async () => {
      this.unfollow();
      this.scope.end();
      await this.file.close();
      const stopped = this.file.stopped ?? this.endedBy;
      return {
        file: this.file.path,
        ...this.file.written,
        keptGroups: this.scope.counts.kept,
        leftOutGroups: this.scope.counts.leftOut,
        ...(stopped === undefined ? {} : { stopped }),
      };
    })();
    return this.closing;
  }

  /** The tap ended the follow (the daemon stops, or writing threw). */
  private followEnded(reason: string | undefined): void {
    if (reason !== undefined) this.endedBy = reason;
  }
}
