/**
 * `ikekm daemon --config FILE` as a real process (node bin/ikekm.js), against an in-process
 * daemon as its peer: the CLI commands through --socket (up, status --json, rekey, down, watch,
 * reload), SIGHUP reloading the file, SIGTERM deleting every SA at the peer and exiting 0; a bad
 * configuration exiting 1 with its diagnostics; a clear error when no daemon runs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { DaemonStatus } from '../../src/control/daemon-status.js';
import { startDaemon, waitFor, type RunningDaemon } from './support/daemon-pair.js';
import { testPorts, type ConnectionOptions } from './support/lab-connections.js';
import { writeDaemonYaml } from './support/yaml-config.js';
import { runIkekm } from '../support/ikekm-process.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const IKEKM = join(ROOT, 'bin/ikekm.js');

interface DaemonProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

let peer: RunningDaemon | undefined;
let proc: DaemonProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (proc !== undefined && proc.child.exitCode === null) proc.child.kill('SIGKILL');
  await peer?.daemon.stop({ graceMs: 500 });
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  peer = proc = dir = undefined;
});

function startProcess(args: readonly string[]): DaemonProcess {
  const child = spawn(process.execPath, [IKEKM, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ text: line });
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (code !== 0 && stderr !== '') console.error(stderr);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

const cli = runIkekm;

async function setUp(processConnections: readonly ConnectionOptions[], peerConnections: readonly ConnectionOptions[]) {
  dir = mkdtempSync(join(tmpdir(), 'ikekm-proc-'));
  const ports = testPorts();
  const peerFile = join(dir, 'a.yaml');
  writeDaemonYaml(peerFile, 'a', { ports, control: join(dir, 'a', 'ikekm.sock'), connections: peerConnections });
  const loaded = await loadConfigFile(peerFile);
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.error));
  peer = await startDaemon(loaded.value, join(dir, 'a', 'ikekm.sock'));
  const file = join(dir, 'b.yaml');
  const socket = join(dir, 'b', 'ikekm.sock');
  writeDaemonYaml(file, 'b', { ports, control: socket, connections: processConnections });
  const started = startProcess(['daemon', '--config', file, '--log-level', 'debug']);
  proc = started;
  await waitFor('the daemon process to start', () => started.lines.some((l) => l.msg === 'ikekm daemon started'), 20_000);
  return { ports, file, socket, daemon: started };
}

it('CLI: up, status --json, rekey, watch, down through --socket; SIGHUP reloads; SIGTERM deletes at the peer and exits 0', async () => {
  const { ports, file, socket, daemon } = await setUp([{ name: 'lab' }], [{ name: 'lab' }, { name: 'extra', subnet: 9 }]);
  const sock = ['--socket', socket];

  // daemon.heapGrowthPercent at its default: the process set V8's flag before it started.
  expect(daemon.lines.some((l) => l.msg === 'JavaScript heap growth set (daemon.heapGrowthPercent)' && l.flag === '--heap-growing-percent=25')).toBe(true);

  const up = await cli(['up', 'lab', ...sock]);
  expect(up.stderr).toBe('');
  expect(up.code).toBe(0);
  expect(up.stdout).toMatch(/^lab up: IKE SA [0-9a-f]{16}_i [0-9a-f]{16}_r, Child SA [0-9a-f]{8}_i [0-9a-f]{8}_o\n$/);

  const json = await cli(['status', '--json', ...sock]);
  expect(json.code).toBe(0);
  const status = JSON.parse(json.stdout) as DaemonStatus;
  expect(status.ikeSas).toHaveLength(1);
  const [sa] = status.ikeSas;
  expect(Object.keys(sa ?? {}).sort()).toEqual(
    ['algorithms', 'childSas', 'connection', 'establishedSeconds', 'expiresSeconds', 'natDetected', 'peer', 'rekeySeconds', 'role', 'spiI', 'spiR', 'state'].sort(),
  );
  expect(sa).toMatchObject({ connection: 'lab', state: 'ESTABLISHED', role: 'initiator', peer: { address: '127.0.0.1', port: ports.ike, id: '127.0.0.1' }, algorithms: { encryption: 'aes256gcm16', prf: 'prfsha384', dh: 'ecp384' } });
  expect(Object.keys(sa?.childSas[0] ?? {}).sort()).toEqual(
    ['algorithms', 'bytesIn', 'bytesOut', 'establishedSeconds', 'expiresSeconds', 'lastInSeconds', 'lastOutSeconds', 'localTs', 'mode', 'rekeySeconds', 'remoteTs', 'spiIn', 'spiOut', 'state'].sort(),
  );
  expect((await peer?.daemon.status())?.ikeSas[0]?.spiI).toBe(sa?.spiI);

  const table = await cli(['status', ...sock]);
  expect(table.stdout).toContain('ESTABLISHED');
  expect(table.stdout).toContain('aes256gcm16-prfsha384-ecp384');

  // watch streams the rekey's events.
  const watch = spawn(process.execPath, [IKEKM, 'watch', '--json', ...sock], { stdio: ['ignore', 'pipe', 'pipe'] });
  const watched: { kind: string }[] = [];
  createInterface({ input: watch.stdout }).on('line', (line) => watched.push(JSON.parse(line) as { kind: string }));
  await new Promise((r) => setTimeout(r, 1500)); // tsx starts the client
  const rekey = await cli(['rekey', 'lab', ...sock]);
  expect(rekey.code).toBe(0);
  expect(rekey.stdout).toMatch(/^lab: Child SA rekeyed, now [0-9a-f]{8}_i [0-9a-f]{8}_o\n$/);
  const rekeyIke = await cli(['rekey', 'lab', '--ike', ...sock]);
  expect(rekeyIke.code).toBe(0);
  await waitFor('watch to show the rekeys', () => watched.some((e) => e.kind === 'child-sa-up') && watched.some((e) => e.kind === 'ike-sa-rekeyed'), 10_000);

  // SIGHUP: the file now also has "extra" (on-load): it comes up.
  writeDaemonYaml(file, 'b', { ports, control: socket, connections: [{ name: 'lab' }, { name: 'extra', subnet: 9, start: 'on-load' }] });
  daemon.child.kill('SIGHUP');
  await waitFor('extra to come up after SIGHUP', async () => (await peer?.daemon.status())?.ikeSas.some((s) => s.connection === 'extra' && s.state === 'ESTABLISHED'), 10_000);
  expect(daemon.lines.find((l) => l.msg === 'configuration reloaded')).toMatchObject({ added: ['extra'], unchanged: ['lab'] });
  await waitFor('watch to show the reload', () => watched.some((e) => e.kind === 'reloaded'));

  const down = await cli(['down', 'extra', ...sock]);
  expect(down.stdout).toBe('extra down: 1 IKE SA(s) deleted at the peer\n');
  await waitFor('the Delete to reach the peer', async () => !(await peer?.daemon.status())?.ikeSas.some((s) => s.connection === 'extra'));

  // SIGTERM: Deletes reach the peer, exit 0, the watch stream ends.
  daemon.child.kill('SIGTERM');
  expect(await daemon.exited).toBe(0);
  expect((await peer?.daemon.status())?.ikeSas).toEqual([]);
  expect(daemon.lines.some((l) => l.msg === 'ikekm daemon stopped' && l.unanswered === 0)).toBe(true);
  await new Promise<void>((resolve) => (watch.exitCode !== null ? resolve() : watch.once('exit', () => resolve())));
  expect(watch.exitCode).toBe(0);

  const gone = await cli(['status', ...sock]);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toContain(`cannot reach the ikekm daemon at ${socket}`);
  expect(gone.stderr).toContain('is `ikekm daemon` running');
}, 60_000);

it('a bad configuration: diagnostics on stderr, exit 1, nothing started', () => {
  dir = mkdtempSync(join(tmpdir(), 'ikekm-proc-'));
  const file = join(dir, 'bad.yaml');
  writeDaemonYaml(file, 'b', { ports: testPorts(), control: join(dir, 's.sock'), connections: [{ name: 'lab' }] });
  spawnSync('sed', ['-i', 's/dataPolicy: lab-data/dataPolicy: lab-dat/', file]);
  const result = spawnSync(process.execPath, [IKEKM, 'daemon', '--config', file], { encoding: 'utf8' });
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(`${file}:`);
  expect(result.stderr).toContain("'lab-dat' is not defined");
});
