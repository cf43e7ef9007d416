/**
 * Make before break on a kernel that sends on the newest outbound SA of a reqid at once (Linux
 * XFRM), RFC 7296 2.8: the order of kernel operations and messages on each side of a Child SA
 * rekey, as a recording kernel port and the network see them, in virtual time.
 *
 * - The rekey initiator installs both new ESP SAs on the response, then deletes the old SA.
 * - The rekey responder installs the new inbound SA (and the policies) before it answers, and the
 *   new outbound SA only when the old SA goes: on the initiator's Delete of it (which shows the
 *   initiator has our answer, so the new inbound SA), or when it goes for another reason (its
 *   hard lifetime, our own Delete) — always before the old outbound SA leaves.
 * - Simultaneous rekeys (2.8.1): the surviving new SA ends with its outbound SA installed on both
 *   sides; a redundant SA never gets one.
 * Throughout, each side always has an outbound SA to send on.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { KeylogKernel } from '../../src/kernel/keylog-kernel.js';
import type { KernelPort } from '../../src/kernel/kernel-port.js';
import { silentLogger } from '../../src/log/silent-logger.js';
import { ExchangeType, decodeMessage, parseEspSpiHex, type IkeHeader } from '../../src/wire/index.js';
import { StateTrails } from '../machines/state-trail.js';
import { connectionPair } from './fixtures.js';
import { Lab, type LabOptions, type LabSide } from './lab.js';
import { recordingKernel, type KernelCall } from './recording-kernel.js';

type ChildUp = Extract<SaEvent, { kind: 'child-sa-up' }>;
type Side = 'a' | 'b';

/** What one side's kernel port was asked, and what it sent and received, in one order. */
type Entry = KernelCall | { readonly op: 'sent' | 'received'; readonly exchange: number; readonly response: boolean };

interface Recorded {
  readonly lab: Lab;
  readonly log: Record<Side, Entry[]>;
  /** Drop what `from` sends while this says so. */
  drop: ((from: Side, header: IkeHeader) => boolean) | undefined;
  /** The Child SA actors' states (test/machines/state-trail.ts). */
  readonly trails: Record<Side, StateTrails>;
}

function recordedLab(options: LabOptions = {}): Recorded {
  const log: Record<Side, Entry[]> = { a: [], b: [] };
  const trails = { a: new StateTrails(), b: new StateTrails() };
  const lab = new Lab({
    impairment: { delayMs: { min: 5, max: 5 } },
    ...options,
    kernel: (side, k) => recordingKernel(options.kernel?.(side, k) ?? k, log[side] as KernelCall[]),
    inspect: (side, e) => trails[side].inspect(e),
  });
  const rec: Recorded = { lab, log, drop: undefined, trails };
  const sideOf = (address: string): Side => (address === lab.a.address ? 'a' : 'b');
  const headerOf = (bytes: Buffer): IkeHeader | undefined => {
    const m = decodeMessage(bytes);
    return m.ok ? m.value.header : undefined;
  };
  lab.network.filter = (d) => {
    const h = headerOf(d.bytes);
    if (h === undefined) return true;
    const from = sideOf(d.local.address);
    log[from].push({ op: 'sent', exchange: h.exchangeType, response: h.flags.response });
    return rec.drop?.(from, h) !== true;
  };
  lab.network.rewrite = (d) => {
    const h = headerOf(d.bytes);
    if (h !== undefined) log[sideOf(d.remote.address)].push({ op: 'received', exchange: h.exchangeType, response: h.flags.response });
    return d;
  };
  return rec;
}

const established = (side: LabSide) => side.engine.status().filter((s) => s.state === 'established');
const children = (side: LabSide) => established(side).flatMap((s) => s.children);

/** One IKE SA per side with `n` Child SAs, all installed. */
function quiet(lab: Lab, n = 1): boolean {
  return [lab.a, lab.b].every((side) => established(side).length === 1 && children(side).length === n && children(side).every((c) => c.state === 'installed'));
}

function kernelsMatch(lab: Lab): boolean {
  const a = lab.a.kernel.sas();
  const b = lab.b.kernel.sas();
  return a.length === b.length && a.every((x) => b.some((y) => y.spi === x.spi && y.direction !== x.direction && y.encryption.key.equals(x.encryption.key)));
}

/**
 * `lab.runUntil` for a kernel port that does real I/O (the key log's file): virtual time moves
 * 10 ms at a time, with a real millisecond between.
 */
async function runUntilWithIo(lab: Lab, done: () => boolean, maxMs = 60_000): Promise<boolean> {
  for (let ms = 0; ms < maxMs && !done(); ms += 10) {
    await lab.run(10);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return done();
}

async function establishedLab(
  options: LabOptions & { readonly io?: boolean } = {},
): Promise<Recorded & { readonly old: { readonly inbound: Record<Side, number>; readonly outbound: Record<Side, number> } }> {
  const rec = recordedLab(options);
  const { lab } = rec;
  lab.a.engine.initiate('lab');
  expect(options.io === true ? await runUntilWithIo(lab, () => quiet(lab)) : await lab.runUntil(() => quiet(lab))).toBe(true);
  const spis = (side: LabSide) => children(side)[0]!;
  const old = {
    inbound: { a: parseEspSpiHex(spis(lab.a).inboundSpi), b: parseEspSpiHex(spis(lab.b).inboundSpi) },
    outbound: { a: parseEspSpiHex(spis(lab.a).outboundSpi), b: parseEspSpiHex(spis(lab.b).outboundSpi) },
  };
  for (const side of ['a', 'b'] as const) {
    rec.log[side].length = 0;
    rec.trails[side].clear();
  }
  return Object.assign(rec, { old });
}

// Positions in a side's log (-1 when absent).
const installed = (log: Entry[], spi: number, direction: 'in' | 'out') => log.findIndex((e) => e.op === 'installSa' && e.spi === spi && e.direction === direction);
const removed = (log: Entry[], spi: number) => log.findIndex((e) => e.op === 'deleteSa' && e.spi === spi);
const message = (op: 'sent' | 'received', exchange: number, response: boolean, nth = 0) => (log: Entry[]) =>
  log.flatMap((e, i) => (e.op === op && e.exchange === exchange && e.response === response ? [i] : []))[nth] ?? -1;
const sentAnswer = message('sent', ExchangeType.CREATE_CHILD_SA, true);
const receivedAnswer = message('received', ExchangeType.CREATE_CHILD_SA, true);
const sentDelete = message('sent', ExchangeType.INFORMATIONAL, false);
const receivedDelete = message('received', ExchangeType.INFORMATIONAL, false);

/** The first point at which no outbound SA was left, replaying the log from `outbound` installed; -1 if never. */
function outboundGap(log: Entry[], outbound: number): number {
  const outs = new Set([outbound]);
  for (const [i, e] of log.entries()) {
    if (e.op === 'installSa' && e.direction === 'out') outs.add(e.spi);
    if (e.op === 'deleteSa') outs.delete(e.spi);
    if (outs.size === 0) return i;
  }
  return -1;
}

/** The Child SAs a side brought up for the rekey of its SA `oldInbound`. */
const successors = (side: LabSide, oldInbound: number) =>
  side.events.filter((e): e is ChildUp => e.kind === 'child-sa-up' && e.rekeyOf !== undefined && parseEspSpiHex(e.rekeyOf) === oldInbound);
const spiOf = (hex: string) => parseEspSpiHex(hex);
const outboundLog = (side: LabSide) => side.logs.filter((r) => r.message.startsWith('outbound SA installed'));

const roles = [
  { name: 'the original initiator rekeys', x: 'a', y: 'b' },
  { name: 'the original responder rekeys', x: 'b', y: 'a' },
] as const;

describe('Child SA rekey without a collision (2.8)', () => {
  for (const { name, x, y } of roles) {
    it(`${name}: the responder's new inbound SA is in before its answer, its outbound SA after the initiator's Delete and before the old SAs leave; the initiator installs both on the answer`, async () => {
      const { lab, log, old } = await establishedLab();
      const X = lab[x];
      const Y = lab[y];
      X.engine.rekeyChildSa(established(X)[0]!.id);
      expect(await lab.runUntil(() => quiet(lab) && spiOf(children(Y)[0]!.inboundSpi) !== old.inbound[y], 60_000)).toBe(true);
      const now = { x: children(X)[0]!, y: children(Y)[0]! };

      // The responder.
      const ly = log[y];
      const inY = installed(ly, spiOf(now.y.inboundSpi), 'in');
      const outY = installed(ly, spiOf(now.y.outboundSpi), 'out');
      expect(inY).toBeGreaterThanOrEqual(0);
      expect(inY).toBeLessThan(sentAnswer(ly));
      // The policies too (shared with the old SA: the kernel already has them).
      const policies = ly.flatMap((e, i) => (e.op === 'installPolicy' ? [i] : []));
      expect(policies).toHaveLength(3);
      expect(Math.max(...policies)).toBeLessThan(sentAnswer(ly));
      expect(sentAnswer(ly)).toBeLessThan(receivedDelete(ly));
      expect(outY).toBeGreaterThan(receivedDelete(ly));
      expect(outY).toBeLessThan(removed(ly, old.inbound[y]));
      expect(outY).toBeLessThan(removed(ly, old.outbound[y]));
      expect(ly.filter((e) => e.op === 'deletePolicy')).toEqual([]);
      expect(outboundGap(ly, old.outbound[y])).toBe(-1);
      expect(outboundLog(Y).map((r) => r.message)).toEqual(['outbound SA installed: the peer deleted the rekeyed Child SA']);

      // The initiator: both on the answer, then its Delete, then the old SAs go.
      const lx = log[x];
      const inX = installed(lx, spiOf(now.x.inboundSpi), 'in');
      const outX = installed(lx, spiOf(now.x.outboundSpi), 'out');
      for (const i of [inX, outX]) {
        expect(i).toBeGreaterThan(receivedAnswer(lx));
        expect(i).toBeLessThan(sentDelete(lx));
        expect(i).toBeLessThan(removed(lx, old.outbound[x]));
      }
      expect(outboundGap(lx, old.outbound[x])).toBe(-1);
      expect(outboundLog(X)).toEqual([]);
      expect(kernelsMatch(lab)).toBe(true);
    });
  }

  it("while the initiator's Delete is on its way, the responder's new Child SA is in `awaitingOutbound`: its inbound SA and the old SA's two in the kernel", async () => {
    const rec = await establishedLab();
    const { lab, old, trails } = rec;
    // A's Delete of the old SA is lost until said otherwise (A retransmits it after 4 s).
    rec.drop = (from, h) => from === 'a' && h.exchangeType === ExchangeType.INFORMATIONAL && !h.flags.response;
    lab.a.engine.rekeyChildSa(established(lab.a)[0]!.id);
    await lab.run(2_000);
    const ikeSa = established(lab.b)[0]!;
    const fresh = ikeSa.children.find((c) => spiOf(c.inboundSpi) !== old.inbound.b)!;
    expect(fresh).toBeDefined();
    expect(lab.b.kernel.sas().map((s) => [s.direction, s.spi]).sort()).toEqual(
      [
        ['in', old.inbound.b],
        ['out', old.outbound.b],
        ['in', spiOf(fresh.inboundSpi)],
      ].sort(),
    );
    expect(lab.b.engine.ikeSaContext(ikeSa.id)!.children.find((r) => r.params.inboundSpi === parseEspSpiHex(fresh.inboundSpi))?.outboundPending).toBe(true);
    const actor = `${ikeSa.id}/child-${fresh.inboundSpi}`;
    expect(trails.b.trail(actor, 'top')).toEqual(['installing.waiting', 'awaitingOutbound.waiting']);
    // Status still shows both: the new one installed, the old one rekeyed.
    expect(ikeSa.children.map((c) => c.state).sort()).toEqual(['installed', 'rekeyed']);
    expect(outboundLog(lab.b)).toEqual([]);

    rec.drop = undefined;
    expect(await lab.runUntil(() => quiet(lab), 30_000)).toBe(true);
    expect(trails.b.trail(actor, 'top')).toEqual(['installing.waiting', 'awaitingOutbound.waiting', 'awaitingOutbound.installing', 'installed']);
    expect(lab.b.kernel.sas().map((s) => s.spi).sort()).toEqual([spiOf(fresh.inboundSpi), spiOf(fresh.outboundSpi)].sort());
    expect(outboundLog(lab.b).map((r) => r.message)).toEqual(['outbound SA installed: the peer deleted the rekeyed Child SA']);
    expect(outboundGap(rec.log.b, old.outbound.b)).toBe(-1);
    expect(kernelsMatch(lab)).toBe(true);
  });

  it('the old SA reaches its hard lifetime before the Delete: the new outbound SA goes in first, the old SAs leave, the shared policies stay', async () => {
    // B's Child SAs live 60 s; A rekeys at 45 s and its Delete is lost until B's old SA expired.
    const pair = connectionPair();
    const b = { ...pair.b, dataPolicy: { ...pair.b.dataPolicy, lifetime: { rekeySeconds: 50, lifetimeSeconds: 60, jitterSeconds: 0 } } };
    const rec = await establishedLab({ connections: { a: [pair.a], b: [b] } });
    const { lab, log, old } = rec;
    await lab.run(45_000 - lab.scheduler.now());
    rec.drop = (from, h) => from === 'a' && h.exchangeType === ExchangeType.INFORMATIONAL && !h.flags.response;
    lab.a.engine.rekeyChildSa(established(lab.a)[0]!.id);
    await lab.run(16_000);
    rec.drop = undefined;
    expect(await lab.runUntil(() => quiet(lab), 60_000)).toBe(true);
    const fresh = children(lab.b)[0]!;
    const outB = installed(log.b, spiOf(fresh.outboundSpi), 'out');
    expect(outB).toBeGreaterThan(installed(log.b, spiOf(fresh.inboundSpi), 'in'));
    expect(outB).toBeLessThan(removed(log.b, old.inbound.b));
    expect(outB).toBeLessThan(removed(log.b, old.outbound.b));
    expect(log.b.filter((e) => e.op === 'deletePolicy')).toEqual([]);
    expect(lab.b.kernel.policies()).toHaveLength(3);
    expect(outboundGap(log.b, old.outbound.b)).toBe(-1);
    expect(outboundLog(lab.b).map((r) => r.message)).toEqual(['outbound SA installed: the rekeyed Child SA goes (hard lifetime)']);
    expect(lab.b.events.find((e) => e.kind === 'child-sa-down')).toMatchObject({ reason: 'hard lifetime expired after rekey' });
    expect(kernelsMatch(lab)).toBe(true);
  });

  it('we delete the old SA ourselves before the Delete arrives: the new outbound SA goes in first', async () => {
    const rec = await establishedLab();
    const { lab, log, old } = rec;
    rec.drop = (from, h) => from === 'a' && h.exchangeType === ExchangeType.INFORMATIONAL && !h.flags.response;
    lab.a.engine.rekeyChildSa(established(lab.a)[0]!.id);
    await lab.run(1_000);
    lab.b.engine.deleteChildSa(established(lab.b)[0]!.id, old.inbound.b.toString(16).padStart(8, '0'));
    await lab.run(1_000);
    rec.drop = undefined;
    expect(await lab.runUntil(() => quiet(lab), 60_000)).toBe(true);
    const fresh = children(lab.b)[0]!;
    const outB = installed(log.b, spiOf(fresh.outboundSpi), 'out');
    expect(outB).toBeGreaterThan(sentDelete(log.b));
    expect(outB).toBeLessThan(removed(log.b, old.outbound.b));
    expect(outboundGap(log.b, old.outbound.b)).toBe(-1);
    expect(outboundLog(lab.b).map((r) => r.message)).toEqual(['outbound SA installed: the rekeyed Child SA goes (deleted by request)']);
    expect(kernelsMatch(lab)).toBe(true);
  });

  it('a new Child SA that is no rekey (CREATE_CHILD_SA without REKEY_SA) gets both ESP SAs at once on the responder', async () => {
    const { lab, log } = await establishedLab();
    lab.a.engine.createChildSa(established(lab.a)[0]!.id);
    expect(await lab.runUntil(() => quiet(lab, 2), 60_000)).toBe(true);
    const installs = log.b.filter((e) => e.op === 'installSa').map((e) => (e.op === 'installSa' ? e.direction : ''));
    expect(installs).toEqual(['in', 'out']);
    expect(outboundLog(lab.b)).toEqual([]);
  });

  it("the key log gets the responder's new outbound SA too, once installed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-keylog-'));
    try {
      const path = join(dir, 'esp_sa');
      const keylog = { kernel: undefined as KeylogKernel | undefined };
      const { lab, old } = await establishedLab({
        io: true,
        kernel: (side, k): KernelPort => (side === 'b' ? (keylog.kernel = new KeylogKernel(k, { espSaPath: path, log: silentLogger })) : k),
      });
      lab.a.engine.rekeyChildSa(established(lab.a)[0]!.id);
      expect(await runUntilWithIo(lab, () => quiet(lab) && spiOf(children(lab.b)[0]!.inboundSpi) !== old.inbound.b)).toBe(true);
      await keylog.kernel?.flush();
      const fresh = children(lab.b)[0]!;
      const table = readFileSync(path, 'utf8');
      for (const spi of [fresh.inboundSpi, fresh.outboundSpi]) expect(table).toContain(`0x${spi}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('simultaneous Child SA rekey (2.8.1): the survivor ends with its outbound SA, a redundant SA never gets one', () => {
  /** Both sides rekey the same Child SA at the same instant; returns who won on the nonces. */
  async function collide(rec: Recorded): Promise<{ winner: Side; loser: Side }> {
    const { lab } = rec;
    lab.a.engine.rekeyChildSa(established(lab.a)[0]!.id);
    lab.b.engine.rekeyChildSa(established(lab.b)[0]!.id);
    expect(await lab.runUntil(() => quiet(lab) && lab.a.kernel.sas().length === 2 && lab.b.kernel.sas().length === 2, 120_000)).toBe(true);
    await lab.run(10_000);
    expect(quiet(lab)).toBe(true);
    expect(kernelsMatch(lab)).toBe(true);
    const verdict = (side: LabSide) => side.logs.find((r) => r.message.startsWith('simultaneous Child SA rekey'))?.fields.oursRedundant;
    const winner = verdict(lab.a) === false || verdict(lab.b) === true ? 'a' : 'b';
    return { winner, loser: winner === 'a' ? 'b' : 'a' };
  }

  it('both see the collision: the winner installs its SA both ways on the answer and never the outbound SA of the peer\'s; the loser installs the winner\'s outbound SA on its Delete of the old SA, never its own redundant one\'s', async () => {
    const rec = await establishedLab();
    const { lab, log, old } = rec;
    const { winner, loser } = await collide(rec);
    const [W, L] = [lab[winner], lab[loser]];
    expect(W.logs.some((r) => r.message.startsWith('simultaneous Child SA rekey'))).toBe(true);
    expect(L.logs.some((r) => r.message.startsWith('simultaneous Child SA rekey'))).toBe(true);
    const survivor = { w: children(W)[0]!, l: children(L)[0]! };
    expect(survivor.w.inboundSpi).toBe(survivor.l.outboundSpi);

    // The winner: its own SA both ways on the answer, before its Delete of the old SA; the
    // peer's (it answered that exchange) inbound only, before its answer.
    const lw = log[winner];
    const [peers] = successors(W, old.inbound[winner]).filter((e) => e.inboundSpi !== survivor.w.inboundSpi);
    expect(peers).toBeDefined();
    for (const direction of ['in', 'out'] as const) {
      const i = installed(lw, spiOf(direction === 'in' ? survivor.w.inboundSpi : survivor.w.outboundSpi), direction);
      expect(i).toBeGreaterThan(receivedAnswer(lw));
      expect(i).toBeLessThan(sentDelete(lw));
    }
    expect(installed(lw, spiOf(peers!.inboundSpi), 'in')).toBeLessThan(sentAnswer(lw));
    expect(installed(lw, spiOf(peers!.outboundSpi), 'out')).toBe(-1);
    expect(outboundGap(lw, old.outbound[winner])).toBe(-1);
    expect(outboundLog(W)).toEqual([]);

    // The loser: its own (redundant) SA inbound only; the winner's inbound before its answer,
    // outbound after the winner's Delete of the old SA arrived and before the old SAs leave.
    const ll = log[loser];
    const [own] = successors(L, old.inbound[loser]).filter((e) => e.inboundSpi !== survivor.l.inboundSpi);
    expect(own).toBeDefined();
    expect(installed(ll, spiOf(own!.inboundSpi), 'in')).toBeGreaterThan(receivedAnswer(ll));
    expect(installed(ll, spiOf(own!.outboundSpi), 'out')).toBe(-1);
    expect(installed(ll, spiOf(survivor.l.inboundSpi), 'in')).toBeLessThan(sentAnswer(ll));
    const outL = installed(ll, spiOf(survivor.l.outboundSpi), 'out');
    expect(outL).toBeGreaterThan(receivedDelete(ll));
    expect(outL).toBeLessThan(removed(ll, old.outbound[loser]));
    expect(outboundGap(ll, old.outbound[loser])).toBe(-1);
    expect(outboundLog(L).map((r) => r.message)).toEqual(['outbound SA installed: the peer deleted the rekeyed Child SA']);
  });

  it("the winner's Delete of the old SA reaches the loser before the answer to the loser's own request: the winner's outbound SA goes in then", async () => {
    let seen = 0;
    for (const x of ['a', 'b'] as const) {
      const rec = await establishedLab();
      const { lab, log, old } = rec;
      // x's first answer to a CREATE_CHILD_SA is lost: the other side gets it by retransmission.
      let lost = false;
      rec.drop = (from, h) => {
        if (lost || from !== x || h.exchangeType !== ExchangeType.CREATE_CHILD_SA || !h.flags.response) return false;
        lost = true;
        return true;
      };
      const { winner, loser } = await collide(rec);
      if (winner !== x) continue;
      seen++;
      const ll = log[loser];
      const survivor = children(lab[loser])[0]!;
      const outL = installed(ll, spiOf(survivor.outboundSpi), 'out');
      expect(receivedDelete(ll)).toBeLessThan(receivedAnswer(ll));
      expect(outL).toBeGreaterThan(receivedDelete(ll));
      expect(outL).toBeLessThan(receivedAnswer(ll));
      expect(outL).toBeLessThan(removed(ll, old.outbound[loser]));
      expect(outboundGap(ll, old.outbound[loser])).toBe(-1);
      expect(outboundGap(log[winner], old.outbound[winner])).toBe(-1);
      const [own] = successors(lab[loser], old.inbound[loser]).filter((e) => e.inboundSpi !== survivor.inboundSpi);
      expect(installed(ll, spiOf(own!.outboundSpi), 'out')).toBe(-1);
    }
    // The nonces are the same in both runs: in one of them the side losing its answer won.
    expect(seen).toBe(1);
  });

  it("only one side sees the collision (the other's request arrives after its own rekey completed): the peer's SA survives and gets its outbound SA on the peer's Delete", async () => {
    for (const x of ['a', 'b'] as const) {
      const rec = await establishedLab();
      const { lab, log, old } = rec;
      const y = x === 'a' ? 'b' : 'a';
      // x's first CREATE_CHILD_SA request is lost: y completes its rekey before it sees x's.
      let lost = false;
      rec.drop = (from, h) => {
        if (lost || from !== x || h.exchangeType !== ExchangeType.CREATE_CHILD_SA || h.flags.response) return false;
        lost = true;
        return true;
      };
      lab.a.engine.rekeyChildSa(established(lab.a)[0]!.id);
      lab.b.engine.rekeyChildSa(established(lab.b)[0]!.id);
      expect(await lab.runUntil(() => quiet(lab) && lab.a.kernel.sas().length === 2 && lab.b.kernel.sas().length === 2, 120_000)).toBe(true);
      await lab.run(30_000);
      expect(quiet(lab)).toBe(true);
      expect(kernelsMatch(lab)).toBe(true);
      expect(lab[x].logs.some((r) => r.message === 'the peer rekeys a Child SA we are rekeying: collision')).toBe(true);
      expect(lab[y].logs.some((r) => r.message.startsWith('simultaneous Child SA rekey'))).toBe(false);
      // x answered y's rekey: the survivor's outbound SA went in on y's Delete of the old SA.
      const lx = log[x];
      const survivor = children(lab[x])[0]!;
      expect(successors(lab[x], old.inbound[x]).map((e) => e.inboundSpi)).toEqual([survivor.inboundSpi]);
      const outX = installed(lx, spiOf(survivor.outboundSpi), 'out');
      expect(installed(lx, spiOf(survivor.inboundSpi), 'in')).toBeLessThan(sentAnswer(lx));
      expect(outX).toBeGreaterThan(receivedDelete(lx));
      expect(outX).toBeLessThan(removed(lx, old.outbound[x]));
      expect(outboundGap(lx, old.outbound[x])).toBe(-1);
      expect(outboundGap(log[y], old.outbound[y])).toBe(-1);
      expect(lab[x].events.filter((e) => e.kind === 'child-sa-failed')).toEqual([]);
    }
  });
});
