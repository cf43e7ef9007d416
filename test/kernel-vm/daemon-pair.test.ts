/**
 * Two `ikekm daemon`s on the XFRM backend, one per namespace of the kernel VM: one boot, in which
 * daemon-pair.guest.ts brings the tunnel up, pings through it, rekeys it from both sides under a
 * continuous ping, lets both kernels' byte limits run out at once, starts it on demand, and stops
 * the daemons with `down`, SIGTERM and SIGKILL. Both kernels must hold the same SAs, equal to both
 * key logs; neither may keep anything of a tunnel that is gone.
 */
import { describe, expect, it } from 'vitest';
import { IKEKM_REQIDS } from '../../src/kernel/kernel-port.js';
import { parseEspSaLine } from '../interop/harness/ikekm.js';
import { LAB_ADDRESSES } from '../interop/harness/netns.js';
import type { PairByteLifetimeReport, PairOnDemandReport, PairRekeysReport, PairSigkillReport, PairStopReport, PairTunnelReport, Side } from './daemon-pair.guest.js';
import { describeKernelVm, kernelVmReady } from './gate.js';
import { useGuestScript } from './guest-script.js';
import type { KernelView } from './guest-lab.js';
import { espStates, expectAllAnswered, expectNoPingLost, saIdentity } from './gateway-assertions.js';
import { parseXfrmPolicies } from './xfrm-text.js';

const vm = await kernelVmReady();
const A = LAB_ADDRESSES.a;
const B = LAB_ADDRESSES.b;

/** The non-socket policies of `ip xfrm policy`, as "dir src > dst reqid". */
function tunnelPolicies(view: KernelView): string[] {
  return parseXfrmPolicies(view.policies)
    .policies.map((p) => `${p.dir} ${p.selector} ${p.reqid ?? '-'}`)
    .sort();
}

function expectNoTunnel(view: KernelView): void {
  expect(espStates(view), view.states).toEqual([]);
  expect(tunnelPolicies(view), view.policies).toEqual([]);
}

/** One tunnel: both kernels hold the same two SAs, which both key logs name, and each its three policies. */
function expectOneTunnel(a: Side, b: Side): void {
  const sas = espStates(a.kernel);
  expect(sas).toHaveLength(2);
  expect(sas.map(saIdentity).sort()).toEqual(espStates(b.kernel).map(saIdentity).sort());
  const child = a.status.ikeSas[0]!.childSas[0]!;
  expect(b.status.ikeSas[0]!.childSas[0]).toMatchObject({ spiIn: child.spiOut, spiOut: child.spiIn });
  for (const s of sas) {
    for (const side of [a, b]) {
      expect(side.espSa.map(parseEspSaLine).filter((l) => l.spi === s.spi)).toEqual([expect.objectContaining({ src: s.src, dst: s.dst, encryptionKey: s.key })]);
    }
  }
  for (const [side, me, peer] of [
    [a, A, B],
    [b, B, A],
  ] as const) {
    const reqid = espStates(side.kernel)[0]!.reqid!;
    expect(reqid).toBeGreaterThanOrEqual(IKEKM_REQIDS.first);
    expect(reqid).toBeLessThanOrEqual(IKEKM_REQIDS.last);
    expect(tunnelPolicies(side.kernel)).toEqual(
      [`fwd ${peer.inner4}/32 > ${me.inner4}/32 ${reqid}`, `in ${peer.inner4}/32 > ${me.inner4}/32 ${reqid}`, `out ${me.inner4}/32 > ${peer.inner4}/32 ${reqid}`].sort(),
    );
  }
}

describeKernelVm('two ikekm daemons on XFRM (kernel VM)', vm, () => {
  const guest = useGuestScript(new URL('./daemon-pair.guest.ts', import.meta.url), [], { timeoutMs: 1_200_000 });

  it('runs every step to the end', () => {
    expect(guest.run.report?.steps.map((s) => `${s.name}: ${s.outcome}`)).toEqual(
      ['setup', 'tunnel', 'rekeys', 'byte-lifetime', 'down', 'on-demand', 'sigterm', 'sigkill-restart'].map((name) => `${name}: passed`),
    );
    expect(guest.run.report?.complete).toBe(true);
    expect(guest.run.status).toBe(0);
  });

  it('a initiates: both kernels hold the same SAs, named in both key logs; pings cross both ways', () => {
    const r = guest.value<PairTunnelReport>('tunnel');
    expect(r.a.status.ikeSas).toMatchObject([{ role: 'initiator', state: 'ESTABLISHED' }]);
    expect(r.b.status.ikeSas).toMatchObject([{ role: 'responder', state: 'ESTABLISHED' }]);
    expectOneTunnel(r.a, r.b);
    expectAllAnswered(r.pingAToB, 'a → b');
    expectAllAnswered(r.pingBToA, 'b → a');
  });

  describe('rekeys from each side under a 50 ms ping each way for 60 s', () => {
    const report = (): PairRekeysReport => guest.value<PairRekeysReport>('rekeys');

    it('three Child SA rekeys and one IKE SA rekey from each side, each seen by both daemons', () => {
      const r = report();
      expect(r.actions.filter((a) => a.error !== undefined)).toEqual([]);
      expect(r.childRekeys).toEqual({ a: 6, b: 6 });
      expect(r.ikeRekeys).toEqual({ a: 2, b: 2 });
    });

    it('not one packet lost either way', () => expectNoPingLost(report()));

    it('afterwards one tunnel, the replaced SAs gone from both kernels', () => {
      const r = report();
      expectOneTunnel(r.after.a, r.after.b);
    });
  });

  it('byte limits reached on both sides at once: the simultaneous rekeys leave one tunnel; no hard limit, no packet lost', () => {
    const r = guest.value<PairByteLifetimeReport>('byte-lifetime');
    expectAllAnswered(r.ping, 'a → b');
    expect(r.softExpireLogs.a + r.softExpireLogs.b).toBeGreaterThanOrEqual(1);
    expect(r.hardLimitDeletes).toEqual({ a: 0, b: 0 });
    expectOneTunnel(r.after.a, r.after.b);
    for (const s of espStates(r.after.a.kernel)) expect(r.firstSpis).not.toContain(s.spi);
  });

  it('`ikekm down` on a: nothing of the tunnel in either kernel, no SA at b', () => {
    const r = guest.value<PairStopReport>('down');
    expect(espStates(r.before.a)).toHaveLength(2);
    expect(espStates(r.before.b)).toHaveLength(2);
    expectNoTunnel(r.after.a);
    expectNoTunnel(r.after.b);
    expect(r.bStatus.ikeSas).toEqual([]);
  });

  it("on demand: a's trap is an outbound policy; the first ping brings the tunnel up", () => {
    const r = guest.value<PairOnDemandReport>('on-demand');
    expect(espStates(r.trap)).toEqual([]);
    expect(tunnelPolicies(r.trap)).toEqual([expect.stringMatching(new RegExp(`^out ${A.inner4}/32 > ${B.inner4}/32 \\d+$`))]);
    expect(r.ping.received).toBeGreaterThan(r.ping.transmitted / 2);
    expect(r.after.a.status.ikeSas).toMatchObject([{ role: 'initiator', state: 'ESTABLISHED' }]);
    expect(r.after.a.status.traps[0]?.acquires).toBeGreaterThanOrEqual(1);
    expectOneTunnel(r.after.a, r.after.b);
  });

  it('SIGTERM to a: it exits 0 leaving nothing; b heard the Delete and removed its side', () => {
    const r = guest.value<PairStopReport>('sigterm');
    expect(espStates(r.before.a)).toHaveLength(2);
    expect(r.exit).toEqual({ code: 0, signal: null });
    expect(r.after.a).toEqual({ states: '', policies: '' });
    expectNoTunnel(r.after.b);
    expect(r.bStatus.ikeSas).toEqual([]);
  });

  describe('SIGKILL to a, then a new daemon', () => {
    const report = (): PairSigkillReport => guest.value<PairSigkillReport>('sigkill-restart');

    it("the killed daemon's SAs stay in the kernel until the new one removes them and brings the tunnel back", () => {
      const r = report();
      expect(espStates(r.afterKill).map(saIdentity).sort()).toEqual(espStates(r.before).map(saIdentity).sort());
      expect(espStates(r.afterKill)).toHaveLength(2);
      expect(r.leftoversRemovedLog).toBe(true);
      for (const s of espStates(r.after.a.kernel)) expect(espStates(r.afterKill).map((old) => old.spi)).not.toContain(s.spi);
      expectOneTunnel(r.after.a, r.after.b);
      expectAllAnswered(r.pingAToB, 'a → b');
      expectAllAnswered(r.pingBToA, 'b → a');
    });

    it('both stop cleanly, leaving nothing in either kernel', () => {
      const r = report();
      expect(r.exits).toEqual({ a: { code: 0, signal: null }, b: { code: 0, signal: null } });
      expect(r.afterStop).toEqual({ a: { states: '', policies: '' }, b: { states: '', policies: '' } });
    });
  });
});
