/**
 * Reading a configuration or secret file without trusting what the path names: only a regular
 * file is read, never more than a cap, and never in a way that can block the event loop or a
 * libuv thread for good.
 *
 * - The path is stat()ed first, so a FIFO, a device (/dev/zero, a tape that rewinds on open) or a
 *   directory is refused without being opened.
 * - It is opened with O_NONBLOCK: if it was swapped for a FIFO after the stat, the open returns at
 *   once instead of waiting for a writer; then fstat() on the open file decides (and must be the
 *   file the stat saw: same device and inode).
 * - The size is checked before reading, and at most size + 1 bytes are read: a file that grows
 *   while being read is noticed and refused rather than read without bound.
 * - A file that changed while being read (size or modification time) is refused: it is being
 *   written right now (an editor's or cp's half-written file), try again when the writer is done.
 *
 * Everything goes through fs/promises, off the event loop.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { err, ok, type Result } from '../result.js';

export interface RegularFile {
  readonly bytes: Buffer;
  /** st_mode, for the warnings about secrets that group or others can read. */
  readonly mode: number;
}

/** The configuration file: a real one is a few kilobytes. */
export const CONFIG_FILE_MAX_BYTES = 1024 * 1024;
/** A PSK file: a key is at most a few hundred bytes even written as hex. */
export const PSK_FILE_MAX_BYTES = 4096;

// O_NOCTTY: opening a terminal device must never make it the daemon's controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

/** Reads `path` if it is a regular file of at most `maxBytes`; otherwise says why not, in words. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Result<RegularFile, string>> {
  let seen: Stats;
  try {
    seen = await stat(path);
  } catch (e) {
    return err(errnoText(e));
  }
  const refusal = refuse(seen, maxBytes);
  if (refusal !== undefined) return err(refusal);
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (e) {
    return err(errnoText(e));
  }
  try {
    const opened = await handle.stat();
    if (opened.dev !== seen.dev || opened.ino !== seen.ino) return err('it was replaced while being opened; try again');
    const openedRefusal = refuse(opened, maxBytes);
    if (openedRefusal !== undefined) return err(openedRefusal);
    // One byte more than the size: reading it means the file grew.
    const buffer = Buffer.alloc(opened.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    const after = await handle.stat();
    if (length !== opened.size || after.size !== opened.size || after.mtimeMs !== opened.mtimeMs) {
      buffer.fill(0);
      return err('it changed while being read (is it being written?); try again when the writer is done');
    }
    const bytes = Buffer.from(buffer.subarray(0, length));
    // The buffer may hold a key: it is not left for the garbage collector to keep around.
    buffer.fill(0);
    return ok({ bytes, mode: opened.mode });
  } catch (e) {
    return err(errnoText(e));
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function refuse(s: Stats, maxBytes: number): string | undefined {
  if (!s.isFile()) return `not a regular file (${fileKind(s)})`;
  if (s.size > maxBytes) return `${s.size} bytes is too large (at most ${maxBytes} bytes)`;
  return undefined;
}

function fileKind(s: Stats): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  return 'not a file';
}

/** "ENOENT: no such file or directory" from a Node fs error (without the path Node appends). */
export function errnoText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const m = /^([A-Z0-9_]+): ([^,]+)/.exec(e.message);
    if (m !== null) return `${m[1]}: ${m[2]}`;
    return code === undefined ? e.message : `${code}: ${e.message}`;
  }
  return String(e);
}
