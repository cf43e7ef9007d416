/**
 * One Wireshark key table file (esp_sa or ikev2_decryption_table) being appended to. Appends are
 * queued so that lines from SAs installed concurrently never interleave, and a failure to write
 * is logged, not thrown: the key table is a debugging aid, and an IKE or Child SA must not fail
 * because a disk is full.
 *
 * The file holds session keys: it is created with mode 0600 (appendKeylogLines), and an existing
 * file that others can read is reported once.
 */
import { stat } from 'node:fs/promises';
import type { LogPort } from '../ports.js';
import { appendKeylogLines } from './keylog.js';

export class KeylogFile {
  private queue: Promise<void> = Promise.resolve();
  private modeChecked = false;

  constructor(
    readonly path: string,
    private readonly log: LogPort,
  ) {}

  /** Appends one line; resolves true once written, false if writing failed (already logged). */
  append(line: string): Promise<boolean> {
    const written = this.queue.then(() => this.write(line));
    this.queue = written.then(() => undefined);
    return written;
  }

  /** Resolves when every line appended so far has been written (or has failed). */
  flush(): Promise<void> {
    return this.queue;
  }

  private async write(line: string): Promise<boolean> {
    try {
      if (!this.modeChecked) {
        this.modeChecked = true;
        await this.warnIfReadableByOthers();
      }
      await appendKeylogLines(this.path, [line]);
      return true;
    } catch (error) {
      this.log.error({ path: this.path, err: error }, 'cannot write the key table; this SA will not be decryptable in Wireshark');
      return false;
    }
  }

  private async warnIfReadableByOthers(): Promise<void> {
    const existing = await stat(this.path).catch(() => undefined);
    if (existing !== undefined && (existing.mode & 0o077) !== 0) {
      this.log.warn({ path: this.path, mode: (existing.mode & 0o777).toString(8) }, 'the key table holds session keys but group/others can access it (chmod 600)');
    }
  }
}
