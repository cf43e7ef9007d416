/**
 * How many control clients at once, for how long, and what happens when the process is out of
 * file descriptors: a refused client is told why, an idle one is disconnected, and a failed
 * accept (EMFILE) is a log line while the server keeps listening; before, every client was
 * served, and the server's 'error' had no listener: a failed accept ended the daemon.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { Server } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-client.js';
import { connectRaw, Deferred, recordUncaught, startControl, until, type Fixture } from './support/control-fixture.js';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

it('one client more than maxClients is told so and disconnected; a slot freed is served again', async () => {
  const f = (fixture = await startControl({ maxClients: 3 }));
  const held = await Promise.all([0, 1, 2].map(() => connectRaw(f.path)));
  await until(() => f.server.clientCount === 3);
  const refused = await connectRaw(f.path);
  await refused.closed;
  expect(refused.lines()).toEqual([{ id: null, ok: false, error: 'too many control clients (3); try again later' }]);
  await expect(controlRequest(f.path, { cmd: 'status' }, 5_000)).rejects.toThrow('too many control clients (3); try again later');
  // Warned once; the second refusal inside the interval is counted, not logged.
  expect(f.warnings).toEqual([{ fields: { maxClients: 3 }, message: 'control client refused: too many clients' }]);

  held[0]?.socket.destroy();
  await until(() => f.server.clientCount === 2);
  await expect(controlRequest(f.path, { cmd: 'status' }, 5_000)).resolves.toEqual({ ikeSas: [] });
  for (const client of held) client.socket.destroy();
});

it('a client that sends nothing is disconnected after idleTimeoutMs; one waiting for its answer is not', async () => {
  const f = (fixture = await startControl({ idleTimeoutMs: 200 }));
  const idle = await connectRaw(f.path);
  const slow = new Deferred<unknown>();
  f.handler.statusReplies.push(slow);
  const waiting = await connectRaw(f.path);
  waiting.socket.write('{"id":1,"cmd":"status"}\n');
  await idle.closed;
  expect(idle.lines()).toEqual([{ id: null, ok: false, error: 'no request for 0.2 s; closing the connection' }]);
  await new Promise((resolve) => setTimeout(resolve, 400));
  slow.resolve({ ikeSas: ['late'] });
  await until(() => waiting.lines().length === 1);
  expect(waiting.lines()).toEqual([{ id: 1, ok: true, result: { ikeSas: ['late'] } }]);
  waiting.socket.end();
  await waiting.closed;
  await until(() => f.server.clientCount === 0);
});

it('out of file descriptors for real (RLIMIT_NOFILE): the client is turned away, the server lives and serves once descriptors are free', async () => {
  // libuv keeps a reserve descriptor for this: on EMFILE it closes the reserve, accepts and
  // closes the waiting clients, and reopens it, so Node sees no error here. The 'error' path is
  // for when the reserve is gone too (next test).
  const f = (fixture = await startControl()); // only for its temporary directory
  const path = `${f.dir}/emfile.sock`;
  const script = fileURLToPath(new URL('./support/emfile-server.ts', import.meta.url));
  const child = spawn('prlimit', ['--nofile=256', process.execPath, '--import', 'tsx', script, path], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  try {
    await until(() => lines.some((l) => l.msg === 'listening') || exitCode !== undefined);
    child.stdin.write('fill\n');
    await until(() => lines.some((l) => l.msg === 'full') || exitCode !== undefined);
    expect(lines.find((l) => l.msg === 'full')).toMatchObject({ code: 'EMFILE' });

    const turnedAway = await connectRaw(path);
    turnedAway.socket.write('{"id":1,"cmd":"status"}\n');
    await turnedAway.closed;
    expect(turnedAway.lines()).toEqual([]);
    expect(exitCode, `the server process died: ${stderr}`).toBeUndefined();

    child.stdin.write('free\n');
    await until(() => lines.some((l) => l.msg === 'freed'));
    await expect(controlRequest(path, { cmd: 'status' }, 5_000)).resolves.toEqual({ ikeSas: [] });
    child.stdin.write('exit\n');
    expect(await exited).toBe(0);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

it('a failed accept reported to the server (EMFILE without libuv\'s reserve): a throttled warning, still listening', async () => {
  const f = (fixture = await startControl());
  // Node emits a failed accept as 'error' on the net.Server; reach it as Node holds it.
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const server = handles.find((h): h is Server => h instanceof Server && h.address() === f.path);
  expect(server).toBeDefined();
  const uncaught = recordUncaught();
  try {
    for (let i = 0; i < 3; i++) server?.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', errno: -24, syscall: 'accept' }));
    expect(uncaught.errors).toEqual([]);
  } finally {
    uncaught.stop();
  }
  // One line for the three (the others are counted in the next one, at most every 10 s).
  expect(f.warnings).toEqual([
    { fields: { code: 'EMFILE', reason: 'accept EMFILE' }, message: 'control socket could not accept a client (out of file descriptors); still listening' },
  ]);
  await expect(controlRequest(f.path, { cmd: 'status' }, 5_000)).resolves.toEqual({ ikeSas: [] });
});

it('accept failing in a loop (libuv without its reserve descriptor calls back without end): listening pauses for a second, then resumes', async () => {
  const f = (fixture = await startControl());
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const server = handles.find((h): h is Server => h instanceof Server && h.address() === f.path);
  const held = await connectRaw(f.path);
  await until(() => f.server.clientCount === 1);
  // What libuv does then: one 'error' after another in the same turn of the event loop.
  for (let i = 0; i < 150 && server?.listening === true; i++) server.emit('error', Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', errno: -24, syscall: 'accept' }));
  expect(server?.listening).toBe(false);
  expect(existsSync(f.path)).toBe(false);
  expect(f.warnings.map((w) => w.message)).toEqual([
    'control socket could not accept a client (out of file descriptors); still listening',
    'control socket: accept fails in a loop; not listening for 1 s',
  ]);
  // A client already connected keeps being served meanwhile.
  held.socket.write('{"id":9,"cmd":"status"}\n');
  await until(() => held.lines().length === 1);
  expect(held.lines()).toEqual([{ id: 9, ok: true, result: { ikeSas: [] } }]);

  await until(() => server?.listening === true);
  expect(statSync(f.path).mode & 0o777).toBe(0o600);
  await expect(controlRequest(f.path, { cmd: 'status' }, 5_000)).resolves.toEqual({ ikeSas: [] });
  held.socket.destroy();
});
