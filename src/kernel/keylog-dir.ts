/**
 * The `--keylog` directory holds every IKE and ESP key the daemon negotiates: only the daemon's
 * own user may enter it. A new one is created 0700. An existing one is tightened to 0700 when
 * the daemon's user owns it (with a warning saying what it was); one another user owns is
 * refused with an error that says so, as that user could read the tables or swap a file for a
 * link (ssh's StrictModes refuses such a directory for the same reason).
 */
import { chmod, lstat, mkdir, stat } from 'node:fs/promises';
import type { LogPort } from '../ports.js';

export class KeylogDirError extends Error {
  override readonly name = 'KeylogDirError';
}

export async function prepareKeylogDir(dir: string, log: LogPort): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  const link = await lstat(dir);
  const target = await stat(dir);
  if (!target.isDirectory()) throw new KeylogDirError(`--keylog ${dir} is not a directory`);
  if (uid !== undefined) {
    for (const s of link.isSymbolicLink() ? [link, target] : [target]) {
      if (s.uid !== uid) {
        throw new KeylogDirError(
          `--keylog ${dir} is owned by uid ${s.uid}, not by the daemon's user (uid ${uid}): that user could read or replace the key tables; use a directory of your own`,
        );
      }
    }
  }
  const mode = target.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    await chmod(dir, 0o700);
    log.warn({ dir, was: mode.toString(8).padStart(4, '0') }, 'key log directory was open to group or others: tightened to 0700');
  }
}
