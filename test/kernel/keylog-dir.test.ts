/**
 * The `--keylog` directory: created 0700, an existing one of ours tightened to 0700 (with a
 * warning), one another user owns refused; and the daemon's ports go through it.
 */
import { chownSync, chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRuntimePorts } from '../../src/daemon/runtime-ports.js';
import { KeylogDirError, prepareKeylogDir } from '../../src/kernel/keylog-dir.js';
import type { LogPort } from '../../src/ports.js';
import { captureLogs } from '../support/log-capture.js';

const dir = mkdtempSync(join(tmpdir(), 'ikekm-keylog-dir-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe('prepareKeylogDir', () => {
  it('creates a missing directory (and its parents) 0700', async () => {
    const keys = join(dir, 'new', 'keys');
    await prepareKeylogDir(keys, captureLogs().logger as LogPort);
    expect(modeOf(keys)).toBe(0o700);
  });

  it('tightens an existing directory of ours to 0700 and says what it was', async () => {
    const keys = join(dir, 'open');
    mkdirSync(keys);
    chmodSync(keys, 0o755);
    const logs = captureLogs();
    await prepareKeylogDir(keys, logs.logger as LogPort);
    expect(modeOf(keys)).toBe(0o700);
    expect(logs.lines()).toContainEqual(expect.objectContaining({ dir: keys, was: '0755', msg: 'key log directory was open to group or others: tightened to 0700' }));
  });

  it("refuses a directory another user owns, and leaves it as it is", async () => {
    // As root: a directory given to nobody. Otherwise: one root owns.
    const root = process.getuid?.() === 0;
    const foreign = root ? join(dir, 'foreign') : '/';
    if (root) {
      mkdirSync(foreign, { mode: 0o755 });
      chmodSync(foreign, 0o755);
      chownSync(foreign, 65534, 65534);
    }
    const before = modeOf(foreign);
    await expect(prepareKeylogDir(foreign, captureLogs().logger as LogPort)).rejects.toThrow(KeylogDirError);
    await expect(prepareKeylogDir(foreign, captureLogs().logger as LogPort)).rejects.toThrow(/is owned by uid \d+, not by the daemon's user/);
    expect(modeOf(foreign)).toBe(before);
  });
});

it("the daemon's ports tighten a pre-existing --keylog directory before writing keys into it", async () => {
  const keys = join(dir, 'daemon');
  mkdirSync(keys);
  chmodSync(keys, 0o755);
  const ports = await openRuntimePorts({
    listen: ['127.0.0.1'],
    ikePort: 0,
    nattPort: 0,
    localAddresses: [],
    kernel: 'memory',
    keylogDir: keys,
    log: captureLogs().logger as LogPort,
    onDatagram: () => undefined,
    deliverTimer: () => undefined,
  });
  await ports.close();
  expect(modeOf(keys)).toBe(0o700);
});
