/**
 * Message IDs with window size 1 (RFC 7296 2.3) and retransmission (2.1): the initiator of an
 * exchange retransmits on the exponential schedule and gives up; the responder answers a
 * retransmitted request from its cache without processing it again; messages outside the window
 * are dropped and counted; and with 30 % random loss every exchange still completes.
 */
import { describe, expect, it } from 'vitest';
import { ExchangeType, decodeMessage } from '../../src/wire/index.js';
import { Lab, type LabSide } from './lab.js';

const exchangeOf = (bytes: Buffer): number => {
  const m = decodeMessage(bytes);
  return m.ok ? m.value.header.exchangeType : -1;
};

function matchingKernels(lab: Lab): boolean {
  const aOut = lab.a.kernel.sas().filter((s) => s.direction === 'out');
  const bIn = lab.b.kernel.sas().filter((s) => s.direction === 'in');
  return aOut.length > 0 && aOut.every((o) => bIn.some((i) => i.spi === o.spi && i.encryption.key.equals(o.encryption.key)));
}

describe('retransmission (RFC 7296 2.1)', () => {
  it('retransmits at 4, 11.2, 24.16, 47.488, 89.478 s and gives up at 165.06 s: the SA is gone', async () => {
    const lab = new Lab();
    const sentAt: number[] = [];
    lab.network.filter = (d) => {
      if (d.local.address === lab.a.address) sentAt.push(lab.scheduler.now());
      return d.local.address !== lab.b.address; // B is mute
    };
    lab.a.engine.initiate('lab');
    await lab.run(164_000);
    expect(lab.a.engine.size()).toBe(1);
    await lab.run(2_000);
    expect(lab.a.engine.size()).toBe(0);
    expect(sentAt).toEqual([0, 4000, 11200, 24160, 47488, 89478]);
    expect(lab.a.events.find((e) => e.kind === 'ike-sa-failed')?.kind).toBe('ike-sa-failed');
  });

  it('a lost response: the responder answers the retransmission from its cache, not processing it again', async () => {
    const lab = new Lab();
    let dropped = 0;
    lab.network.filter = (d) => {
      if (dropped === 0 && d.local.address === lab.b.address && exchangeOf(d.bytes) === ExchangeType.IKE_AUTH) {
        dropped++;
        return false;
      }
      return true;
    };
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    const b = lab.b.engine.status()[0]!;
    expect(b.counters.answeredFromCache).toBe(1);
    expect(b.children).toHaveLength(1);
    expect(lab.b.kernel.sas()).toHaveLength(2);
    expect(lab.a.engine.status()[0]!.counters.retransmissions).toBe(1);
    expect(matchingKernels(lab)).toBe(true);
  });

  it('duplicated datagrams: requests are answered from the cache, responses outside the window dropped and counted', async () => {
    const lab = new Lab({ impairment: { duplication: 1 } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    await lab.run(1000);
    const [a] = lab.a.engine.status();
    const [b] = lab.b.engine.status();
    expect(b!.counters.answeredFromCache).toBeGreaterThanOrEqual(1);
    expect(a!.counters.outOfWindow).toBeGreaterThanOrEqual(1);
    expect(b!.children).toHaveLength(1);
    expect(lab.b.kernel.sas()).toHaveLength(2);
  });
});

describe('30 % random loss', () => {
  for (const seed of [30, 31, 32]) {
    it(`every exchange completes by retransmission over three hours of rekeys (seed ${seed})`, async () => {
      const lab = new Lab({
        seed,
        impairment: { loss: 0.3 },
        // With 30 % loss an attempt of an exchange gets through with p = 0.7² = 0.49: the default
        // 6 attempts leave 1.8 % of exchanges unanswered (and the IKE SA declared dead). Here 21
        // attempts, each wait capped at 30 s (strongSwan's retransmit_limit), leave 1e-6.
        pair: {
          retransmit: { initialMs: 4000, factor: 1.8, tries: 20, limitMs: 30_000 },
          ikeLifetime: { rekeySeconds: 1200, lifetimeSeconds: 2400, jitterSeconds: 120 },
          childLifetime: { rekeySeconds: 360, lifetimeSeconds: 900, jitterSeconds: 36 },
        },
        settings: { halfOpenTimeoutSeconds: 900 },
      });
      lab.a.engine.initiate('lab');
      expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 900_000)).toBe(true);
      await lab.run(3 * 3600_000);
      // Stop at a moment when no exchange is in flight.
      expect(await lab.runUntil(() => quiet(lab.a) && quiet(lab.b), 1200_000)).toBe(true);
      for (const side of [lab.a, lab.b]) {
        expect(side.events.filter((e) => e.kind === 'ike-sa-failed' || e.kind === 'child-sa-failed')).toEqual([]);
        expect(side.kernel.sas()).toHaveLength(2);
        expect(side.engine.childSpisInUse()).toBe(1);
      }
      expect(matchingKernels(lab)).toBe(true);
      const count = (side: LabSide, kind: string) => side.events.filter((e) => e.kind === kind).length;
      // Every IKE SA rekey (about 9 in three hours) and Child SA rekey (about 30) completed.
      expect(count(lab.a, 'ike-sa-rekeyed')).toBe(count(lab.b, 'ike-sa-rekeyed'));
      expect(count(lab.a, 'ike-sa-rekeyed')).toBeGreaterThanOrEqual(8);
      expect(count(lab.a, 'child-sa-up')).toBeGreaterThanOrEqual(30);
      expect(lab.network.stats.lost / lab.network.stats.sent).toBeGreaterThan(0.2);
    });
  }
});

function quiet(side: LabSide): boolean {
  const sas = side.engine.status();
  return sas.length === 1 && sas[0]!.state === 'established' && sas[0]!.children.length === 1 && sas[0]!.children[0]!.state === 'installed';
}
