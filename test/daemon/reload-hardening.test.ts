/**
 * Reloads that must not take tunnels down or stall the daemon: a PSK file that is a FIFO (the
 * reload is refused with the file and the reason while status keeps answering), an empty or
 * half-written file (refused: the running configuration and its SAs stay), `connections: {}`
 * (said explicitly: accepted). And a binary PSK reaching the engine byte for byte: one daemon
 * has it as strongSwan's 0x hex, the other as a raw file; they only agree on AUTH if both are
 * the same bytes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import { controlRequest } from '../../src/control/control-client.js';
import type { DaemonStatus, IkeSaStatusJson } from '../../src/control/daemon-status.js';
import { PSK, startDaemon, waitFor, type RunningDaemon } from './support/daemon-pair.js';
import { testPorts, type ConnectionOptions, type Side } from './support/lab-connections.js';
import { daemonYaml } from './support/yaml-config.js';

const running: RunningDaemon[] = [];
const children: ChildProcess[] = [];
let dir: string | undefined;
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(running.splice(0).map((r) => r.daemon.stop({ graceMs: 1000 })));
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const LAB: ConnectionOptions = { name: 'lab', start: 'on-load' };
const INLINE_PSK = `psk: ${JSON.stringify(PSK)}`;

/** Writes SIDE's YAML (with `psk` replacing the inline PSK when given) and starts the daemon from it. */
async function fromYaml(side: Side, ports: { ike: number; natt: number }, connections: readonly ConnectionOptions[], psk?: string): Promise<{ daemon: RunningDaemon; file: string }> {
  dir ??= mkdtempSync(join(tmpdir(), 'ikekm-reload-hardening-'));
  const file = join(dir, `${side}.yaml`);
  const control = join(dir, side, 'ikekm.sock');
  const text = daemonYaml(side, { ports, control, connections });
  writeFileSync(file, psk === undefined ? text : text.replaceAll(INLINE_PSK, `psk: ${psk}`), { mode: 0o600 });
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  const daemon = await startDaemon(loaded.value, control);
  running.push(daemon);
  return { daemon, file };
}

const established = async (d: RunningDaemon, name = 'lab'): Promise<IkeSaStatusJson | undefined> =>
  (await d.daemon.status()).ikeSas.find((sa) => sa.connection === name && sa.state === 'ESTABLISHED' && sa.childSas.some((c) => c.state === 'INSTALLED'));

/** a listens, b initiates `lab`; resolves when the tunnel is up on both. */
async function tunnel(bPsk?: string): Promise<{ a: RunningDaemon; b: RunningDaemon; bFile: string }> {
  const ports = testPorts();
  const a = await fromYaml('a', ports, [{ ...LAB, start: 'listen' }]);
  const b = await fromYaml('b', ports, [LAB], bPsk);
  await waitFor('lab established on both', async () => (await established(b.daemon)) && established(a.daemon));
  return { a: a.daemon, b: b.daemon, bFile: b.file };
}

const spis = async (d: RunningDaemon): Promise<string[]> => (await d.daemon.status()).ikeSas.map((sa) => `${sa.spiI}/${sa.spiR}`);
const refusals = (d: RunningDaemon) => d.logs.lines().filter((l) => l.msg === 'reload refused: the configuration file has errors; the running configuration stays');

it('a FIFO as PSK file: the reload is refused with the file and the reason, status answers meanwhile, the tunnel stays', async () => {
  dir ??= mkdtempSync(join(tmpdir(), 'ikekm-reload-hardening-'));
  const keyFile = join(dir, 'lab.psk');
  writeFileSync(keyFile, `${PSK}\n`, { mode: 0o600 });
  const { b, bFile } = await tunnel(`{ file: ${JSON.stringify(keyFile)} }`);
  const before = await spis(b);
  rmSync(keyFile);
  expect(spawnSync('mkfifo', [keyFile]).status).toBe(0);
  // A writer that would hand the key over after a second to a reader that waits for it.
  const writer = spawn('sh', ['-c', `sleep 1; printf '%s' '${PSK}' > '${keyFile}'`], { stdio: 'ignore' });
  children.push(writer);

  const reload = controlRequest(b.socket, { cmd: 'reload' }).then(
    () => 'accepted',
    (error: Error) => error.message,
  );
  const status = (await controlRequest(b.socket, { cmd: 'status' })) as DaemonStatus;
  expect(status.ikeSas.map((sa) => `${sa.spiI}/${sa.spiR}`)).toEqual(before);
  const refusal = await reload;
  expect(refusal).toContain(`${bFile}:`);
  expect(refusal).toContain(`cannot read psk file '${keyFile}': not a regular file (a FIFO)`);
  // The FIFO was never opened for reading: its writer is still blocked in open().
  expect(writer.exitCode).toBeNull();
  expect(JSON.stringify(refusals(b)[0]?.diagnostics)).toContain('not a regular file (a FIFO)');
  expect(await spis(b)).toEqual(before);
  expect(await established(b)).toBeDefined();
});

it('an empty file and a file cut after `connections:` are refused: the running configuration and its SAs stay', async () => {
  const { a, b, bFile } = await tunnel();
  const before = await spis(b);
  const complete = readFileSync(bFile, 'utf8');
  for (const half of ['', complete.slice(0, complete.indexOf('connections:') + 'connections:\n'.length)]) {
    writeFileSync(bFile, half, { mode: 0o600 });
    const result = await b.daemon.reloadFromFile();
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.map((d) => d.message)).toContain('no connections are defined: reload refused, as an empty or half-written file would delete every tunnel; write connections: {} to mean it');
  }
  expect(refusals(b)).toHaveLength(2);
  expect(await spis(b)).toEqual(before);
  expect(await established(a)).toBeDefined();
  // The running configuration still works: down and up again.
  await b.daemon.down('lab');
  await b.daemon.up('lab');
});

it('`connections: {}` says it: the reload is accepted and the tunnel is deleted at the peer', async () => {
  const { a, b, bFile } = await tunnel();
  const complete = readFileSync(bFile, 'utf8');
  writeFileSync(bFile, `${complete.slice(0, complete.indexOf('connections:'))}connections: {}\n`, { mode: 0o600 });
  const result = await b.daemon.reloadFromFile();
  expect(result.ok && result.value.removed).toEqual(['lab']);
  await waitFor('lab deleted on both', async () => (await b.daemon.status()).ikeSas.length === 0 && (await a.daemon.status()).ikeSas.length === 0);
});

it('a binary PSK, as 0x hex on one side and as a raw file on the other, is the same key: the tunnel comes up', async () => {
  // A NUL, bytes that are not UTF-8, and a final 0x0a that belongs to the key.
  const key = Buffer.from('00ff10e2808041c3286162636465666768696a6b6c6d6e6f707172737475760a', 'hex');
  const ports = testPorts();
  dir ??= mkdtempSync(join(tmpdir(), 'ikekm-reload-hardening-'));
  const keyFile = join(dir, 'lab.psk');
  writeFileSync(keyFile, key, { mode: 0o600 });
  const a = await fromYaml('a', ports, [{ ...LAB, start: 'listen' }], `"0x${key.toString('hex')}"`);
  const b = await fromYaml('b', ports, [LAB], `{ file: ${JSON.stringify(keyFile)} }`);
  await waitFor('lab established on both', async () => (await established(b.daemon)) && established(a.daemon));
});
