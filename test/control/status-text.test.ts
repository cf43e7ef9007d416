import { afterEach, describe, expect, it } from 'vitest';
import { connectRaw, startControl, until, type Fixture } from './support/control-fixture.js';

let fixture: Fixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** A status of `count` SAs written in pieces, as the daemon's writeStatus does. */
function statusPieces(count: number): { pieces: string[]; value: unknown } {
  const ikeSas = Array.from({ length: count }, (_, i) => ({ connection: `c${i}`, spiI: i.toString(16).padStart(16, '0'), childSas: [{ spiIn: 'c0000001' }] }));
  const text = JSON.stringify({ ikeSas, traps: [], restarts: [] });
  const pieces: string[] = [];
  for (let at = 0; at < text.length; at += 1000) pieces.push(text.slice(at, at + 1000));
  return { pieces, value: JSON.parse(text) };
}

describe('status written as text (ControlHandler.writeStatus)', () => {
  it('the reply is the line a status object would make, and pieces past maxQueuedBytes do not drop the client', async () => {
    // A queue bound far below the status: the client asked for all of it and reads it as one line.
    fixture = await startControl({ maxQueuedBytes: 4096 });
    const { pieces, value } = statusPieces(5000);
    fixture.handler.writeStatus = async (write) => {
      await Promise.resolve();
      for (const p of pieces) write(p);
    };
    const client = await connectRaw(fixture.path);
    client.socket.write('{"id":7,"cmd":"status"}\n');
    await until(() => client.received().endsWith('\n'));
    expect(client.received()).toBe(`${JSON.stringify({ id: 7, ok: true, result: value })}\n`);
    expect(fixture.warnings).toEqual([]);
    // The connection goes on answering.
    client.socket.write('{"id":8,"cmd":"reload"}\n');
    await until(() => client.lines().length === 2);
    expect(client.lines()[1]).toMatchObject({ id: 8, ok: true });
    client.socket.end();
  });

  it('a failure before the first piece is an error reply; after it, the connection closes saying why', async () => {
    fixture = await startControl();
    fixture.handler.writeStatus = async () => {
      throw new Error('kernel read failed');
    };
    const early = await connectRaw(fixture.path);
    early.socket.write('{"id":1,"cmd":"status"}\n');
    await until(() => early.lines().length === 1);
    expect(early.lines()[0]).toEqual({ id: 1, ok: false, error: 'kernel read failed' });
    early.socket.end();

    fixture.handler.writeStatus = async (write) => {
      write('{"ikeSas":[');
      throw new Error('formatting failed');
    };
    const late = await connectRaw(fixture.path);
    late.socket.write('{"id":2,"cmd":"status"}\n');
    await late.closed;
    const text = late.received();
    expect(text.startsWith('{"id":2,"ok":true,"result":{"ikeSas":[')).toBe(true);
    expect(text).toContain('the status could not be written: formatting failed');
  });
});
