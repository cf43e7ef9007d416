/**
 * A day of rekeys in virtual time for a few hundred SAs (bench/scale.bench.ts runs 100 000):
 * every Child SA rekeyed every few hours and every IKE SA twice or three times (its Child SAs
 * moving over, RFC 7296 2.18), and at the end of the day the same SAs as at the start: each IKE
 * SA with exactly one Child SA, two ESP SAs per Child SA in each memory kernel, pairing up, no SA
 * lost or left twice, and nothing piling up (table, SPIs, timers, kernel policies).
 */
import { describe, expect, it } from 'vitest';
import { lifetimeFromRekeySeconds } from '../../src/config/model.js';
import { SaEventTally, census, establish, kernelsPair, runUntilQuiet, scaleLab } from './scale-lab.js';

const COUNT = 200;
const HOUR_MS = 3_600_000;
const CHILD_REKEY_S = 4 * 3600;
const IKE_REKEY_S = 8 * 3600;

describe('a day of rekeys', () => {
  it(`${COUNT} IKE SAs with a Child SA each: a day of rekeys loses none and doubles none`, async () => {
    const tally = new SaEventTally({ keepRekeys: true });
    const lab = scaleLab({ ikeLifetime: lifetimeFromRekeySeconds(IKE_REKEY_S), childLifetime: lifetimeFromRekeySeconds(CHILD_REKEY_S), onEvent: tally.onEvent });
    expect(await establish(lab, COUNT, tally.childUps)).toBe(true);
    expect(await runUntilQuiet(lab)).toBe(true);
    const start = { a: census(lab.a), b: census(lab.b) };
    for (const c of [start.a, start.b]) {
      expect(c.establishedIkeSas).toBe(COUNT);
      expect(c.childrenPerIkeSa).toEqual({ 1: COUNT });
      expect(c.kernelSas).toBe(2 * COUNT);
    }

    await lab.run(24 * HOUR_MS);
    expect(await runUntilQuiet(lab)).toBe(true);

    // Rekey deadlines fall 90–100 % into a lifetime (the jitter): in 24 h a Child SA rekeys 6 or
    // 7 times, an IKE SA 3 times. Both sides see each rekey.
    for (const side of ['a', 'b'] as const) {
      expect(tally.childRekeys[side]).toBeGreaterThanOrEqual(6 * COUNT);
      expect(tally.childRekeys[side]).toBeLessThanOrEqual(7 * COUNT);
      expect(tally.ikeRekeys[side]).toBe(3 * COUNT);
    }
    expect(tally.duplicateRekeys).toBe(0);
    expect(tally.failures).toEqual([]);
    // Every SA that went was one a rekey replaced: one old Child SA per Child SA rekey, one old IKE SA per IKE SA rekey.
    const downs = Object.fromEntries(tally.downs);
    expect(downs['ike-sa-down: rekeyed']).toBe(tally.ikeRekeys.a + tally.ikeRekeys.b);
    const childDowns = [...tally.downs].filter(([k]) => k.startsWith('child-sa-down')).reduce((n, [, v]) => n + v, 0);
    expect(childDowns).toBe(tally.childRekeys.a + tally.childRekeys.b);
    expect(Object.keys(downs).every((k) => k === 'ike-sa-down: rekeyed' || k === 'child-sa-down: rekeyed' || k === 'child-sa-down: deleted by the peer')).toBe(true);

    // The same SAs as in the morning, and nothing left over.
    for (const side of ['a', 'b'] as const) {
      const end = census(lab[side]);
      expect(end.establishedIkeSas).toBe(COUNT);
      expect(end.ikeSas).toBe(COUNT);
      expect(end.childrenPerIkeSa).toEqual({ 1: COUNT });
      expect(end.childSas).toEqual({ installed: COUNT });
      expect(end.kernelSas).toBe(2 * COUNT);
      expect(end.kernelPolicies).toBe(start[side].kernelPolicies);
      expect(end.childSpisInUse).toBe(COUNT);
      expect(end.timersPending).toBeLessThanOrEqual(start[side].timersPending);
    }
    expect(kernelsPair(lab)).toBe(true);
  }, 60_000);
});
