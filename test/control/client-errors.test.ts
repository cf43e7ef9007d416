/**
 * A control client that goes away at the wrong moment ends its own connection, never the daemon:
 * before, the socket's EPIPE/ECONNRESET reached the readline interface, which had no 'error'
 * handler ("Unhandled 'error' event", the daemon exited, every tunnel went down).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-client.js';
import { connectRaw, Deferred, recordUncaught, startControl, tick, until, type Fixture } from './support/control-fixture.js';

let fixture: Fixture | undefined;
let uncaught: ReturnType<typeof recordUncaught>;
beforeEach(() => {
  uncaught = recordUncaught();
});
afterEach(async () => {
  uncaught.stop();
  await fixture?.close();
  fixture = undefined;
});

/** The server still answers a well-behaved client, and nothing escaped as an uncaught error. */
async function stillServing(f: Fixture): Promise<void> {
  await tick(50); // let any deferred 'error' event fire
  expect(uncaught.errors.map((e) => e.message)).toEqual([]);
  await expect(controlRequest(f.path, { cmd: 'status' }, 5_000)).resolves.toEqual({ ikeSas: [] });
}

it('a client that closes without reading its reply (ECONNRESET on the server)', async () => {
  const f = (fixture = await startControl());
  const client = await connectRaw(f.path, { read: false });
  client.socket.write('{"id":1,"cmd":"status"}\n');
  await until(() => f.handler.statusCalls === 1);
  await tick(50); // the reply lands in the client's socket, unread
  client.socket.destroy();
  await stillServing(f);
});

it('a client that closes while a large reply is being written (EPIPE)', async () => {
  const f = (fixture = await startControl());
  const reply = new Deferred<unknown>();
  f.handler.statusReplies.push(reply);
  const client = await connectRaw(f.path, { read: false });
  client.socket.write('{"id":1,"cmd":"status"}\n');
  await until(() => f.handler.statusCalls === 1);
  reply.resolve({ ikeSas: [], padding: 'x'.repeat(4 << 20) });
  await tick(50); // the kernel buffer is full; the rest waits in the server's socket
  client.socket.destroy();
  await stillServing(f);
});

it('a client that closes before a slow reply (timeout 3 ikekm status)', async () => {
  const f = (fixture = await startControl());
  const reply = new Deferred<unknown>();
  f.handler.statusReplies.push(reply);
  const client = await connectRaw(f.path);
  client.socket.write('{"id":1,"cmd":"status"}\n');
  await until(() => f.handler.statusCalls === 1);
  // The client's side closes; the answer is written before the server has seen that (EPIPE).
  client.socket.destroy();
  reply.resolve({ ikeSas: [] });
  await stillServing(f);
  // And once the server has seen the close, the late answer is simply dropped.
  const late = new Deferred<unknown>();
  f.handler.statusReplies.push(late);
  const again = await connectRaw(f.path);
  again.socket.write('{"id":1,"cmd":"status"}\n');
  await until(() => f.handler.statusCalls === 3);
  again.socket.destroy();
  await again.closed;
  await tick(20);
  late.resolve({ ikeSas: [] });
  await stillServing(f);
});

it('a client that sends several requests and leaves at once, and one that half-closes and still gets its answer', async () => {
  const f = (fixture = await startControl());
  const rude = await connectRaw(f.path, { read: false });
  rude.socket.write('{"id":1,"cmd":"status"}\n{"id":2,"cmd":"status"}\n{"id":3,"cmd":"up","name":"x"}\n');
  await until(() => f.handler.statusCalls >= 1);
  rude.socket.destroy();
  await stillServing(f);

  // `printf '{"id":1,"cmd":"status"}' | nc -U -N`: the request, no newline, then its side shut.
  const polite = await connectRaw(f.path);
  polite.socket.end('{"id":7,"cmd":"status"}');
  await polite.closed;
  expect(polite.lines()).toEqual([{ id: 7, ok: true, result: { ikeSas: [] } }]);
});

it('a watcher that closes without reading its events', async () => {
  const f = (fixture = await startControl());
  const client = await connectRaw(f.path, { read: false });
  client.socket.write('{"id":1,"cmd":"watch"}\n');
  await until(() => f.handler.watchers === 1);
  for (let i = 0; i < 20; i++) f.handler.events.next({ kind: 'test', i, padding: 'y'.repeat(16_384) });
  await tick(20);
  client.socket.destroy();
  await tick(20);
  for (let i = 0; i < 20; i++) f.handler.events.next({ kind: 'test', i });
  await stillServing(f);
  await until(() => f.handler.watchers === 0);
});

it('an event or an answer that is not JSON-encodable, and an event stream that fails, end no more than that stream', async () => {
  const f = (fixture = await startControl());
  const watcher = await connectRaw(f.path);
  watcher.socket.write('{"id":4,"cmd":"watch"}\n');
  await until(() => f.handler.watchers === 1);
  f.handler.events.next({ kind: 'big', n: 1n }); // JSON.stringify throws on a BigInt
  f.handler.events.next({ kind: 'after' });
  const reply = new Deferred<unknown>();
  f.handler.statusReplies.push(reply);
  const asking = await connectRaw(f.path);
  asking.socket.write('{"id":5,"cmd":"status"}\n');
  await until(() => f.handler.statusCalls === 1);
  reply.resolve({ n: 2n });
  await until(() => asking.lines().length === 1);
  expect(asking.lines()).toEqual([{ id: 5, ok: false, error: 'the reply could not be encoded as JSON' }]);

  f.handler.events.error(new Error('boom'));
  await watcher.closed;
  expect(watcher.lines()).toEqual([
    { id: 4, ok: true, result: { watching: true } },
    { id: 4, event: { kind: 'after' } },
    { id: 4, ok: false, error: 'the event stream failed: boom' },
  ]);
  expect(f.warnings.map((w) => w.message)).toEqual(['control watch: an event could not be encoded as JSON; not sent']);
  asking.socket.destroy();
  await stillServing(f);
});
