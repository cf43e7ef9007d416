/**
 * `record start` / `record stop` on running daemons (two in-process daemons): `lab` is up before
 * the records start; then `extra` and `third` come up, `extra` rekeys its Child SA and its IKE
 * SA, and the old `lab` SA rekeys both too. b records everything new, a (the responder) only
 * `extra`. Each file is 0600 and replays as recorded on an empty engine; no group of the old
 * `lab` SA, nor of the IKE SA rekeyed from it, is in either; a's holds nothing of `third`. And
 * the same through `ikekm record start` / `ikekm record stop` against a daemon's socket.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordCommand } from '../../src/cli/record-command.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import type { MidRunRecordSummary } from '../../src/daemon/mid-run-record.js';
import type { RecordEntry } from '../../src/replay/record-entry.js';
import { readRecordFile } from '../../src/replay/record-file.js';
import { replayRecord } from '../../src/replay/replay.js';
import { startPair, waitFor, type Pair } from '../daemon/support/daemon-pair.js';
import { loadedConfig, PSK, type ConnectionOptions } from '../daemon/support/lab-connections.js';
import { commandOutput } from '../support/command-output.js';

const CONNECTIONS: ConnectionOptions[] = [{ start: 'listen' }, { name: 'extra', subnet: 9, start: 'listen' }, { name: 'third', subnet: 8, start: 'listen' }];

/** The IKE SA ids (`ike-<our SPI>`) an entry concerns: its actor, or both SPIs of its datagram. */
function sasOf(entry: RecordEntry): string[] {
  const bytes = entry.t === 'out' ? entry.datagram.bytes : entry.t === 'in' && entry.input.kind === 'datagram' ? entry.input.datagram.bytes : undefined;
  if (bytes !== undefined) return [`ike-${Buffer.from(bytes).toString('hex', 0, 8)}`, `ike-${Buffer.from(bytes).toString('hex', 8, 16)}`];
  if (entry.t === 'state') return [entry.actor.split('/')[0]!];
  if (entry.t === 'in' && entry.input.kind === 'deliver') return [entry.input.owner.split('/')[0]!];
  return [];
}

/** Our side's actor id of a connection's established IKE SA, by role. */
async function ikeIdOf(pair: Pair, side: 'a' | 'b', connection: string): Promise<string> {
  const sa = (await pair[side].daemon.status()).ikeSas.find((s) => s.connection === connection && s.state === 'ESTABLISHED');
  if (sa === undefined) throw new Error(`${connection} is not established on ${side}`);
  return `ike-${side === 'b' ? sa.spiI : sa.spiR}`;
}

describe('ikekm record start / stop on a running daemon', () => {
  let pair: Pair;
  const files = { a: '', b: '' };
  const summaries: Partial<Record<'a' | 'b', MidRunRecordSummary>> = {};
  const oldLab: Record<'a' | 'b', string[]> = { a: [], b: [] };
  let started: { a: unknown; b: unknown };

  beforeAll(async () => {
    pair = await startPair({ a: CONNECTIONS, b: CONNECTIONS });
    files.a = join(pair.dir, 'a-mid.jsonl');
    files.b = join(pair.dir, 'b-mid.jsonl');
    await pair.b.daemon.up('lab');
    await new Promise((r) => setTimeout(r, 200));
    for (const side of ['a', 'b'] as const) oldLab[side].push(await ikeIdOf(pair, side, 'lab'));

    started = {
      a: await pair.a.daemon.recordStart(files.a, { connection: 'extra' }),
      b: await pair.b.daemon.recordStart(files.b),
    };
    await expect(pair.b.daemon.recordStart(join(pair.dir, 'second.jsonl'))).rejects.toThrow(/already running/);

    await pair.b.daemon.up('extra');
    await pair.b.daemon.up('third');
    const childUps = () => pair.b.events.filter((e) => e.kind === 'child-sa-up').length;
    const before = childUps();
    await pair.b.daemon.rekey('extra', { ike: false });
    await waitFor('the Child SA rekey of extra', () => childUps() > before);
    await pair.b.daemon.rekey('extra', { ike: true });
    // The old SA acts too: its groups are left out, as is everything of the SA rekeyed from it.
    await pair.b.daemon.rekey('lab', { ike: false });
    await pair.b.daemon.rekey('lab', { ike: true });
    await new Promise((r) => setTimeout(r, 300));
    for (const side of ['a', 'b'] as const) oldLab[side].push(await ikeIdOf(pair, side, 'lab'));
    await pair.b.daemon.rekey('lab', { ike: false });
    await new Promise((r) => setTimeout(r, 300));

    summaries.a = await pair.a.daemon.recordStop();
    summaries.b = await pair.b.daemon.recordStop();
    await expect(pair.b.daemon.recordStop()).rejects.toThrow(/no record is running/);
  }, 60_000);
  afterAll(() => pair.stop());

  it('each file is 0600 and says when it began and which IKE SAs it leaves out', async () => {
    expect(started.b).toMatchObject({ file: files.b, existingIkeSas: 1 });
    expect(started.a).toMatchObject({ file: files.a, existingIkeSas: 1, connection: 'extra' });
    for (const side of ['a', 'b'] as const) {
      expect(statSync(files[side]).mode & 0o777).toBe(0o600);
      const entries = await readRecordFile(files[side]);
      const header = entries[0];
      expect(header).toMatchObject({ t: 'header', version: 1, midRun: { existingIkeSas: [oldLab[side][0]] } });
      const summary = summaries[side]!;
      expect(summary.entries).toBe(entries.length);
      expect(summary.bytes).toBe(statSync(files[side]).size);
      expect(summary.keptGroups).toBeGreaterThan(5);
      expect(summary.leftOutGroups).toBeGreaterThan(3);
    }
  });

  it('holds no group of the old SA nor of the IKE SA rekeyed from it', async () => {
    for (const side of ['a', 'b'] as const) {
      const entries = (await readRecordFile(files[side])).slice(1);
      const touched = new Set(entries.flatMap(sasOf));
      expect(oldLab[side]).toHaveLength(2);
      for (const id of oldLab[side]) expect(touched.has(id)).toBe(false);
      expect(entries.filter((e) => e.t === 'draw').length).toBeGreaterThan(0);
    }
  });

  it('b holds the new connections, a only extra', async () => {
    const commands = (await readRecordFile(files.b)).flatMap((e) => (e.t === 'in' && e.input.kind === 'command' ? [e.input.command] : []));
    expect(commands.filter((c) => c.name === 'initiate').map((c) => (c.name === 'initiate' ? c.connection : ''))).toEqual(['extra', 'third']);
    const aEntries = (await readRecordFile(files.a)).slice(1);
    const third = await ikeIdOf(pair, 'a', 'third');
    const extra = await ikeIdOf(pair, 'a', 'extra');
    const touched = new Set(aEntries.flatMap(sasOf));
    expect(touched.has(third)).toBe(false);
    expect(touched.has(extra)).toBe(true);
  });

  it('each replays as recorded on an empty engine', async () => {
    for (const side of ['a', 'b'] as const) {
      const entries = await readRecordFile(files[side]);
      const outcome = await replayRecord(entries, { registry: cryptoRegistry, secrets: loadedConfig(side, pair.ports, CONNECTIONS).engine });
      expect(outcome).toMatchObject({ ok: true });
      // IKE_SA_INIT and IKE_AUTH of each new SA, the rekeys: outputs of both exchanges.
      expect(outcome.ok && outcome.outputs).toBeGreaterThanOrEqual(side === 'b' ? 8 : 4);
    }
  });
});

describe('ikekm record start / stop (the command)', () => {
  it('starts a record on the daemon, says it holds key material, stops it with what it holds; it replays', async () => {
    const pair = await startPair({ a: CONNECTIONS, b: CONNECTIONS });
    try {
      const file = join(pair.dir, 'cli.jsonl');
      const record = (...args: string[]) => commandOutput(() => recordCommand([...args, '--socket', pair.b.socket]));
      expect(await record('stop')).toMatchObject({ code: 1, out: expect.stringMatching(/no record is running/) });
      // Two starts at once: one record.
      const both = await Promise.allSettled([pair.b.daemon.recordStart(join(pair.dir, 'x1.jsonl')), pair.b.daemon.recordStart(join(pair.dir, 'x2.jsonl'))]);
      expect(both.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
      await pair.b.daemon.recordStop();
      await pair.b.daemon.up('lab');
      const start = await record('start', file);
      expect(start.code).toBe(0);
      expect(start.out).toContain(`to ${file} (0600)`);
      expect(start.out).toMatch(/key material/);
      expect(start.out).toMatch(/the 1 IKE SA\(s\) that exist now are left out/);
      expect((await record('start', file)).out).toMatch(/already running/);
      await pair.b.daemon.up('extra');
      await new Promise((r) => setTimeout(r, 200));
      const stop = await record('stop');
      expect(stop.code).toBe(0);
      const text = readFileSync(file, 'utf8');
      expect(stop.out).toContain(`${file}: ${text.split('\n').length - 1} entries, ${Buffer.byteLength(text)} bytes`);
      expect(text).not.toContain(PSK);
      // Never over an existing file (a typo must not cost a file), not even the last record.
      const again = await record('start', file);
      expect(again).toMatchObject({ code: 1, out: expect.stringContaining(`${file} exists: a record is written to a new file, never over one`) });
      expect(readFileSync(file, 'utf8')).toBe(text);
      const outcome = await replayRecord(await readRecordFile(file), { registry: cryptoRegistry, secrets: loadedConfig('b', pair.ports, CONNECTIONS).engine });
      expect(outcome).toMatchObject({ ok: true });
      expect(outcome.ok && outcome.outputs).toBeGreaterThanOrEqual(2);
    } finally {
      await pair.stop();
    }
  }, 30_000);
});

describe('a record running when the daemon stops', () => {
  it('is stopped and closed by the stop, the stop (Deletes to every peer) in it; with no SA older than it, it replays', async () => {
    const pair = await startPair({ a: CONNECTIONS, b: CONNECTIONS });
    const file = join(pair.dir, 'until-stop.jsonl');
    try {
      await pair.b.daemon.recordStart(file);
      await pair.b.daemon.up('extra');
      await pair.b.daemon.stop({ graceMs: 2000 });
      expect(pair.b.logs.lines().some((l) => l.msg === 'record stopped: the daemon stops')).toBe(true);
      const entries = await readRecordFile(file);
      const commands = entries.flatMap((e) => (e.t === 'in' && e.input.kind === 'command' ? [e.input.command.name] : []));
      expect(commands).toEqual(expect.arrayContaining(['initiate', 'refuseNewSas', 'terminateAll', 'stop']));
      const outcome = await replayRecord(entries, { registry: cryptoRegistry, secrets: loadedConfig('b', pair.ports, CONNECTIONS).engine });
      expect(outcome).toMatchObject({ ok: true });
    } finally {
      await pair.stop();
    }
  }, 30_000);
});
