/**
 * What a record begun mid-run keeps (src/replay/journal-scope.ts), group by group, on entries
 * made up for the case: the actors stated before the first input are the old SAs; a group that
 * touches only old SAs is left out whole (and an SA appearing in it is old); one that touches a
 * new SA, no SA, or is engine-wide (reload, terminate by connection) is kept whole; the first
 * states are never kept.
 */
import { describe, expect, it } from 'vitest';
import type { Datagram } from '../../src/ports.js';
import type { RecordEntry } from '../../src/replay/record-entry.js';
import { JournalScope } from '../../src/replay/journal-scope.js';

const OLD = '00000000000000a1';
const NEW = '00000000000000b2';
const REKEYED = '00000000000000c3';
const PEER = '00000000000000ff';
const ends = { local: { address: '192.0.2.1', port: 500 }, remote: { address: '192.0.2.2', port: 500 } };
const datagram = (spiI: string, spiR: string): Datagram => ({ ...ends, bytes: Buffer.concat([Buffer.from(spiI + spiR, 'hex'), Buffer.alloc(12)]) });
const state = (actor: string, value: unknown = 'established'): RecordEntry => ({ t: 'state', actor, value });
const inDatagram = (spiI: string, spiR: string): RecordEntry => ({ t: 'in', at: 1, input: { kind: 'datagram', datagram: datagram(spiI, spiR) } });
const out = (spiI: string, spiR: string): RecordEntry => ({ t: 'out', datagram: datagram(spiI, spiR) });
const draw: RecordEntry = { t: 'draw', bytes: Buffer.alloc(32, 1) };

function scoped(entries: RecordEntry[]): { kept: RecordEntry[]; scope: JournalScope } {
  const kept: RecordEntry[] = [];
  const scope = new JournalScope({ sink: (e) => void kept.push(e) });
  entries.forEach((e) => scope.push(e));
  scope.end();
  return { kept, scope };
}

describe('JournalScope', () => {
  it('keeps the groups of new SAs, leaves out those of old ones and of SAs rekeyed from them', () => {
    const seeds = [state(`ike-${OLD}`), state(`ike-${OLD}/child-0000abcd`, 'installed')];
    // The old SA's IKE SA rekey (a peer's request): the new IKE SA appears in an old group.
    const oldRekey = [inDatagram(PEER, OLD), draw, out(PEER, OLD), state(`ike-${REKEYED}`), state(`ike-${OLD}`, 'closing')];
    const rekeyedLater = [{ t: 'in', at: 2, input: { kind: 'deliver', owner: `ike-${REKEYED}`, event: { type: 'RETRANSMIT' } } } as RecordEntry, out(REKEYED, PEER)];
    // A peer's IKE_SA_INIT: SPIr zero, a new responder SA.
    const newSa = [inDatagram(PEER, '0000000000000000'), draw, out(PEER, NEW), state(`ike-${NEW}`, 'sentInitResponse')];
    const newAuth = [inDatagram(PEER, NEW), out(PEER, NEW), state(`ike-${NEW}`)];
    const garbage = [inDatagram('1111111111111111', '2222222222222222')];
    const reload = [{ t: 'in', at: 3, input: { kind: 'command', command: { name: 'reload', config: { settings: {} as never, connections: [] } } } } as RecordEntry];
    const terminate = [{ t: 'in', at: 4, input: { kind: 'command', command: { name: 'terminate', target: { connection: 'lab' }, reason: 'x' } } } as RecordEntry, out(OLD, PEER), state(`ike-${OLD}`, 'closing')];
    const oldTimer = [{ t: 'in', at: 5, input: { kind: 'deliver', owner: `ike-${OLD}/child-0000abcd`, event: { type: 'REKEY' } } } as RecordEntry, draw];
    const { kept, scope } = scoped([...seeds, ...oldRekey, ...rekeyedLater, ...newSa, ...newAuth, ...garbage, ...reload, ...terminate, ...oldTimer]);
    expect(kept).toEqual([...newSa, ...newAuth, ...garbage, ...reload, ...terminate]);
    expect(scope.existing).toEqual([`ike-${OLD}`]);
    expect(scope.counts).toEqual({ kept: 5, leftOut: 3, held: 0 });
  });

  it('with a connection, holds a responder SA until its connection is known, and leaves out another one', () => {
    const kept: RecordEntry[] = [];
    const known = new Map<string, string>();
    const scope = new JournalScope({ sink: (e) => void kept.push(e), connection: { name: 'extra', of: (id) => (known.has(id) ? { known: known.get(id)! } : 'pending') } });
    const init = [inDatagram(PEER, '0000000000000000'), out(PEER, NEW), state(`ike-${NEW}`, 'sentInitResponse')];
    const auth = [inDatagram(PEER, NEW), out(PEER, NEW), state(`ike-${NEW}`)];
    const other = [inDatagram(PEER, '0000000000000000'), out(PEER, REKEYED), state(`ike-${REKEYED}`, 'sentInitResponse')];
    [...init, ...auth].forEach((e) => scope.push(e));
    scope.push(other[0]!);
    expect(kept).toEqual([]); // held: the connection of the SA is not known yet
    known.set(`ike-${NEW}`, 'extra');
    other.slice(1).forEach((e) => scope.push(e));
    scope.push(inDatagram(PEER, REKEYED));
    expect(kept).toEqual([...init, ...auth]);
    known.set(`ike-${REKEYED}`, 'third');
    scope.push(inDatagram('1111111111111111', '2222222222222222'));
    scope.end();
    expect(kept.some((e) => e.t === 'state' && e.actor === `ike-${REKEYED}`)).toBe(false);
  });

  it("following the existing SAs (a watch of one connection): their first states kept if theirs; flush() judges a group at once, and what still follows goes with it", () => {
    const kept: RecordEntry[] = [];
    const connections = new Map([[`ike-${OLD}`, 'extra'], [`ike-${NEW}`, 'lab']]);
    const scope = new JournalScope({
      sink: (e) => void kept.push(e),
      existing: 'follow',
      connection: { name: 'extra', of: (id) => (connections.has(id) ? { known: connections.get(id)! } : 'gone') },
    });
    const seeds = [state(`ike-${OLD}`), state(`ike-${NEW}`), state(`ike-${OLD}/child-0000abcd`, 'installed')];
    seeds.forEach((e) => scope.push(e));
    expect(kept).toEqual([seeds[0], seeds[2]]);
    const request = inDatagram(PEER, OLD);
    [request, draw, out(PEER, OLD)].forEach((e) => scope.push(e));
    scope.flush();
    expect(kept.slice(2)).toEqual([request, draw, out(PEER, OLD)]);
    const late = state(`ike-${OLD}`, 'rekeying');
    scope.push(late);
    scope.push(inDatagram(PEER, NEW));
    expect(kept.slice(5)).toEqual([late]);
    scope.end();
    expect(kept).toHaveLength(6);
  });
});
