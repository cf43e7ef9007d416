/**
 * The forms a PSK takes (text, strongSwan's 0x hex and 0s base64, a PSK file as text or as raw
 * bytes) reach the model byte for byte; PSK files are read as the configuration is (regular
 * files, at most 4 KiB, never blocking) and draw a warning when group or others can read them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/config/config-diagnostic.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { BASE, edit, fakeFiles, load, report, TEST_PSK } from './support.js';

/** 32 bytes with a NUL, bytes that are not UTF-8, and a final 0x0a that is part of the key. */
const BINARY_KEY = Buffer.from('00ff10e2808041c3286162636465666768696a6b6c6d6e6f707172737475760a', 'hex');
const inline = (psk: string): string => edit(BASE, 13, `    local: { address: 192.0.2.1, psk: "${psk}" }`);
const keyOf = (text: string, files: Record<string, string | Buffer> = {}): Buffer | undefined => {
  const r = load(text, { readFile: fakeFiles(files) });
  return r.ok ? r.value.engine.connections[0]?.local.psk!.bytes : undefined;
};

describe('inline PSK forms (strongSwan swanctl.conf secret syntax)', () => {
  it('0x followed by hex digits is the bytes, either case of prefix and digits', () => {
    expect(keyOf(inline(`0x${BINARY_KEY.toString('hex')}`))).toEqual(BINARY_KEY);
    expect(keyOf(inline(`0X${BINARY_KEY.toString('hex').toUpperCase()}`))).toEqual(BINARY_KEY);
  });

  it('0s followed by base64 is the bytes', () => {
    expect(keyOf(inline(`0s${BINARY_KEY.toString('base64')}`))).toEqual(BINARY_KEY);
    expect(keyOf(inline(`0S${BINARY_KEY.toString('base64')}`))).toEqual(BINARY_KEY);
  });

  it('any other string is its UTF-8 bytes, as before', () => {
    expect(keyOf(inline(TEST_PSK))).toEqual(Buffer.from(TEST_PSK));
    expect(keyOf(inline('0ther words'))).toEqual(Buffer.from('0ther words'));
  });

  it('malformed hex or base64, and the byte rules, are errors that never show the key', () => {
    const lines = [
      ...report(inline('0x0123456789abcdefg')),
      ...report(inline('0x0123456789abcdef0')),
      ...report(inline('0s%%%%not-base64%%%%')),
      ...report(inline('0x00112233')),
      ...report(inline(`0x${'00'.repeat(129)}`)),
      ...report(inline('0x4141414141414141')),
    ];
    expect(lines).toEqual([
      'ikekm.yaml:13:39: error: to-hq.local.psk: psk starts with 0x (hex) but is not followed by an even number of hex digits',
      'ikekm.yaml:13:39: error: to-hq.local.psk: psk starts with 0x (hex) but is not followed by an even number of hex digits',
      'ikekm.yaml:13:39: error: to-hq.local.psk: psk starts with 0s (base64) but is not followed by base64',
      'ikekm.yaml:13:39: error: to-hq.local.psk: psk (hex) must be 8 to 128 bytes; got 4',
      'ikekm.yaml:13:39: error: to-hq.local.psk: psk (hex) must be 8 to 128 bytes; got 129',
      'ikekm.yaml:13:39: error: to-hq.local.psk: psk (hex) must not be one byte repeated',
    ]);
    expect(lines.join('\n')).not.toMatch(/0123456789|not-base64|00112233|41414141/);
  });
});

describe('PSK files', () => {
  const file = '/etc/ikekm/secrets/to-hq.psk';

  it('a binary file is the key byte for byte: not decoded as UTF-8, its final 0x0a kept', () => {
    expect(keyOf(BASE, { [file]: BINARY_KEY })).toEqual(BINARY_KEY);
  });

  it('a text file is read as an inline PSK: final newline dropped, 0x and 0s decoded', () => {
    expect(keyOf(BASE, { [file]: `${TEST_PSK}\n` })).toEqual(Buffer.from(TEST_PSK));
    expect(keyOf(BASE, { [file]: `${TEST_PSK}\r\n` })).toEqual(Buffer.from(TEST_PSK));
    expect(keyOf(BASE, { [file]: `0x${BINARY_KEY.toString('hex')}\n` })).toEqual(BINARY_KEY);
    expect(keyOf(BASE, { [file]: `0s${BINARY_KEY.toString('base64')}` })).toEqual(BINARY_KEY);
  });

  it('a zero-filled binary file is refused, naming the file', () => {
    expect(report(BASE, { readFile: fakeFiles({ [file]: Buffer.alloc(32) }) })).toEqual([
      `ikekm.yaml:13:47: error: to-hq.local.psk.file: in '${file}': psk file (binary) must not be one byte repeated`,
    ]);
  });
});

describe('PSK files on disk, through loadConfigFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ikekm-psk-'));
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const configFor = (name: string, pskPath: string): string => {
    const config = join(dir, `${name}.yaml`);
    writeFileSync(config, edit(BASE, 13, `    local: { address: 192.0.2.1, psk: { file: ${JSON.stringify(pskPath)} } }`), { mode: 0o600 });
    return config;
  };
  const diagnostics = async (config: string): Promise<string[]> => {
    const r = await loadConfigFile(config);
    return (r.ok ? r.value.warnings : r.error).map(formatDiagnostic);
  };

  it('a binary PSK file: the exact bytes', async () => {
    const key = join(dir, 'binary.psk');
    writeFileSync(key, BINARY_KEY, { mode: 0o600 });
    const r = await loadConfigFile(configFor('binary', key));
    expect(r.ok && r.value.engine.connections[0]?.local.psk!.bytes).toEqual(BINARY_KEY);
  });

  it('a PSK file group or others can read draws a warning with its path and mode; 0600 does not', async () => {
    const key = join(dir, 'readable.psk');
    writeFileSync(key, `${TEST_PSK}\n`);
    const config = configFor('readable', key);
    spawnSync('chmod', ['644', key]);
    expect(await diagnostics(config)).toEqual([`${config}:13:47: warning: to-hq.local.psk.file: psk file '${key}' can be read by group or others (mode 0644); chmod 600 it`]);
    spawnSync('chmod', ['640', key]);
    expect(await diagnostics(config)).toHaveLength(1);
    spawnSync('chmod', ['600', key]);
    expect(await diagnostics(config)).toEqual([]);
  });

  it('a FIFO as PSK file is refused without waiting for a writer (the writer is still blocked afterwards)', async () => {
    const fifo = join(dir, 'fifo.psk');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn('sh', ['-c', `sleep 1; printf '${TEST_PSK}' > '${fifo}'`], { stdio: 'ignore' });
    children.push(writer);
    const config = configFor('fifo', fifo);
    expect(await diagnostics(config)).toEqual([`${config}:13:47: error: to-hq.local.psk.file: cannot read psk file '${fifo}': not a regular file (a FIFO)`]);
    expect(writer.exitCode).toBeNull();
  });

  it('/dev/zero and a 100 MB PSK file are refused before reading, with the reason', async () => {
    const zero = configFor('zero', '/dev/zero');
    expect(await diagnostics(zero)).toEqual([`${zero}:13:47: error: to-hq.local.psk.file: cannot read psk file '/dev/zero': not a regular file (a character device)`]);
    const huge = join(dir, 'huge.psk');
    writeFileSync(huge, '', { mode: 0o600 });
    truncateSync(huge, 100 * 1024 * 1024);
    const config = configFor('huge', huge);
    const before = process.memoryUsage().arrayBuffers;
    expect(await diagnostics(config)).toEqual([
      `${config}:13:47: error: to-hq.local.psk.file: cannot read psk file '${huge}': 104857600 bytes is too large (at most 4096 bytes)`,
    ]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(10 * 1024 * 1024);
  });
});
