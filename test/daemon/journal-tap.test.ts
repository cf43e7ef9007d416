/**
 * The daemon's journal tap (src/daemon/journal-tap.ts) on a stand-in engine: each follower is an
 * engine attachment only while it follows; a public follower never gets a draw or a load, a
 * record's follower gets everything; a follower that throws is detached and ended with why, and
 * the others go on; close() ends them all.
 */
import { describe, expect, it } from 'vitest';
import { JournalTap } from '../../src/daemon/journal-tap.js';
import type { EngineJournal } from '../../src/engine/engine-journal.js';
import type { RecordEntry } from '../../src/replay/record-entry.js';

const datagram = { local: { address: '192.0.2.1', port: 500 }, remote: { address: '192.0.2.2', port: 500 }, bytes: Buffer.from('00', 'hex') };

/** Stands in for the engine: the journals attached now, fed by `feed`. */
function fakeEngine() {
  const attached = new Set<EngineJournal>();
  return {
    attached,
    attachJournal(journal: EngineJournal) {
      attached.add(journal);
      journal.state('ike-0000000000000001', 'established');
      return () => void attached.delete(journal);
    },
    feed() {
      for (const j of [...attached]) {
        j.input(5, { kind: 'command', command: { name: 'rekeyIkeSa', id: 'ike-0000000000000001' } });
        j.draw(Buffer.alloc(32, 7));
        j.load(0.5);
        j.output(datagram);
        j.state('ike-0000000000000001', { established: 'rekeying' });
      }
    },
  };
}

function follower() {
  const entries: RecordEntry[] = [];
  const ends: (string | undefined)[] = [];
  return { entries, ends, entry: (e: RecordEntry) => void entries.push(e), end: (reason?: string) => void ends.push(reason) };
}

describe('JournalTap', () => {
  it('attaches each follower only while it follows; public followers get no draw and no load', () => {
    const engine = fakeEngine();
    const tap = new JournalTap(engine);
    expect(engine.attached.size).toBe(0);
    const watcher = follower();
    const record = follower();
    const stopWatcher = tap.followPublic(watcher);
    const stopRecord = tap.followWithSecrets(record);
    expect(engine.attached.size).toBe(2);
    expect(tap.followers).toBe(2);
    engine.feed();
    expect(watcher.entries.map((e) => e.t)).toEqual(['state', 'in', 'out', 'state']);
    expect(record.entries.map((e) => e.t)).toEqual(['state', 'in', 'draw', 'load', 'out', 'state']);
    expect(record.entries[2]).toEqual({ t: 'draw', bytes: Buffer.alloc(32, 7) });
    stopWatcher();
    stopWatcher();
    expect(engine.attached.size).toBe(1);
    stopRecord();
    expect(engine.attached.size).toBe(0);
    expect(tap.followers).toBe(0);
    expect(watcher.ends).toEqual([]);
  });

  it('a follower that throws is detached and ended with the reason; the others go on; close() ends the rest', () => {
    const engine = fakeEngine();
    const tap = new JournalTap(engine);
    const bad = follower();
    const good = follower();
    tap.followPublic({ ...bad, entry: (e) => (e.t === 'out' ? (() => { throw new Error('disk full'); })() : bad.entry(e)) });
    tap.followPublic(good);
    expect(() => engine.feed()).not.toThrow();
    expect(bad.ends).toEqual(['the follower failed: disk full']);
    expect(bad.entries.map((e) => e.t)).toEqual(['state', 'in']);
    expect(good.entries.map((e) => e.t)).toEqual(['state', 'in', 'out', 'state']);
    expect(engine.attached.size).toBe(1);
    tap.close();
    expect(good.ends).toEqual([undefined]);
    expect(engine.attached.size).toBe(0);
    // One that throws on the current states it is told first is not left attached.
    tap.followPublic({ entry: () => { throw new Error('no'); }, end: () => undefined });
    expect(engine.attached.size).toBe(0);
  });
});
