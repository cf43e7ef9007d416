/**
 * A record on disk: one entry per line (record-entry.ts), created 0600 (it holds the DH private
 * values and nonces of what it recorded). Writing never blocks the event loop: lines are queued
 * and written in order in the background; if the disk falls more than `maxQueuedBytes` behind,
 * the record stops there (it still replays up to that point) rather than grow without bound.
 */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { decodeRecordLine, encodeRecordLine, type RecordEntry } from './record-entry.js';

export const DEFAULT_MAX_QUEUED_BYTES = 64 * 1024 * 1024;

export class RecordFile {
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing: Promise<void> | undefined;
  private stoppedReason: string | undefined;
  private closed = false;
  private writtenLines = 0;
  private writtenBytes = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly maxQueuedBytes: number,
    private readonly onStopped: (reason: string) => void,
  ) {}

  /**
   * Creates (or truncates) `path`, mode 0600 even if it existed with another. `newFile`: only a
   * file that does not exist yet (O_EXCL, which a symbolic link fails too): a record asked for
   * over the control socket is written by the daemon, and must never write over what is there.
   */
  static async open(path: string, options: { maxQueuedBytes?: number; onStopped?: (reason: string) => void; newFile?: boolean } = {}): Promise<RecordFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, options.newFile === true ? 'wx' : 'w', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${path} exists: a record is written to a new file, never over one`);
      throw error;
    }
    try {
      await handle.chmod(0o600);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new RecordFile(path, handle, options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES, options.onStopped ?? (() => undefined));
  }

  /** Lines (entries) and bytes on disk so far; after close(), all of them. */
  get written(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.writtenLines, bytes: this.writtenBytes };
  }

  /** Why the record stopped before it was closed (the disk fell behind, a write failed), if it did. */
  get stopped(): string | undefined {
    return this.stoppedReason;
  }

  write(entry: RecordEntry): void {
    if (this.closed || this.stoppedReason !== undefined) return;
    const line = `${encodeRecordLine(entry)}\n`;
    if (this.queuedBytes + line.length > this.maxQueuedBytes) {
      this.stop(`the disk fell ${this.queuedBytes} bytes behind: the record ends here`);
      return;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    this.writing ??= this.drain();
  }

  /** Writes what is queued and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing;
    await this.handle.close();
  }

  private stop(reason: string): void {
    this.stoppedReason = reason;
    this.queue = [];
    this.queuedBytes = 0;
    this.onStopped(reason);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const lines = this.queue.length;
        const chunk = this.queue.join('');
        this.queue = [];
        this.queuedBytes = 0;
        const { bytesWritten } = await this.handle.write(chunk);
        this.writtenLines += lines;
        this.writtenBytes += bytesWritten;
      }
    } catch (error) {
      this.stop(`writing failed: ${(error as Error).message}`);
    } finally {
      this.writing = undefined;
    }
  }
}

/** A record file's entries; a line that is not a record entry is reported with its number. */
export async function readRecordFile(path: string): Promise<RecordEntry[]> {
  const text = await readFile(path, 'utf8');
  const entries: RecordEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    try {
      entries.push(decodeRecordLine(line));
    } catch (error) {
      throw new SyntaxError(`${path}:${i + 1}: not a record entry: ${(error as Error).message}`);
    }
  }
  return entries;
}
