/**
 * The control client (`ikekm status`, `watch`, …) against a daemon that misbehaves: a connection
 * closed in the middle of an answer, reset, or answered with something that is not JSON is a
 * rejected promise with a clear message, never an uncaught exception (before, readline handed
 * the half line to JSON.parse, which threw, and a reset reached readline's missing 'error'
 * handler). A watch the daemon ends says why, and `ikekm watch` prints it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlCommandError, ControlConnectionError, controlRequest, controlRequestIndented, controlWatch } from '../../src/control/control-client.js';
import { recordUncaught, tick } from './support/control-fixture.js';

let dir: string;
let server: Server | undefined;
let uncaught: ReturnType<typeof recordUncaught>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ikekm-client-'));
  uncaught = recordUncaught();
});
afterEach(async () => {
  uncaught.stop();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** A fake daemon: `onRequest` gets each client's socket and its first request line. */
async function fakeDaemon(onRequest: (socket: Socket, line: string) => void, options: { read?: boolean } = {}): Promise<string> {
  const path = join(dir, 'fake.sock');
  server = createServer({ pauseOnConnect: options.read === false }, (socket) => {
    socket.on('error', () => undefined);
    if (options.read === false) {
      onRequest(socket, '');
      return;
    }
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const newline = buffered.indexOf('\n');
      if (newline !== -1) onRequest(socket, buffered.slice(0, newline));
    });
  });
  await new Promise<void>((resolve) => server?.listen(path, resolve));
  return path;
}

it('the daemon closes in the middle of its answer', async () => {
  const path = await fakeDaemon((socket) => socket.end('{"id":1,"ok":true,"result":{"ikeS'));
  const failure = controlRequest(path, { cmd: 'status' }, 5_000);
  await expect(failure).rejects.toThrow(ControlConnectionError);
  await expect(failure).rejects.toThrow('the daemon closed the control connection in the middle of a line (33 bytes received) before answering "status"');
  await tick(20);
  expect(uncaught.errors).toEqual([]);
});

it('the daemon resets the connection (ECONNRESET) and sends a line that is not JSON', async () => {
  // It never reads the request and closes: the client's read fails with ECONNRESET.
  const reset = await fakeDaemon((socket) => setTimeout(() => socket.destroy(), 50), { read: false });
  await expect(controlRequest(reset, { cmd: 'status' }, 5_000)).rejects.toThrow('the control connection failed (ECONNRESET) before answering "status"');
  await new Promise<void>((resolve) => server?.close(() => resolve()));

  const garbage = await fakeDaemon((socket) => socket.write('<html>\n'));
  await expect(controlRequest(garbage, { cmd: 'status' }, 5_000)).rejects.toThrow('the daemon sent a line that is not JSON (6 characters) before answering "status"');
  await tick(20);
  expect(uncaught.errors).toEqual([]);
});

it('a connection the daemon refuses (id null) rejects with its reason', async () => {
  const path = await fakeDaemon((socket) => socket.end('{"id":null,"ok":false,"error":"too many control clients (64); try again later"}\n'));
  await expect(controlRequest(path, { cmd: 'up', name: 'x' }, 5_000)).rejects.toThrow(new ControlCommandError('too many control clients (64); try again later'));
  await expect(controlWatch(path, () => undefined)).rejects.toThrow('too many control clients (64); try again later');
});

const DROPPED = '{"id":1,"ok":false,"error":"not reading fast enough: more than 262144 bytes waiting for this client; closing the connection"}\n';

it('a watch the daemon ends with a reason resolves `ended` with it; one it ends plainly, without', async () => {
  const path = await fakeDaemon((socket) => socket.end(`{"id":1,"ok":true,"result":{"watching":true}}\n{"id":1,"event":{"kind":"a"}}\n${DROPPED}`));
  const events: unknown[] = [];
  const watch = await controlWatch(path, (event) => events.push(event));
  expect(await watch.ended).toEqual({ reason: 'not reading fast enough: more than 262144 bytes waiting for this client; closing the connection' });
  expect(events).toEqual([{ kind: 'a' }]);
  await new Promise<void>((resolve) => server?.close(() => resolve()));

  const plain = await fakeDaemon((socket) => socket.end('{"id":1,"ok":true,"result":{"watching":true}}\n'));
  expect(await (await controlWatch(plain, () => undefined)).ended).toEqual({});
});

it('`ikekm watch` prints why the daemon ended its stream and exits 1', async () => {
  const path = await fakeDaemon((socket) => socket.end(`{"id":1,"ok":true,"result":{"watching":true}}\n${DROPPED}`));
  const ikekm = fileURLToPath(new URL('../../bin/ikekm.js', import.meta.url));
  const child = spawn(process.execPath, [ikekm, 'watch', '--socket', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(stderr).toBe('ikekm watch: the stream ended: not reading fast enough: more than 262144 bytes waiting for this client; closing the connection\n');
  expect(code).toBe(1);
});

describe('controlRequestIndented (`ikekm status --json`)', () => {
  const status = { ikeSas: [{ connection: 'rw', peer: { address: '192.0.2.7', port: 4500, id: 'carol@example.org' }, childSas: [{ localTs: ['0.0.0.0/0'], bytesIn: 12 }] }], traps: [], restarts: [] };
  const line = `${JSON.stringify({ id: 1, ok: true, result: status })}\n`;

  async function indented(path: string): Promise<{ text: string; error: unknown }> {
    const pieces: Buffer[] = [];
    const error = await controlRequestIndented(path, { cmd: 'status' }, (b) => pieces.push(Buffer.from(b)), 5_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { text: Buffer.concat(pieces).toString(), error };
  }

  it('writes the result as JSON.stringify(result, null, 2) does, however the reply is cut', async () => {
    for (const cut of [1, 10, 27, 28, 29, 60, line.length - 2, line.length - 1]) {
      const path = await fakeDaemon((socket) => {
        socket.write(line.slice(0, cut));
        setTimeout(() => socket.end(line.slice(cut)), 5);
      });
      expect(await indented(path)).toEqual({ text: JSON.stringify(status, null, 2), error: undefined });
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server = undefined;
    }
  });

  it('a refusal is the daemon\'s error, as controlRequest reports it', async () => {
    const path = await fakeDaemon((socket) => socket.end('{"id":null,"ok":false,"error":"too many control clients (64)"}\n'));
    const { text, error } = await indented(path);
    expect(text).toBe('');
    expect(error).toBeInstanceOf(ControlCommandError);
    expect((error as Error).message).toBe('too many control clients (64)');
  });

  it('a reply cut off in the middle is an error, after what came was written', async () => {
    const path = await fakeDaemon((socket) => socket.end(line.slice(0, 60)));
    const { text, error } = await indented(path);
    expect(text.length).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(ControlConnectionError);
    expect((error as Error).message).toBe('the daemon closed the control connection in the middle of its answer to "status"');
    await tick(20);
    expect(uncaught.errors).toEqual([]);
  });

  it('a reply that goes on after the result is an error', async () => {
    const path = await fakeDaemon((socket) => socket.end(`${line.slice(0, -2)},"x":1}\n`));
    const { error } = await indented(path);
    expect(error).toBeInstanceOf(ControlConnectionError);
    expect((error as Error).message).toContain('did not end as a reply line does');
  });
});

it('`ikekm status --json | head`: the reader leaves early; the command ends as SIGPIPE ends a tool (141), without a stack trace', async () => {
  const sa = (i: number) => ({ connection: 'rw', peer: { address: `10.0.${i & 255}.1`, port: 4500, id: null }, childSas: [] });
  const big = `${JSON.stringify({ id: 1, ok: true, result: { ikeSas: Array.from({ length: 50_000 }, (_, i) => sa(i)), traps: [], restarts: [] } })}\n`;
  const path = await fakeDaemon((socket) => socket.end(big));
  const ikekm = fileURLToPath(new URL('../../bin/ikekm.js', import.meta.url));
  const child = spawn(process.execPath, [ikekm, 'status', '--json', '--socket', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // As `head -1` does: the first piece, then the pipe closed.
  child.stdout.once('data', (chunk: Buffer) => {
    expect(chunk.toString().startsWith('{\n  "ikeSas": [')).toBe(true);
    child.stdout.destroy();
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(stderr).toBe('');
  expect(code).toBe(141);
});
