/** `ikekm check-config FILE`: output lines and exit codes. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkConfigCommand, type CheckConfigOutput } from '../../src/cli/check-config.js';
import { BASE, edit, TEST_PSK } from './support.js';

async function run(args: readonly string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CheckConfigOutput = { out: (l) => out.push(l), err: (l) => err.push(l) };
  return { code: await checkConfigCommand(args, io), out, err };
}

describe('check-config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ikekm-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string, mode = 0o600): string => {
    const file = join(dir, name);
    writeFileSync(file, text, { mode });
    return file;
  };
  const inline = edit(BASE, 13, `    local: { address: 192.0.2.1, psk: "${TEST_PSK}" }`);

  it('a valid file: ok with the number of connections, exit 0', async () => {
    const file = write('good.yaml', inline);
    expect(await run([file])).toEqual({ code: 0, out: [`${file}: ok (1 connection)`], err: [] });
  });

  it('warnings are printed and still exit 0', async () => {
    const file = write('warn.yaml', 'connections: {}\n');
    expect(await run([file])).toEqual({
      code: 0,
      out: [`${file}:1:1: warning: connections: no connections are defined; the daemon will start and wait`, `${file}: ok (0 connections)`],
      err: [],
    });
  });

  it('errors: every diagnostic on its own line, a count, exit 1', async () => {
    const file = write('bad.yaml', edit(edit(inline, 16, '    start: never'), 12, '    dataPolicy: hq-dat'));
    expect(await run([file])).toEqual({
      code: 1,
      out: [
        `${file}:6:3: warning: dataPolicies.hq-data: not used by any connection`,
        `${file}:12:17: error: to-hq.dataPolicy: 'hq-dat' is not defined; defined: hq-data`,
        `${file}:16:12: error: to-hq.start: start 'never' is not allowed; allowed: on-load, on-demand, listen`,
        `${file}: 2 errors`,
      ],
      err: [],
    });
  });

  it('the PSK never appears in the output', async () => {
    const file = write('psk.yaml', inline, 0o644);
    const r = await run([file]);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toContain('can be read by group or others (mode 0644)');
    expect(r.out.join('\n')).not.toContain(TEST_PSK);
  });

  it('a missing file: exit 1 with the errno', async () => {
    const file = join(dir, 'missing.yaml');
    expect(await run([file])).toEqual({ code: 1, out: [`${file}:1:1: error: cannot read the configuration: ENOENT: no such file or directory`, `${file}: 1 error`], err: [] });
  });

  it('a 100 MB scalar: refused by the file size, a few short lines instead of the value echoed', async () => {
    const file = join(dir, 'huge.yaml');
    writeFileSync(file, `daemon: { kernel: ${'a'.repeat(100 * 1024 * 1024)} }\n`, { mode: 0o600 });
    const r = await run([file]);
    expect(r).toEqual({
      code: 1,
      out: [`${file}:1:1: error: cannot read the configuration: 104857621 bytes is too large (at most 1048576 bytes)`, `${file}: 1 error`],
      err: [],
    });
  });

  it('/dev/zero as the PSK file: refused at once with the reason, nothing read', async () => {
    const file = write('zero.yaml', edit(BASE, 13, '    local: { address: 192.0.2.1, psk: { file: /dev/zero } }'));
    expect(await run([file])).toEqual({
      code: 1,
      out: [`${file}:13:47: error: to-hq.local.psk.file: cannot read psk file '/dev/zero': not a regular file (a character device)`, `${file}: 1 error`],
      err: [],
    });
  });

  it('raw control bytes in the file never reach the output', async () => {
    const file = write('control.yaml', edit(inline, 16, '    start: "\u001b]0;pwned\u0007\u001b[2Jon-load"'));
    const r = await run([file]);
    expect(r.code).toBe(1);
    expect(r.out.join('\n')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });

  it('usage errors exit 2', async () => {
    expect(await run([])).toEqual({ code: 2, out: [], err: ['usage: ikekm check-config FILE'] });
    expect((await run(['a.yaml', 'b.yaml'])).code).toBe(2);
    expect((await run(['--verbose'])).code).toBe(2);
    expect(await run(['--help'])).toEqual({ code: 0, out: ['usage: ikekm check-config FILE'], err: [] });
  });
});
