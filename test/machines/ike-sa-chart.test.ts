/**
 * The IKE SA chart as the XState inspector shows it: for each procedure, two engines in virtual
 * time walk an IKE SA through it (both roles, and each collision case of RFC 7296 2.8.1/2.8.2),
 * and the test asserts the sequence of state values of the regions involved, taken from the
 * inspection snapshots (test/machines/state-trail.ts).
 */
import { describe, expect, it } from 'vitest';
import { ExchangeType, decodeMessage } from '../../src/wire/index.js';
import type { PairOptions } from '../engine/fixtures.js';
import { Lab, type LabSide } from '../engine/lab.js';
import { StateTrails } from './state-trail.js';

const W = (s: string) => `established.window.${s}`;
const A = (s: string) => `established.answering.${s}`;
const S = (s: string) => `established.succession.${s}`;

interface Setup {
  readonly lab: Lab;
  readonly trails: { readonly a: StateTrails; readonly b: StateTrails };
  /** The established IKE SA of a side (the one in service). */
  readonly current: (side: LabSide) => string;
}

/** Two engines with one IKE SA and one Child SA up; trails start empty from here. */
async function establishedPair(options: { pair?: PairOptions; delayMs?: number } = {}): Promise<Setup> {
  const trails = { a: new StateTrails(), b: new StateTrails() };
  const delay = options.delayMs ?? 5;
  const lab = new Lab({
    ...(options.pair === undefined ? {} : { pair: options.pair }),
    impairment: { delayMs: { min: delay, max: delay } },
    inspect: (side, e) => trails[side].inspect(e),
  });
  lab.a.engine.initiate('lab');
  expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b))).toBe(true);
  trails.a.clear();
  trails.b.clear();
  const current = (side: LabSide) => {
    const sa = side.engine.status().find((s) => s.state === 'established' && (s.stateValue as { established?: { succession?: unknown } }).established?.succession === 'current');
    if (sa === undefined) throw new Error(`no IKE SA in service on ${side.name}`);
    return sa.id;
  };
  return { lab, trails, current };
}

/** The trails of the Child SA actors of IKE SA `sa`: the old one (deleted at the end), then the new one. */
function childTrails(trails: StateTrails, sa: string): string[][] {
  const all = trails.actors((id) => id.startsWith(`${sa}/child-`)).map((id) => trails.trail(id, 'top'));
  const gone = (t: string[]) => t[t.length - 1] === 'deleted';
  return [...all.filter(gone), ...all.filter((t) => !gone(t))];
}

const sides = [
  { name: 'the original initiator', x: 'a', y: 'b' },
  { name: 'the original responder', x: 'b', y: 'a' },
] as const;

describe('IKE_SA_INIT and IKE_AUTH (RFC 7296 1.2)', () => {
  it('initiator: ikeSaInit → ikeAuth (our SPI, then the request) → established; responder: awaiting IKE_AUTH → its SPI → established', async () => {
    const trails = { a: new StateTrails(), b: new StateTrails() };
    const lab = new Lab({ inspect: (side, e) => trails[side].inspect(e) });
    const id = lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b))).toBe(true);
    expect(trails.a.trail(id, 'top')).toEqual(['ikeSaInit', 'ikeAuth.allocatingSpi', 'ikeAuth.awaitingResponse', 'established']);
    const [responder] = trails.b.actors();
    expect(trails.b.trail(responder!, 'top')).toEqual(['awaitingIkeAuth.waiting', 'awaitingIkeAuth.allocatingSpi', 'established']);
    for (const [t, sa] of [[trails.a, id], [trails.b, responder!]] as const) {
      expect(t.trail(sa, 'window')).toEqual([W('idle')]);
      expect(t.trail(sa, 'answering')).toEqual([A('idle')]);
      expect(t.trail(sa, 'succession')).toEqual([S('current')]);
    }
  });

  it('NO_PROPOSAL_CHOSEN: the initiator goes from ikeSaInit to closed; the responder is closed from its first step', async () => {
    const trails = { a: new StateTrails(), b: new StateTrails() };
    const lab = new Lab({ pair: { ike: ['aes128-sha256-modp2048'], ikeB: ['aes256gcm16-prfsha384-ecp384'] }, inspect: (side, e) => trails[side].inspect(e) });
    const id = lab.a.engine.initiate('lab');
    await lab.run(30_000);
    expect(trails.a.trail(id, 'top')).toEqual(['ikeSaInit', 'closed']);
    expect(trails.b.actors().map((r) => trails.b.trail(r, 'top'))).toEqual([['closed']]);
  });

  it('wrong PSK: both sides reach the IKE_AUTH states, then closed', async () => {
    const trails = { a: new StateTrails(), b: new StateTrails() };
    const lab = new Lab({ pair: { pskB: 'a different secret entirely' }, inspect: (side, e) => trails[side].inspect(e) });
    const id = lab.a.engine.initiate('lab');
    await lab.run(30_000);
    expect(trails.a.trail(id, 'top')).toEqual(['ikeSaInit', 'ikeAuth.allocatingSpi', 'ikeAuth.awaitingResponse', 'closed']);
    expect(trails.b.actors().map((r) => trails.b.trail(r, 'top'))).toEqual([['awaitingIkeAuth.waiting', 'awaitingIkeAuth.allocatingSpi', 'closed']]);
  });
});

describe.each(sides)('procedures started by $name', ({ x, y }) => {
  it('a new Child SA (1.3.1): creatingChild on our side, answering with an allocated SPI on the peer', async () => {
    const { lab, trails, current } = await establishedPair();
    const X = lab[x];
    const sa = current(X);
    X.engine.createChildSa(sa);
    await lab.run(1_000);
    expect(trails[x].trail(sa, 'window')).toEqual([W('creatingChild.allocatingSpi'), W('creatingChild.awaitingResponse'), W('idle')]);
    expect(trails[y].trail(current(lab[y]), 'answering')).toEqual([A('allocatingSpi'), A('idle')]);
    expect(X.engine.status()[0]!.children).toHaveLength(2);
  });

  it('a Child SA rekey (1.3.3): rekeyingChild, then the old SA deleted by us (make before break)', async () => {
    const { lab, trails, current } = await establishedPair();
    const X = lab[x];
    const sa = current(X);
    X.engine.rekeyChildSa(sa);
    await lab.run(1_000);
    expect(trails[x].trail(sa, 'window')).toEqual([
      W('rekeyingChild.allocatingSpi'),
      W('rekeyingChild.awaitingResponse'),
      W('idle'),
      W('deletingChild'),
      W('idle'),
    ]);
    // The peer answers the rekey once its SPI is there and the new inbound SA is in the kernel,
    // and the Delete at once; its own window never leaves idle.
    const peer = current(lab[y]);
    expect(trails[y].trail(peer, 'answering')).toEqual([A('allocatingSpi'), A('awaitingInboundSa'), A('idle')]);
    expect(trails[y].trail(peer, 'window')).toEqual([W('idle')]);
    // The Child SAs (2.8): ours installs both ESP SAs at once; the peer's new SA waits for its
    // outbound SA until our Delete of the old one, which waits in `rekeyed` until then.
    const [oldX, newX] = childTrails(trails[x], sa);
    expect(newX).toEqual(['installing.waiting', 'installed']);
    expect(oldX).toEqual(['rekeying', 'rekeyed', 'deleting', 'deleted']);
    const [oldY, newY] = childTrails(trails[y], peer);
    expect(newY).toEqual(['installing.waiting', 'awaitingOutbound.waiting', 'awaitingOutbound.installing', 'installed']);
    expect(oldY).toEqual(['rekeyed', 'deleting', 'deleted']);
  });

  it('a Child SA delete (1.4.1): deletingChild on our side, answered at once by the peer', async () => {
    const { lab, trails, current } = await establishedPair();
    const X = lab[x];
    const sa = current(X);
    X.engine.deleteChildSa(sa, X.engine.status()[0]!.children[0]!.inboundSpi);
    await lab.run(1_000);
    expect(trails[x].trail(sa, 'window')).toEqual([W('deletingChild'), W('idle')]);
    expect(trails[y].trail(current(lab[y]), 'answering')).toEqual([A('idle')]);
    expect(X.engine.status()[0]!.children).toEqual([]);
  });

  it('an IKE SA rekey (1.3.2, 2.18): we hand over and delete the old SA; the peer hands over and waits for our Delete', async () => {
    const { lab, trails, current } = await establishedPair();
    const X = lab[x];
    const Y = lab[y];
    const oldX = current(X);
    const oldY = current(Y);
    X.engine.rekeyIkeSa(oldX);
    await lab.run(1_000);
    expect(trails[x].trail(oldX, 'window')).toEqual([W('rekeyingIke.awaitingResponse'), W('deletingIke')]);
    expect(trails[x].trail(oldX, 'succession')).toEqual([S('current'), S('handingOver.deletingOld')]);
    expect(trails[x].trail(oldX, 'top')).toEqual(['established', 'closed']);
    // The peer's first change is the hand-over itself, when our request arrives.
    expect(trails[y].trail(oldY, 'succession')).toEqual([S('handingOver.awaitingDelete')]);
    expect(trails[y].trail(oldY, 'top')).toEqual(['established', 'lingering']);
    for (const side of [x, y] as const) {
      const successor = current(lab[side]);
      expect(successor).not.toBe(side === x ? oldX : oldY);
      expect(trails[side].trail(successor, 'succession')).toEqual([S('current')]);
    }
  });

  it('an IKE SA delete (1.4.1): deletingIke, then closing; the peer closes and lingers to answer a retransmitted Delete (2.1)', async () => {
    const { lab, trails, current } = await establishedPair();
    const X = lab[x];
    const sa = current(X);
    const peer = current(lab[y]);
    X.engine.terminate({ id: sa });
    await lab.run(1_000);
    expect(trails[x].trail(sa, 'window')).toEqual([W('deletingIke')]);
    expect(trails[x].trail(sa, 'top')).toEqual(['established', 'closing.local', 'closed']);
    expect(trails[y].trail(peer, 'top')).toEqual(['closing.deletedByPeer', 'lingering']);
    await lab.run(120_000);
    expect(trails[y].trail(peer, 'top').at(-1)).toBe('closed');
  });

  it('a liveness check (2.4): checkingLiveness after a quiet DPD interval, back to idle when answered', async () => {
    const { lab, trails, current } = await establishedPair({ pair: { dpd: { intervalSeconds: 30, timeoutSeconds: 150 } } });
    const sa = current(lab[x]);
    await lab.run(31_000);
    expect(trails[x].trail(sa, 'window').slice(0, 2)).toEqual([W('checkingLiveness'), W('idle')]);
  });
});

describe('dead peer (2.1, 2.4)', () => {
  it('an unanswered liveness check ends the IKE SA: checkingLiveness, then closing and closed', async () => {
    const { lab, trails, current } = await establishedPair({ pair: { dpd: { intervalSeconds: 30, timeoutSeconds: 150 } } });
    const sa = current(lab.a);
    lab.network.filter = (d) => d.local.address !== lab.b.address;
    await lab.run(200_000);
    expect(trails.a.trail(sa, 'window')).toEqual([W('checkingLiveness')]);
    expect(trails.a.trail(sa, 'top')).toEqual(['established', 'closing.local', 'closed']);
    expect(lab.a.events.find((e) => e.kind === 'ike-sa-down')).toMatchObject({ reason: 'peer not responding (liveness unanswered)' });
  });
});

describe('simultaneous rekeys', () => {
  it('Child SA (2.8.1): both sides go rekeyingChild.awaitingResponse → simultaneous, and each answers the other through answering', async () => {
    const { lab, trails, current } = await establishedPair();
    const saA = current(lab.a);
    const saB = current(lab.b);
    lab.a.engine.rekeyChildSa(saA);
    lab.b.engine.rekeyChildSa(saB);
    await lab.run(2_000);
    for (const [t, sa] of [[trails.a, saA], [trails.b, saB]] as const) {
      expect(t.trail(sa, 'window').slice(0, 4)).toEqual([W('rekeyingChild.allocatingSpi'), W('rekeyingChild.awaitingResponse'), W('rekeyingChild.simultaneous'), W('idle')]);
      // Then each deletes what its side must: the winner the old SA, the loser its redundant one.
      expect(t.trail(sa, 'window').slice(4)).toEqual([W('deletingChild'), W('idle')]);
      expect(t.trail(sa, 'answering')).toEqual([A('idle'), A('allocatingSpi'), A('awaitingInboundSa'), A('idle')]);
    }
    const oursRedundant = [lab.a, lab.b].map((s) => s.logs.find((r) => r.message.startsWith('simultaneous Child SA rekey'))?.fields.oursRedundant);
    expect(new Set(oursRedundant)).toEqual(new Set([true, false]));
  });

  it('IKE SA (2.8.2): rekeyingIke.simultaneous on both; the winner deletes the old SA and holds the peer\'s redundant SA, the loser deletes its own', async () => {
    const { lab, trails, current } = await establishedPair();
    const old = { a: current(lab.a), b: current(lab.b) };
    lab.a.engine.rekeyIkeSa(old.a);
    lab.b.engine.rekeyIkeSa(old.b);
    await lab.run(10_000);
    const winner = (['a', 'b'] as const).find((s) => lab[s].logs.some((r) => r.message.startsWith('simultaneous IKE SA rekey') && r.fields.oursRedundant === false))!;
    const loser: 'a' | 'b' = winner === 'a' ? 'b' : 'a';
    for (const s of [winner, loser] as const) expect(trails[s].trail(old[s], 'window').slice(0, 2)).toEqual([W('rekeyingIke.awaitingResponse'), W('rekeyingIke.simultaneous')]);
    expect(trails[winner].trail(old[winner], 'window').at(-1)).toBe(W('deletingIke'));
    expect(trails[winner].trail(old[winner], 'succession')).toEqual([S('current'), S('handingOver.deletingOld')]);
    expect(trails[loser].trail(old[loser], 'succession')).toEqual([S('current'), S('handingOver.awaitingDelete')]);
    // The redundant SA: created by the loser's exchange; the loser deletes it, the winner holds it until then.
    const successions = (s: 'a' | 'b') => trails[s].actors().filter((id) => id !== old[s]).map((id) => trails[s].trail(id, 'succession')[0]);
    expect(successions(loser).sort()).toEqual([S('current'), S('redundant.deletingOurs')]);
    expect(successions(winner).sort()).toEqual([S('current'), S('redundant.awaitingPeersDelete')]);
  });

  it("IKE SA, the peer did not notice (2.8.2): the loser's rekeyingIke.simultaneous ends with the winner's Delete of the old SA", async () => {
    // As strongSwan does it: the winner's answers to CREATE_CHILD_SA are lost until it sends its
    // Delete, so the loser sees that Delete before the answer to its own rekey.
    for (const x of ['a', 'b'] as const) {
      const { lab, trails, current } = await establishedPair({ delayMs: 5 });
      const X = lab[x];
      const y: 'a' | 'b' = x === 'a' ? 'b' : 'a';
      const isCreateChildResponse = (bytes: Buffer) => {
        const m = decodeMessage(bytes);
        return m.ok && m.value.header.exchangeType === ExchangeType.CREATE_CHILD_SA && m.value.header.flags.response;
      };
      const isInformationalRequest = (bytes: Buffer) => {
        const m = decodeMessage(bytes);
        return m.ok && m.value.header.exchangeType === ExchangeType.INFORMATIONAL && !m.value.header.flags.response;
      };
      let open = false;
      lab.network.filter = (d) => {
        if (open || d.local.address !== X.address) return true;
        if (isInformationalRequest(d.bytes)) open = true;
        return !isCreateChildResponse(d.bytes);
      };
      const old: Record<'a' | 'b', string> = { a: current(lab.a), b: current(lab.b) };
      lab.a.engine.rekeyIkeSa(old.a);
      lab.b.engine.rekeyIkeSa(old.b);
      await lab.run(30_000);
      const xWon = X.logs.some((r) => r.message.startsWith('simultaneous IKE SA rekey') && r.fields.oursRedundant === false);
      if (!xWon) continue;
      expect(trails[y].trail(old[y], 'window')).toEqual([W('rekeyingIke.awaitingResponse'), W('rekeyingIke.simultaneous')]);
      // Its Child SA went to the winner's new IKE SA: nothing to remove, so on to lingering at once.
      expect(trails[y].trail(old[y], 'top')).toEqual(['established', 'lingering']);
      // The winner held the loser's redundant SA, which the loser never had, then dropped it.
      const held = trails[x].actors().filter((id) => id !== old[x]).find((id) => trails[x].trail(id, 'succession')[0] === S('redundant.awaitingPeersDelete'));
      expect(held).toBeDefined();
      expect(trails[x].trail(held!, 'top')).toEqual(['established', 'closed']);
      return;
    }
    throw new Error('in neither run did the filtered side win on nonces');
  });
});

describe('refusals that depend on the state (2.25)', () => {
  it("the peer's new Child SA while we rekey the IKE SA: TEMPORARY_FAILURE at once, answering never leaves idle", async () => {
    const { lab, trails, current } = await establishedPair();
    const saA = current(lab.a);
    const saB = current(lab.b);
    lab.a.engine.rekeyIkeSa(saA);
    lab.b.engine.createChildSa(saB);
    await lab.run(2_000);
    expect(trails.a.trail(saA, 'window')[0]).toBe(W('rekeyingIke.awaitingResponse'));
    expect(trails.a.trail(saA, 'answering')).toEqual([A('idle')]);
    // B was creating a Child SA when A's IKE SA rekey arrived: busy too (our window holds Child SA work).
    expect(trails.b.trail(saB, 'window').slice(0, 2)).toEqual([W('creatingChild.allocatingSpi'), W('creatingChild.awaitingResponse')]);
    expect(trails.b.trail(saB, 'answering')).toEqual([A('idle')]);
    expect(lab.b.events.filter((e) => e.kind === 'child-sa-up')).toHaveLength(1);
  });
});
