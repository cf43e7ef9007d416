/**
 * INFORMATIONAL (RFC 7296 1.4): deleting Child SAs and the IKE SA from either side, and
 * dead-peer detection (2.4): liveness checks after a quiet interval, and clean-up of everything
 * when the peer stays silent past the timeout.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeType, decodeMessage } from '../../src/wire/index.js';
import { connectionPair } from './fixtures.js';
import { Lab, type LabSide } from './lab.js';

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);
const established = (side: LabSide) => side.engine.status().filter((s) => s.state === 'established');

describe('deletes', () => {
  for (const who of ['a', 'b'] as const) {
    it(`a Child SA deleted by ${who === 'a' ? 'the initiator' : 'the responder'}: gone on both sides with its policies, the IKE SA stays`, async () => {
      const lab = new Lab();
      lab.a.engine.initiate('lab');
      expect(await lab.runUntil(both(lab))).toBe(true);
      const side = lab[who];
      const sa = established(side)[0]!;
      side.engine.deleteChildSa(sa.id, sa.children[0]!.inboundSpi);
      expect(await lab.runUntil(() => [lab.a, lab.b].every((s) => established(s)[0]?.children.length === 0), 30_000)).toBe(true);
      for (const s of [lab.a, lab.b]) {
        expect(s.kernel.sas()).toHaveLength(0);
        expect(s.kernel.policies()).toHaveLength(0);
        expect(established(s)).toHaveLength(1);
      }
      expect(lab.a.events.filter((e) => e.kind === 'child-sa-down')).toHaveLength(1);
    });

    it(`the IKE SA deleted by ${who === 'a' ? 'the initiator' : 'the responder'}: everything gone on both sides`, async () => {
      const lab = new Lab();
      lab.a.engine.initiate('lab');
      expect(await lab.runUntil(both(lab))).toBe(true);
      lab[who].engine.terminate({ connection: 'lab' });
      // The side that answered the Delete lingers a minute to answer retransmissions, then goes.
      await lab.run(90_000);
      for (const s of [lab.a, lab.b]) {
        expect(s.engine.size()).toBe(0);
        expect(s.kernel.sas()).toHaveLength(0);
        expect(s.kernel.policies()).toHaveLength(0);
        expect(s.events.filter((e) => e.kind === 'ike-sa-down')).toHaveLength(1);
      }
    });

    it(`the IKE SA deleted by ${who === 'a' ? 'the initiator' : 'the responder'}: the peer reports ike-sa-down at once, only lingering after that`, async () => {
      const lab = new Lab();
      lab.a.engine.initiate('lab');
      expect(await lab.runUntil(both(lab))).toBe(true);
      const peer = who === 'a' ? lab.b : lab.a;
      const id = established(peer)[0]!.id;
      lab[who].engine.terminate({ connection: 'lab' });
      const since = lab.scheduler.now();
      // The answer to the Delete is one round trip; the down event must not wait for the linger.
      expect(await lab.runUntil(() => peer.events.some((e) => e.kind === 'ike-sa-down' && e.id === id), 1_000)).toBe(true);
      expect(lab.scheduler.now() - since).toBeLessThan(1_000);
      const down = peer.events.filter((e) => e.kind === 'ike-sa-down');
      expect(down).toEqual([expect.objectContaining({ id, reason: 'deleted by the peer' })]);
      expect(peer.events.filter((e) => e.kind === 'child-sa-down')).toHaveLength(1);
      // Still there to answer a retransmitted Delete from its cache, but visibly deleted.
      expect(peer.engine.status().map((s) => [s.id, s.state, s.children.length])).toEqual([[id, 'lingering', 0]]);
      expect(peer.kernel.sas()).toHaveLength(0);
      await lab.run(90_000);
      expect(peer.engine.size()).toBe(0);
      // No second ike-sa-down when lingering ends.
      expect(peer.events.filter((e) => e.kind === 'ike-sa-down')).toHaveLength(1);
    });
  }
});

describe('shutdown', () => {
  it('terminateAll deletes every IKE SA at its peer, then stop() leaves nothing', async () => {
    const { a, b } = connectionPair();
    // Without INITIAL_CONTACT, so the responder keeps both IKE SAs of the connection.
    const lab = new Lab({ connections: { a: [{ ...a, initialContact: false }], b: [b] } });
    lab.a.engine.initiate('lab');
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => established(lab.a).length === 2 && established(lab.b).length === 2)).toBe(true);
    lab.a.engine.terminateAll('SIGTERM');
    expect(await lab.runUntil(() => lab.a.engine.size() === 0, 30_000)).toBe(true);
    lab.a.engine.stop();
    await lab.run(90_000);
    expect(lab.b.engine.size()).toBe(0);
    expect(lab.a.kernel.sas()).toHaveLength(0);
    expect(lab.b.kernel.sas()).toHaveLength(0);
  });
});

describe('dead-peer detection (2.4)', () => {
  it('liveness checks after each quiet interval keep a healthy SA', async () => {
    const lab = new Lab({ pair: { dpd: { intervalSeconds: 30, timeoutSeconds: 150 } } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    lab.network.traceEnabled = true;
    await lab.run(10 * 60_000);
    const informational = lab.network.trace.filter((d) => {
      const m = decodeMessage(d.bytes);
      return m.ok && m.value.header.exchangeType === ExchangeType.INFORMATIONAL && !m.value.header.flags.response;
    });
    // Both sides check every 30 s of silence; each check answered counts as traffic for the other.
    expect(informational.length).toBeGreaterThanOrEqual(10);
    expect(informational.length).toBeLessThanOrEqual(40);
    expect(established(lab.a)).toHaveLength(1);
    expect(established(lab.b)).toHaveLength(1);
  });

  it('a dead peer: the IKE SA and its Child SAs are deleted after the DPD timeout', async () => {
    const lab = new Lab({ pair: { dpd: { intervalSeconds: 30, timeoutSeconds: 150 } } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    // B dies: nothing it would send gets out, nothing reaches it.
    const diedAt = lab.scheduler.now();
    lab.network.filter = (d) => d.local.address !== lab.b.address && d.remote.address !== lab.b.address;
    expect(await lab.runUntil(() => lab.a.engine.size() === 0, 600_000)).toBe(true);
    const goneAfter = lab.scheduler.now() - diedAt;
    expect(goneAfter).toBeGreaterThanOrEqual(150_000);
    expect(goneAfter).toBeLessThanOrEqual(30_000 + 150_000 + 1000);
    expect(lab.a.kernel.sas()).toHaveLength(0);
    expect(lab.a.kernel.policies()).toHaveLength(0);
    const down = lab.a.events.find((e) => e.kind === 'ike-sa-down');
    expect(down).toMatchObject({ reason: 'peer not responding (liveness unanswered)' });
  });
});
