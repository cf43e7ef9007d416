/**
 * readRegularFile, the one way configuration and PSK files are read: regular files only, a size
 * cap checked before reading, and never a blocking open (a FIFO without a writer).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readRegularFile } from '../../src/config/regular-file.js';

const dir = mkdtempSync(join(tmpdir(), 'ikekm-regular-'));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readRegularFile', () => {
  it('reads a regular file with its mode', async () => {
    const file = join(dir, 'key');
    writeFileSync(file, 'abc', { mode: 0o640 });
    const r = await readRegularFile(file, 4096);
    expect(r.ok && r.value.bytes.toString()).toBe('abc');
    expect(r.ok && r.value.mode & 0o777).toBe(0o640);
  });

  it('a FIFO is refused at once, never opened for reading: its writer is still waiting afterwards', async () => {
    const fifo = join(dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A writer that blocks in open() until someone opens the FIFO for reading.
    const writer = spawn('sh', ['-c', `printf 'a key from a fifo' > '${fifo}'`], { stdio: 'ignore' });
    children.push(writer);
    const r = await readRegularFile(fifo, 4096);
    expect(r).toEqual({ ok: false, error: 'not a regular file (a FIFO)' });
    expect(writer.exitCode).toBeNull();
  });

  it('/dev/zero, a directory and a missing file are refused with the reason', async () => {
    expect(await readRegularFile('/dev/zero', 4096)).toEqual({ ok: false, error: 'not a regular file (a character device)' });
    expect(await readRegularFile(dir, 4096)).toEqual({ ok: false, error: 'not a regular file (a directory)' });
    expect(await readRegularFile(join(dir, 'nope'), 4096)).toEqual({ ok: false, error: 'ENOENT: no such file or directory' });
  });

  it('a file larger than the cap is refused by its size, before a byte is read', async () => {
    const huge = join(dir, 'huge');
    writeFileSync(huge, '');
    truncateSync(huge, 100 * 1024 * 1024);
    const before = process.memoryUsage().arrayBuffers;
    expect(await readRegularFile(huge, 4096)).toEqual({ ok: false, error: '104857600 bytes is too large (at most 4096 bytes)' });
    // Nothing near the file's size was allocated (a read of it would hold 100 MB here).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 1024 * 1024);
  });

  it('the cap is inclusive', async () => {
    const file = join(dir, 'exact');
    writeFileSync(file, Buffer.alloc(4096, 1));
    expect((await readRegularFile(file, 4096)).ok).toBe(true);
    writeFileSync(file, Buffer.alloc(4097, 1));
    expect(await readRegularFile(file, 4096)).toEqual({ ok: false, error: '4097 bytes is too large (at most 4096 bytes)' });
  });
});
