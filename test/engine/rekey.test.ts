/**
 * CREATE_CHILD_SA (RFC 7296 1.3): new Child SAs, Child SA rekey make-before-break (2.8), IKE SA
 * rekey with the Child SAs moving (2.18), PFS, byte lifetimes, and a simulated week of 24 h IKE
 * SA / 60 min Child SA lifetimes in well under a second of wall time, every rekey accounted for.
 */
import { describe, expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../src/config/model.js';
import { connectionPair } from './fixtures.js';
import { Lab, type LabSide } from './lab.js';
import { recordingKernel, type KernelCall } from './recording-kernel.js';

type ChildUp = Extract<SaEvent, { kind: 'child-sa-up' }>;
type IkeUp = Extract<SaEvent, { kind: 'ike-sa-up' }>;

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

function installedChildren(side: LabSide) {
  return side.engine.status().flatMap((s) => (s.state === 'established' ? s.children.filter((c) => c.state === 'installed') : []));
}

function kernelsMatch(lab: Lab): boolean {
  const aOut = lab.a.kernel.sas().filter((s) => s.direction === 'out');
  const bIn = lab.b.kernel.sas().filter((s) => s.direction === 'in');
  const bOut = lab.b.kernel.sas().filter((s) => s.direction === 'out');
  const aIn = lab.a.kernel.sas().filter((s) => s.direction === 'in');
  const pairs = (outs: typeof aOut, ins: typeof aOut) =>
    outs.length === ins.length && outs.every((o) => ins.some((i) => i.spi === o.spi && i.encryption.key.equals(o.encryption.key)));
  return pairs(aOut, bIn) && pairs(bOut, aIn);
}

/** One established IKE SA per side (an old one may still linger to answer retransmissions). */
function established(side: LabSide) {
  return side.engine.status().filter((s) => s.state === 'established');
}

function quiet(lab: Lab, children = 1): boolean {
  return [lab.a, lab.b].every((side) => {
    const sas = established(side);
    return sas.length === 1 && sas[0]!.state === 'established' && sas[0]!.children.length === children && sas[0]!.children.every((c) => c.state === 'installed');
  });
}

describe('CREATE_CHILD_SA', () => {
  it('creates another Child SA on the established IKE SA', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    lab.a.engine.createChildSa(lab.a.engine.status()[0]!.id);
    expect(await lab.runUntil(() => quiet(lab, 2), 60_000)).toBe(true);
    expect(lab.a.kernel.sas()).toHaveLength(4);
    expect(kernelsMatch(lab)).toBe(true);
  });

  it('a refused CREATE_CHILD_SA (TS_UNACCEPTABLE) keeps the IKE SA and its Child SA (2.21.3)', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    // B's policy changes: the traffic A asks for is no longer acceptable.
    const { b } = connectionPair({ trafficB: { local: ['10.1.0.0/16'], remote: ['10.2.0.0/16'] } });
    lab.b.engine.reload({ settings: DEFAULT_ENGINE_SETTINGS, connections: [b] });
    lab.a.engine.createChildSa(established(lab.a)[0]!.id);
    await lab.run(30_000);
    expect(lab.a.events.find((e) => e.kind === 'child-sa-failed')).toMatchObject({ notify: 'TS_UNACCEPTABLE' });
    expect(quiet(lab, 1)).toBe(true);
    expect(kernelsMatch(lab)).toBe(true);
  });

  it('rekeys a Child SA make-before-break: the new SAs are installed before the old ones go, on both sides', async () => {
    const calls = { a: [] as KernelCall[], b: [] as KernelCall[] };
    const lab = new Lab({ kernel: (side, k) => recordingKernel(k, calls[side]) });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const old = installedChildren(lab.a)[0]!;
    lab.a.engine.rekeyChildSa(lab.a.engine.status()[0]!.id);
    expect(await lab.runUntil(() => quiet(lab) && installedChildren(lab.a)[0]!.inboundSpi !== old.inboundSpi, 60_000)).toBe(true);
    for (const side of ['a', 'b'] as const) {
      const c = calls[side];
      const installs = c.flatMap((x, i) => (x.op === 'installSa' ? [i] : []));
      const deletes = c.flatMap((x, i) => (x.op === 'deleteSa' ? [i] : []));
      expect(installs).toHaveLength(4);
      expect(deletes).toHaveLength(2);
      expect(Math.max(...installs)).toBeLessThan(Math.min(...deletes));
      // The rekey shares the policies of the SA it replaces: none deleted, none added twice.
      expect(c.filter((x) => x.op === 'deletePolicy')).toHaveLength(0);
    }
    expect(kernelsMatch(lab)).toBe(true);
    const up = lab.b.events.filter((e): e is ChildUp => e.kind === 'child-sa-up');
    expect(up).toHaveLength(2);
    expect(up[1]?.rekeyOf).toBe(up[0]?.inboundSpi);
  });

  it('PFS: with a DH group in the data policy the rekeyed Child SA used a KE exchange', async () => {
    const lab = new Lab({ pair: { esp: ['aes128gcm16-ecp256'] } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    expect(installedChildren(lab.a)[0]!.transforms.dh).toBeUndefined(); // IKE_AUTH: never a KE (1.2)
    lab.b.engine.rekeyChildSa(lab.b.engine.status()[0]!.id);
    expect(await lab.runUntil(() => quiet(lab) && installedChildren(lab.a)[0]!.transforms.dh === 19, 60_000)).toBe(true);
    expect(installedChildren(lab.b)[0]!.transforms.dh).toBe(19);
    expect(kernelsMatch(lab)).toBe(true);
  });

  it('rekeys the IKE SA: new SPIs and keys, the Child SAs move over untouched in the kernel (2.18)', async () => {
    const lab = new Lab({ pair: { ike: ['aes256gcm16-prfsha384-ecp384'] } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const before = lab.a.engine.status()[0]!;
    const kernelBefore = lab.a.kernel.sas().map((s) => s.spi).sort();
    lab.b.engine.rekeyIkeSa(lab.b.engine.status()[0]!.id);
    expect(await lab.runUntil(() => quiet(lab) && established(lab.a)[0]!.id !== before.id, 60_000)).toBe(true);
    const after = established(lab.a)[0]!;
    const afterB = established(lab.b)[0]!;
    expect([after.spiI, after.spiR]).toEqual([afterB.spiI, afterB.spiR]);
    expect(after.spiI).not.toBe(before.spiI);
    expect(after.role).toBe('responder'); // B initiated the rekey: it is the new original initiator
    expect(lab.a.kernel.sas().map((s) => s.spi).sort()).toEqual(kernelBefore);
    const keysA = lab.a.engine.ikeSaContext(after.id)!.security!.keys;
    const keysB = lab.b.engine.ikeSaContext(afterB.id)!.security!.keys;
    expect(keysA.SK_d.equals(keysB.SK_d)).toBe(true);
    // The key-log port heard of both IKE SAs, the rekeyed one with its new SPIs and keys.
    for (const side of [lab.a, lab.b]) {
      expect(side.keylogs).toHaveLength(2);
      expect(Buffer.from(side.keylogs[1]!.SPIi).toString('hex')).toBe(after.spiI);
      expect(Buffer.from(side.keylogs[1]!.SK_ei).equals(keysA.SK_ei)).toBe(true);
    }
    // The new IKE SA works: a Child SA rekey over it.
    const child = installedChildren(lab.a)[0]!.inboundSpi;
    lab.a.engine.rekeyChildSa(after.id);
    expect(await lab.runUntil(() => quiet(lab) && installedChildren(lab.a)[0]!.inboundSpi !== child, 60_000)).toBe(true);
    expect(kernelsMatch(lab)).toBe(true);
  });

  it('byte lifetimes: traffic past the soft limit rekeys, past the hard limit deletes (2.8)', async () => {
    const lab = new Lab({
      pair: { childLifetime: { rekeySeconds: 3600, lifetimeSeconds: 3960, jitterSeconds: 0, rekeyBytes: 1_000_000, lifetimeBytes: 2_000_000 } },
      settings: { byteLifetimePollSeconds: 10 },
    });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const first = lab.a.kernel.sas().find((s) => s.direction === 'out')!;
    expect(first.softBytes).toBe(1_000_000);
    lab.a.kernel.addTraffic(first.destination, first.spi, 1_200_000);
    expect(await lab.runUntil(() => quiet(lab) && !lab.a.kernel.sas().some((s) => s.spi === first.spi), 60_000)).toBe(true);
    const second = lab.a.kernel.sas().find((s) => s.direction === 'out')!;
    lab.a.kernel.addTraffic(second.destination, second.spi, 2_500_000);
    expect(await lab.runUntil(() => installedChildren(lab.a).length === 0 && installedChildren(lab.b).length === 0, 60_000)).toBe(true);
    expect(lab.a.kernel.sas()).toHaveLength(0);
    expect(lab.b.kernel.sas()).toHaveLength(0);
    expect(lab.a.engine.status()[0]?.state).toBe('established');
  });
});

describe('a simulated week', () => {
  it('24 h IKE SA and 60 min Child SA lifetimes: every rekey happens at its deadline, nothing lost or duplicated', async () => {
    const started = performance.now();
    const lab = new Lab({ seed: 2024 });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const weekMs = 7 * 24 * 3600_000;
    const endMs = lab.scheduler.now() + weekMs;
    // Check hourly that each side always has its Child SA.
    let lost = 0;
    while (lab.scheduler.now() < endMs) {
      await lab.run(Math.min(3600_000, endMs - lab.scheduler.now()));
      if (installedChildren(lab.a).length === 0 || installedChildren(lab.b).length === 0) lost++;
    }
    expect(await lab.runUntil(() => quiet(lab), 60_000)).toBe(true);
    const wallMs = performance.now() - started;
    expect(lost).toBe(0);
    expect(kernelsMatch(lab)).toBe(true);
    // No inbound SPI leaked over 180 rekeys: one allocated per live Child SA.
    expect(lab.a.engine.childSpisInUse()).toBe(1);
    expect(lab.b.engine.childSpisInUse()).toBe(1);

    // Child SAs: one chain per side. Each SA is replaced once, by one successor, at the earlier of
    // the two sides' rekey deadlines of that SA (whichever side's timer fired first rekeyed it).
    const chainOf = (side: LabSide) => side.events.filter((e): e is ChildUp => e.kind === 'child-sa-up');
    const ups = { a: chainOf(lab.a), b: chainOf(lab.b) };
    const peerCopy = (e: ChildUp, other: ChildUp[]) => other.find((o) => o.outboundSpi === e.inboundSpi);
    let expectedChildRekeys = 0;
    let current: ChildUp | undefined = ups.a[0];
    while (current !== undefined) {
      const mine = current;
      const theirs = peerCopy(mine, ups.b);
      expect(theirs).toBeDefined();
      const dueMs = Math.min(mine.rekeyAtMs, theirs!.rekeyAtMs);
      const successors = ups.a.filter((e) => e.rekeyOf === mine.inboundSpi);
      if (dueMs >= endMs) {
        expect(successors).toHaveLength(0);
        break;
      }
      expect(successors).toHaveLength(1);
      expect(successors[0]!.atMs - dueMs).toBeGreaterThanOrEqual(0);
      expect(successors[0]!.atMs - dueMs).toBeLessThan(1000);
      expectedChildRekeys++;
      current = successors[0];
    }
    const childRekeys = ups.a.filter((e) => e.rekeyOf !== undefined).length;
    expect(childRekeys).toBe(expectedChildRekeys);
    expect(ups.b.filter((e) => e.rekeyOf !== undefined).length).toBe(expectedChildRekeys);
    // Roughly 7 × 24 (an hour each, up to 6 min earlier with jitter).
    expect(childRekeys).toBeGreaterThanOrEqual(168);
    expect(childRekeys).toBeLessThanOrEqual(187);

    // IKE SAs: the same accounting with the ike-sa-up events.
    const ikeUps = { a: lab.a.events.filter((e): e is IkeUp => e.kind === 'ike-sa-up'), b: lab.b.events.filter((e): e is IkeUp => e.kind === 'ike-sa-up') };
    let expectedIkeRekeys = 0;
    for (let i = 0; i < ikeUps.a.length; i++) {
      const mine = ikeUps.a[i]!;
      const theirs = ikeUps.b.find((e) => e.spiI === mine.spiI && e.spiR === mine.spiR)!;
      const dueMs = Math.min(mine.rekeyAtMs, theirs.rekeyAtMs);
      const next = ikeUps.a[i + 1];
      if (dueMs >= endMs) {
        expect(next).toBeUndefined();
        break;
      }
      expect(next).toBeDefined();
      expect(next!.atMs - dueMs).toBeLessThan(1000);
      expectedIkeRekeys++;
    }
    const ikeRekeys = lab.a.events.filter((e) => e.kind === 'ike-sa-rekeyed').length;
    expect(ikeRekeys).toBe(expectedIkeRekeys);
    expect(lab.b.events.filter((e) => e.kind === 'ike-sa-rekeyed').length).toBe(expectedIkeRekeys);
    expect(ikeRekeys).toBeGreaterThanOrEqual(7);
    expect(ikeRekeys).toBeLessThanOrEqual(8);
    expect(lab.a.events.filter((e) => e.kind === 'ike-sa-failed' || e.kind === 'child-sa-failed')).toEqual([]);
    console.log(`simulated week: ${childRekeys} Child SA rekeys, ${ikeRekeys} IKE SA rekeys in ${wallMs.toFixed(0)} ms of wall time`);
  });
});
