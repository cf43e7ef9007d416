/**
 * `{"cmd":"watch","journal":true}` on a running daemon (two in-process daemons): the stream is
 * `{"id":n,"entry":E}` lines, E a record entry as a record file line has it; an `up` shows its
 * inputs, datagrams out and state changes, never a draw or a load (DH private values and nonces
 * do not leave the daemon); a watcher that joins after establishment first learns the current
 * state of each live actor; the engine's journal is attached only while someone follows; the
 * stream ends when the daemon stops.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { controlWatchJournal, decodeJournalEntry } from '../../src/control/control-client.js';
import { decodeRecordLine, encodeRecordLine, type PublicRecordEntry } from '../../src/replay/record-entry.js';
import { startPair, waitFor, type Pair } from '../daemon/support/daemon-pair.js';
import { ControlCommandError } from '../../src/control/control-client.js';
import { connectRaw, startControl, type RawClient } from './support/control-fixture.js';

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.stop();
  pair = undefined;
});

/** A raw client watching the journal as request `id`; resolves once the daemon said yes. */
async function watchJournalRaw(path: string, id: number): Promise<RawClient> {
  const client = await connectRaw(path);
  client.socket.write(`${JSON.stringify({ id, cmd: 'watch', journal: true })}\n`);
  await waitFor('the watch reply', () => client.lines().length >= 1);
  return client;
}

/** Resolves once `entries` has not grown for 300 ms (what an exchange sets off is over). */
async function settled(entries: readonly unknown[]): Promise<void> {
  for (let n = -1; n !== entries.length; ) {
    n = entries.length;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const entriesOf = (client: RawClient): Record<string, unknown>[] => client.lines().slice(1);

describe('control watch of the journal', () => {
  it("streams an up's in, out and state entries as record lines, never a draw or a load", async () => {
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'listen' }] });
    expect(pair.b.daemon.journalFollowers).toBe(0);
    const client = await watchJournalRaw(pair.b.socket, 7);
    expect(client.lines()[0]).toEqual({ id: 7, ok: true, result: { watching: 'journal' } });
    expect(pair.b.daemon.journalFollowers).toBe(1);
    // Nothing is live yet: no current states to tell.
    expect(entriesOf(client)).toEqual([]);

    await pair.b.daemon.up('lab');
    await waitFor('the last state changes of the up', () => entriesOf(client).filter((l) => (l.entry as { t: string }).t === 'out').length >= 2);
    await new Promise((r) => setTimeout(r, 100));
    const lines = entriesOf(client);
    // Every line is exactly {"id":7,"entry":E}, E as encodeRecordLine writes it.
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(['id', 'entry']);
      expect(line.id).toBe(7);
      const entry = decodeRecordLine(JSON.stringify(line.entry));
      expect(JSON.parse(encodeRecordLine(entry))).toEqual(line.entry);
    }
    const kinds = lines.map((l) => (l.entry as { t: string }).t);
    expect(new Set(kinds)).toEqual(new Set(['in', 'out', 'state']));
    expect(client.received()).not.toMatch(/"t":"(draw|load|header)"/);
    const entries = lines.map((l) => decodeRecordLine(JSON.stringify(l.entry)) as PublicRecordEntry);
    // The command, the IKE_SA_INIT and IKE_AUTH requests out, the responses in, the actors established.
    expect(entries[0]).toMatchObject({ t: 'in', input: { kind: 'command', command: { name: 'initiate', connection: 'lab' } } });
    const outs = entries.filter((e): e is Extract<PublicRecordEntry, { t: 'out' }> => e.t === 'out');
    expect(Buffer.isBuffer(outs[0]!.datagram.bytes)).toBe(true);
    expect(outs.map((e) => e.datagram.bytes[18])).toEqual(expect.arrayContaining([34, 35])); // IKE_SA_INIT, IKE_AUTH
    expect(entries.some((e) => e.t === 'in' && e.input.kind === 'datagram')).toBe(true);
    const [sa] = (await pair.b.daemon.status()).ikeSas;
    const ikeId = `ike-${sa!.spiI}`;
    expect(entries.some((e) => e.t === 'state' && e.actor === ikeId)).toBe(true);
    expect(entries.some((e) => e.t === 'state' && e.actor.startsWith(`${ikeId}/child-`))).toBe(true);

    client.socket.end();
    await client.closed;
    await waitFor('the journal detached', () => pair!.b.daemon.journalFollowers === 0);
  }, 30_000);

  it('a watcher that joins after establishment first learns the state of each live actor; the client decodes the entries', async () => {
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'listen' }] });
    const up = await pair.b.daemon.up('lab');
    await new Promise((r) => setTimeout(r, 100));
    const entries: PublicRecordEntry[] = [];
    const watch = await controlWatchJournal(pair.b.socket, (e) => entries.push(decodeJournalEntry(e)));
    await waitFor('the current states', () => entries.length >= 2);
    const ikeId = `ike-${up.ikeSa.spiI}`;
    const childId = `${ikeId}/child-${up.childSa!.spiIn}`;
    expect(entries.slice(0, 2)).toEqual([
      { t: 'state', actor: ikeId, value: expect.objectContaining({ established: expect.anything() }) },
      { t: 'state', actor: childId, value: expect.anything() },
    ]);

    // Then the stream: a Child SA rekey, as it happens.
    await pair.b.daemon.rekey('lab', { ike: false });
    await waitFor('the rekey', () => entries.some((e) => e.t === 'in' && e.input.kind === 'command' && e.input.command.name === 'rekeyChildSa'));
    await waitFor('its datagrams', () => entries.filter((e) => e.t === 'out').length >= 1);
    const sent = entries.find((e): e is Extract<PublicRecordEntry, { t: 'out' }> => e.t === 'out')!;
    expect(Buffer.isBuffer(sent.datagram.bytes) && sent.datagram.bytes[18]).toBe(36); // CREATE_CHILD_SA
    expect(entries.every((e) => e.t === 'in' || e.t === 'out' || e.t === 'state')).toBe(true);

    // A second watcher joins (once the rekey's Delete is over): it is told the current states
    // too; the first one is not told again.
    await settled(entries);
    const second: PublicRecordEntry[] = [];
    const before = entries.length;
    const watch2 = await controlWatchJournal(pair.b.socket, (e) => second.push(decodeJournalEntry(e)));
    await waitFor('the second watcher is seeded', () => second.length >= 2);
    expect(second.every((e) => e.t === 'state')).toBe(true);
    expect(entries.length).toBe(before);
    expect(pair.b.daemon.journalFollowers).toBe(2);

    // The daemon stops: the streams end without a problem.
    const stopping = pair.b.daemon.stop({ graceMs: 1000 });
    expect(await watch.ended).toEqual({});
    expect(await watch2.ended).toEqual({});
    await stopping;
    expect(pair.b.daemon.journalFollowers).toBe(0);
  }, 30_000);

  it('the socket sends no draw or load even if a handler hands one over', async () => {
    const control = await startControl();
    try {
      const client = await watchJournalRaw(control.path, 3);
      control.handler.journal.next({ t: 'draw', bytes: Buffer.alloc(32, 1) } as never);
      control.handler.journal.next({ t: 'load', value: 0.9 } as never);
      control.handler.journal.next({ t: 'state', actor: 'ike-0000000000000001', value: 'established' });
      await waitFor('the state line', () => client.lines().length >= 2);
      expect(client.lines().slice(1)).toEqual([{ id: 3, entry: { t: 'state', actor: 'ike-0000000000000001', value: 'established' } }]);
      client.socket.destroy();
    } finally {
      await control.close();
    }
  });

  it('with a connection, only what concerns its SAs: their current states, then whole groups of theirs', async () => {
    const connections = [{ start: 'listen' as const }, { name: 'extra', subnet: 9, start: 'listen' as const }];
    pair = await startPair({ a: connections, b: connections });
    await expect(controlWatchJournal(pair.a.socket, () => undefined, { connection: 'nope' })).rejects.toThrow(ControlCommandError);
    await pair.b.daemon.up('lab');
    await pair.b.daemon.up('extra');
    await new Promise((r) => setTimeout(r, 200));
    // a is the responder: it learned each SA's connection at IKE_AUTH.
    const idOf = async (connection: string) => `ike-${(await pair!.a.daemon.status()).ikeSas.find((s) => s.connection === connection)!.spiR}`;
    const [lab, extra] = [await idOf('lab'), await idOf('extra')];
    const entries: PublicRecordEntry[] = [];
    const watch = await controlWatchJournal(pair.a.socket, (e) => entries.push(decodeJournalEntry(e)), { connection: 'extra' });
    const all: PublicRecordEntry[] = [];
    const watchAll = await controlWatchJournal(pair.a.socket, (e) => all.push(decodeJournalEntry(e)));
    await waitFor('the current states of extra', () => entries.length >= 2);
    expect(entries.map((e) => (e.t === 'state' ? e.actor.split('/')[0] : e.t))).toEqual([extra, extra]);

    await pair.b.daemon.rekey('lab', { ike: false });
    await pair.b.daemon.rekey('extra', { ike: false });
    await waitFor('the rekey of extra, whole', () => entries.filter((e) => e.t === 'out').length >= 2);
    await settled(entries);
    const sasOf = (e: PublicRecordEntry): string[] => {
      const bytes = e.t === 'out' ? e.datagram.bytes : e.t === 'in' && e.input.kind === 'datagram' ? e.input.datagram.bytes : undefined;
      if (bytes !== undefined) return [`ike-${bytes.toString('hex', 0, 8)}`, `ike-${bytes.toString('hex', 8, 16)}`];
      return e.t === 'state' ? [e.actor.split('/')[0]!] : e.t === 'in' && e.input.kind === 'deliver' ? [e.input.owner.split('/')[0]!] : [];
    };
    const touched = new Set(entries.flatMap(sasOf));
    expect(touched.has(extra)).toBe(true);
    expect(touched.has(lab)).toBe(false);
    // Whole groups: every group starts with its input, and the responder's CREATE_CHILD_SA exchange is in it.
    expect(entries.slice(2)[0]!.t).toBe('in');
    expect(entries.some((e) => e.t === 'in' && e.input.kind === 'datagram' && e.input.datagram.bytes[18] === 36)).toBe(true);
    // Exactly the unfiltered stream's groups that touch extra's SAs, the last one too (none held back).
    const groups: PublicRecordEntry[][] = [];
    for (const e of all) {
      if (e.t === 'in') groups.push([e]);
      else groups.at(-1)?.push(e);
    }
    expect(entries.slice(2)).toEqual(groups.filter((g) => g.flatMap(sasOf).includes(extra)).flat());
    watch.close();
    watchAll.close();
    await watch.ended;
    await watchAll.ended;
    await waitFor('the journal detached', () => pair!.a.daemon.journalFollowers === 0);
  }, 30_000);
});
