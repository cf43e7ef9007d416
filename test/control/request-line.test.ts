/**
 * A request line is bounded before its newline arrives (MAX_REQUEST_LINE, 64 KiB): before, the
 * line grew until the newline came, so 512 MiB without one crashed the daemon with
 * `RangeError: Invalid string length`, and 100 MB cost 200 MB of heap.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/control-client.js';
import { MAX_REQUEST_LINE } from '../../src/control/control-protocol.js';
import { LineSplitter } from '../../src/control/line-splitter.js';
import { connectRaw, recordUncaught, startControl, until, type Fixture } from './support/control-fixture.js';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

const MiB = 1024 * 1024;
const heap = (): number => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
};

it('512 MiB without a newline: an error line and the connection closed after the first 64 KiB, the heap bounded', async () => {
  const uncaught = recordUncaught();
  try {
    const f = (fixture = await startControl());
    const client = await connectRaw(f.path);
    let closed = false;
    void client.closed.then(() => (closed = true));
    const chunk = Buffer.alloc(MiB, 0x61); // 'a', reused: the client itself allocates nothing more
    const total = 512 * MiB;
    const before = heap();
    let sent = 0;
    let growth = 0;
    // Stop early if the heap grows past the bound: that is the failure, and the test process must survive it.
    // A client that reads stops when the answer comes (the server holds the connection, unread,
    // for closeGraceMs so that the answer is not lost to a failed write).
    while (sent < total && !closed && client.received() === '' && growth < 64 * MiB) {
      const flushed = client.socket.write(chunk);
      sent += chunk.length;
      growth = Math.max(growth, heap() - before);
      if (!flushed) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            client.socket.off('drain', done);
            client.socket.off('close', done);
            client.socket.off('data', done);
            resolve();
          };
          client.socket.once('drain', done);
          client.socket.once('close', done);
          client.socket.once('data', done);
        });
      }
    }
    growth = Math.max(growth, heap() - before);
    // The answer is followed by the end of the server's side.
    if (client.received() !== '') await until(() => client.socket.readableEnded || closed);
    const ended = client.socket.readableEnded;
    client.socket.destroy();
    await client.closed;
    console.log(`sent ${(sent / MiB).toFixed(0)} MiB before the server answered; heap growth at most ${(growth / MiB).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(64 * MiB);
    // The server refused the line long before it was all sent (what it read is bounded; the rest
    // filled socket buffers).
    expect(sent).toBeLessThan(64 * MiB);
    expect(client.lines()).toEqual([{ id: null, ok: false, error: `request line longer than ${MAX_REQUEST_LINE} bytes; closing the connection` }]);
    expect(ended).toBe(true);
    expect(f.warnings.map((w) => w.message)).toEqual(['control client sent a request line that is too long; disconnected']);
    // The daemon keeps serving.
    await expect(controlRequest(f.path, { cmd: 'status' }, 5_000)).resolves.toEqual({ ikeSas: [] });
    expect(uncaught.errors).toEqual([]);
  } finally {
    uncaught.stop();
  }
}, 60_000);

it('a line of exactly MAX_REQUEST_LINE bytes is still read (and answered as bad JSON); a CRLF line is a line', async () => {
  const f = (fixture = await startControl());
  const client = await connectRaw(f.path);
  client.socket.write(`${' '.repeat(MAX_REQUEST_LINE - 23)}{"id":5,"cmd":"status"}\n`);
  client.socket.write('{"id":6,"cmd":"status"}\r\n');
  client.socket.end(`"${'x'.repeat(MAX_REQUEST_LINE - 2)}"\n`);
  await client.closed;
  expect(client.lines()).toEqual([
    { id: 5, ok: true, result: { ikeSas: [] } },
    { id: 6, ok: true, result: { ikeSas: [] } },
    { id: null, ok: false, error: 'a request is a JSON object' },
  ]);
});

describe('LineSplitter', () => {
  it('cuts lines across chunks, decodes a UTF-8 character split between chunks, and bounds the unfinished line', () => {
    const splitter = new LineSplitter(8);
    const euro = Buffer.from('€'); // 3 octets
    expect(splitter.push(Buffer.concat([Buffer.from('ab\nc'), euro.subarray(0, 1)]))).toEqual({ ok: true, lines: ['ab'] });
    expect(splitter.pendingBytes).toBe(2);
    expect(splitter.push(Buffer.concat([euro.subarray(1), Buffer.from('d\r\n\n')]))).toEqual({ ok: true, lines: ['c€d', ''] });
    expect(splitter.push(Buffer.from('12345678'))).toEqual({ ok: true, lines: [] });
    expect(splitter.push(Buffer.from('\n123456789'))).toEqual({ ok: false, lines: ['12345678'], error: 'line-too-long' });
    // Once over, nothing more is accepted and nothing is held.
    expect(splitter.push(Buffer.from('x\n'))).toEqual({ ok: false, lines: [], error: 'line-too-long' });
    expect(splitter.pendingBytes).toBe(0);
  });

  it('a complete line longer than the bound in one chunk is refused too; rest() returns an unfinished last line', () => {
    expect(new LineSplitter(4).push(Buffer.from('ok\n12345\n'))).toEqual({ ok: false, lines: ['ok'], error: 'line-too-long' });
    const splitter = new LineSplitter(4);
    splitter.push(Buffer.from('a\nbc'));
    expect(splitter.rest()).toBe('bc');
    expect(splitter.rest()).toBeUndefined();
  });
});

it('20 000 short lines pipelined in one write: every one answered, in order, while the client reads', async () => {
  const f = (fixture = await startControl());
  const client = await connectRaw(f.path);
  const count = 20_000;
  client.socket.end(Array.from({ length: count }, (_, i) => `{"id":${i},"cmd":"nope"}\n`).join(''));
  await client.closed;
  const lines = client.lines();
  expect(lines).toHaveLength(count);
  expect(lines.map((l) => l.id)).toEqual(Array.from({ length: count }, (_, i) => i));
  expect(lines[0]).toEqual({ id: 0, ok: false, error: 'unknown "cmd" "nope"; known: up, down, rekey, reload, status, watch, record-start, record-stop' });
}, 60_000);
