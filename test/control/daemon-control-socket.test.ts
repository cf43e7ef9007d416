/**
 * `ikekm daemon` as a real process: clients that leave before reading their answer (what
 * `timeout 3 ikekm status` does to a busy daemon), an overlong request line and a watcher that
 * never reads do not end it; `ikekm status` still answers and the control warnings are logged.
 * Before, the first such client ended the daemon with "Unhandled 'error' event".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { testPorts } from '../daemon/support/lab-connections.js';
import { writeDaemonYaml } from '../daemon/support/yaml-config.js';
import { connectRaw, tick, until } from './support/control-fixture.js';
import { runIkekm } from '../support/ikekm-process.js';

const IKEKM = fileURLToPath(new URL('../../bin/ikekm.js', import.meta.url));

let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(() => {
  if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  child = dir = undefined;
});

const cli = runIkekm;

it('clients that leave early, an overlong line and a stuck watcher leave the daemon running', async () => {
  dir = mkdtempSync(join(tmpdir(), 'ikekm-ctl-'));
  const file = join(dir, 'b.yaml');
  const socket = join(dir, 'run', 'ikekm.sock');
  writeDaemonYaml(file, 'b', { ports: testPorts(), control: socket, connections: [{ name: 'lab' }] });
  const daemon = spawn(process.execPath, [IKEKM, 'daemon', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  child = daemon;
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: daemon.stdout }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  let stderr = '';
  daemon.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  let exitCode: number | null | undefined;
  daemon.once('exit', (code) => (exitCode = code));
  await until(() => lines.some((l) => l.msg === 'ikekm daemon started') || exitCode !== undefined);

  // Ask for status and leave without reading the answer, at several moments.
  for (const delayMs of [0, 0, 5, 20, 100]) {
    const client = await connectRaw(socket, { read: false });
    client.socket.write('{"id":1,"cmd":"status"}\n');
    if (delayMs > 0) await tick(delayMs);
    client.socket.destroy();
  }
  await tick(200);
  expect(exitCode, `the daemon exited: ${stderr}`).toBeUndefined();
  // 1 MiB without a newline.
  const long = await connectRaw(socket);
  long.socket.write(Buffer.alloc(1024 * 1024, 0x61));
  await until(() => long.received().endsWith('\n'));
  long.socket.destroy();
  expect(long.lines()).toEqual([{ id: null, ok: false, error: 'request line longer than 65536 bytes; closing the connection' }]);
  // A watcher that never reads, then leaves.
  const watcher = await connectRaw(socket, { read: false });
  watcher.socket.write('{"id":1,"cmd":"watch"}\n');
  await tick(50);
  watcher.socket.destroy();
  await tick(200);

  expect(exitCode, `the daemon exited: ${stderr}`).toBeUndefined();
  const status = await cli(['status', '--json', '--socket', socket]);
  expect(status.stderr).toBe('');
  expect(JSON.parse(status.stdout)).toMatchObject({ ikeSas: [] });
  expect(lines.find((l) => l.msg === 'control client sent a request line that is too long; disconnected')).toMatchObject({ level: 40, maxBytes: 65536 });

  daemon.kill('SIGTERM');
  await until(() => exitCode !== undefined);
  expect(exitCode).toBe(0);
}, 30_000);
