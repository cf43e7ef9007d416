/**
 * A rekey storm: many Child SAs set up within the same second with equal lifetimes. Their rekeys
 * must not all come due together: each side draws its rekey deadline as strongSwan does
 * (rekey_time minus a random jitter up to rand_time, src/timers/lifetime.ts), so the first rekeys
 * spread over the jitter window, each one within it; none is lost, none happens twice, and the
 * busiest second of datagrams is a fraction of the storm.
 */
import { describe, expect, it } from 'vitest';
import { lifetimeFromRekeySeconds } from '../../src/config/model.js';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { MessageRate, SaEventTally, census, establish, kernelsPair, runUntilQuiet, scaleLab } from './scale-lab.js';

type ChildUp = Extract<SaEvent, { kind: 'child-sa-up' }>;

const COUNT = 500;
const REKEY_S = 600;
/** rekey 600 s, hard lifetime 660 s, jitter up to 60 s (strongSwan's proportions). */
const LIFETIME = lifetimeFromRekeySeconds(REKEY_S);

describe('rekey storm', () => {
  it(`${COUNT} Child SAs set up in one second with equal lifetimes rekey spread over the jitter window, none lost or repeated`, async () => {
    const tally = new SaEventTally({ keepRekeys: true });
    const ups = { a: new Map<string, ChildUp>(), b: new Map<string, ChildUp>() };
    const lab = scaleLab({
      childLifetime: LIFETIME,
      onEvent: (side, event) => {
        tally.onEvent(side, event);
        if (event.kind === 'child-sa-up') ups[side].set(event.inboundSpi, event);
      },
    });
    expect(await establish(lab, COUNT, tally.childUps, { batch: COUNT / 20, spacingMs: 50 })).toBe(true);
    const firsts = [...ups.a.values()];
    expect(Math.max(...firsts.map((u) => u.atMs))).toBeLessThan(1_100); // all up within the second (and an exchange)
    await runUntilQuiet(lab);
    const rate = new MessageRate(lab);

    await lab.run(LIFETIME.lifetimeSeconds * 1000);
    expect(await runUntilQuiet(lab)).toBe(true);

    // Each first Child SA's rekey deadline lies in [up + rekey − jitter, up + rekey], on both sides.
    for (const side of ['a', 'b'] as const) {
      for (const up of ups[side].values()) {
        if (up.rekeyOf !== undefined) continue;
        expect(up.rekeyAtMs).toBeGreaterThanOrEqual(up.atMs + (REKEY_S - LIFETIME.jitterSeconds) * 1000);
        expect(up.rekeyAtMs).toBeLessThanOrEqual(up.atMs + REKEY_S * 1000);
      }
    }
    // Every Child SA rekeyed once, by whichever side's deadline came first, an exchange later.
    expect(tally.childRekeys).toEqual({ a: COUNT, b: COUNT });
    expect(tally.duplicateRekeys).toBe(0);
    expect(tally.failures).toEqual([]);
    const rekeys = [...ups.a.values()].filter((u) => u.rekeyOf !== undefined);
    expect(rekeys).toHaveLength(COUNT);
    for (const rekey of rekeys) {
      const old = ups.a.get(rekey.rekeyOf!)!;
      const peersOld = ups.b.get(old.outboundSpi)!;
      const due = Math.min(old.rekeyAtMs, peersOld.rekeyAtMs);
      expect(rekey.atMs).toBeGreaterThanOrEqual(due);
      expect(rekey.atMs).toBeLessThan(due + 1_000);
    }

    // Spread: over most of the 60 s window, never more than a few in one second.
    const times = rekeys.map((r) => r.atMs);
    const spreadMs = Math.max(...times) - Math.min(...times);
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor(t / 1000), (perSecond.get(Math.floor(t / 1000)) ?? 0) + 1);
    const peakRekeys = Math.max(...perSecond.values());
    expect(spreadMs).toBeGreaterThan((LIFETIME.jitterSeconds * 1000) / 2);
    expect(spreadMs).toBeLessThanOrEqual(LIFETIME.jitterSeconds * 1000 + 1_000);
    expect(peakRekeys).toBeLessThan(COUNT / 10);
    // A rekey is four datagrams (CREATE_CHILD_SA and the Delete, each answered).
    expect(rate.total).toBeGreaterThanOrEqual(4 * COUNT);
    expect(rate.peakPerSecond).toBeGreaterThan(0);
    expect(rate.peakPerSecond).toBeLessThan((4 * COUNT) / 10);
    console.log(
      `rekey storm: ${COUNT} Child SAs up within ${Math.max(...firsts.map((u) => u.atMs))} ms; first rekeys spread over ${(spreadMs / 1000).toFixed(1)} s ` +
        `(jitter up to ${LIFETIME.jitterSeconds} s) in ${perSecond.size} distinct seconds, at most ${peakRekeys} a second; ` +
        `${rate.total} datagrams, peak ${rate.peakPerSecond}/s at ${rate.peakAtSecond} s`,
    );

    // None lost, none doubled: one installed Child SA per IKE SA, two ESP SAs each, paired.
    for (const side of [lab.a, lab.b]) {
      const c = census(side);
      expect(c.establishedIkeSas).toBe(COUNT);
      expect(c.childrenPerIkeSa).toEqual({ 1: COUNT });
      expect(c.childSas).toEqual({ installed: COUNT });
      expect(c.kernelSas).toBe(2 * COUNT);
      expect(c.childSpisInUse).toBe(COUNT);
    }
    expect(kernelsPair(lab)).toBe(true);
  }, 60_000);
});
