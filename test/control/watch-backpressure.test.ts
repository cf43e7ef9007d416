/**
 * `watch` with backpressure: what waits for one watcher is bounded (maxQueuedBytes); a watcher
 * that does not read is dropped with a final line saying why, and one that reads keeps receiving
 * everything. Before, 100 watchers that never read grew the heap by every event they were sent.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, expect, it } from 'vitest';
import { controlRequest, controlWatch } from '../../src/control/control-client.js';
import { connectRaw, recordUncaught, startControl, tick, until, type Fixture } from './support/control-fixture.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const MiB = 1024 * 1024;

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

it('100 watchers that never read: the heap stays bounded, each is dropped with a reason; a reading watcher gets every event', async () => {
  const uncaught = recordUncaught();
  try {
    // closeGraceMs: long enough that the final line is still there when the stuck clients read at the end.
    const f = (fixture = await startControl({ maxClients: 128, closeGraceMs: 120_000 }));
    const stuck = await Promise.all(Array.from({ length: 100 }, () => connectRaw(f.path, { read: false })));
    for (const client of stuck) client.socket.write('{"id":3,"cmd":"watch"}\n');
    const seen: number[] = [];
    const reader = await controlWatch(f.path, (event) => seen.push((event as { seq: number }).seq));
    await until(() => f.handler.watchers === 101);

    gc();
    const before = process.memoryUsage().heapUsed;
    const events = 600;
    const padding = 'p'.repeat(4096); // about the size of a large SA event, ten times over
    for (let seq = 0; seq < events; seq++) {
      // Paced by the reading watcher (it may lag by 16 events), as real events come over time.
      await until(() => seen.length >= seq - 16);
      f.handler.events.next({ kind: 'test', seq, padding });
    }
    await until(() => seen.length === events);
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    console.log(`after ${events} events of 4 KiB to 100 stuck watchers: ${(retained / MiB).toFixed(1)} MiB retained`);
    expect(retained).toBeLessThan(64 * MiB);

    // The reader got every event, in order.
    expect(seen).toEqual(Array.from({ length: events }, (_, i) => i));
    // The stuck watchers were dropped: only the reader is still subscribed.
    expect(f.handler.watchers).toBe(1);
    expect(f.warnings.filter((w) => w.message === 'control client does not read what it asked for; disconnected').length).toBeGreaterThanOrEqual(1);

    // A stuck client that finally reads finds its events in order, then the reason, then the end.
    for (const client of stuck.slice(0, 5)) {
      client.socket.resume();
      await client.closed;
      const lines = client.lines();
      expect(lines[0]).toEqual({ id: 3, ok: true, result: { watching: true } });
      const last = lines.at(-1);
      expect(last).toEqual({ id: 3, ok: false, error: expect.stringMatching(/^not reading fast enough: more than 262144 bytes waiting for this client; closing the connection$/) });
      const seqs = lines.slice(1, -1).map((line) => (line.event as { seq: number }).seq);
      expect(seqs.length).toBeGreaterThan(0);
      expect(seqs.length).toBeLessThan(events);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i));
    }
    reader.close();
    await reader.ended;
    await expect(controlRequest(f.path, { cmd: 'status' }, 5_000)).resolves.toEqual({ ikeSas: [] });
    expect(uncaught.errors).toEqual([]);
  } finally {
    uncaught.stop();
  }
}, 60_000);

it('a watcher that sits on unread events past the idle timeout is dropped; an idle watcher without pending events is not', async () => {
  const f = (fixture = await startControl({ idleTimeoutMs: 300, closeGraceMs: 60_000 }));
  const quiet = await connectRaw(f.path);
  quiet.socket.write('{"id":1,"cmd":"watch"}\n');
  const stuck = await connectRaw(f.path, { read: false });
  stuck.socket.write('{"id":2,"cmd":"watch"}\n');
  await until(() => f.handler.watchers === 2);
  // Enough to fill the socket buffers but far below maxQueuedBytes.
  for (let seq = 0; seq < 60; seq++) f.handler.events.next({ kind: 'test', seq, padding: 'q'.repeat(4096) });
  await until(() => f.handler.watchers === 1);
  stuck.socket.resume();
  await stuck.closed;
  expect(stuck.lines().at(-1)).toEqual({ id: 2, ok: false, error: 'nothing read for 0.3 s; closing the connection' });
  await tick(600);
  expect(f.handler.watchers).toBe(1);
  expect(quiet.lines()).toHaveLength(61);
  quiet.socket.end();
  await quiet.closed;
});
