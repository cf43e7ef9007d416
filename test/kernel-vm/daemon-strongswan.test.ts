/**
 * `ikekm daemon` on the XFRM backend as a VPN gateway, against strongSwan's charon with
 * kernel-netlink, both in the kernel VM (the host kernel has no ESP): one boot, in which
 * daemon-strongswan.guest.ts brings the tunnel up from each side, pings through it, rekeys it under
 * a continuous ping, lets a byte lifetime run out, forces ESP-in-UDP, starts it on demand, and
 * stops the daemon with `down`, SIGTERM and SIGKILL.
 *
 * The checks hold both kernels against each other and against ikekm's key log: the same SPIs and
 * keys in `ip xfrm state` on both sides means the two daemons agreed and installed what they
 * agreed; replies to pings mean the kernels carried the traffic with those SAs (the inbound
 * policies drop anything unprotected).
 */
import { describe, expect, it } from 'vitest';
import { IKEKM_REQIDS } from '../../src/kernel/kernel-port.js';
import { parseEspSaLine } from '../interop/harness/ikekm.js';
import { LAB_ADDRESSES } from '../interop/harness/netns.js';
import type { ByteLifetimeReport, DownReport, OnDemandReport, RekeysReport, SigkillReport, SigtermReport, TunnelReport } from './daemon-strongswan.guest.js';
import { KILOBYTES } from './daemon-lab-config.js';
import { describeKernelVm, kernelVmReady } from './gate.js';
import { useGuestScript } from './guest-script.js';
import type { KernelView } from './guest-lab.js';
import { espStates, expectAllAnswered, expectNoPingLost, saIdentity } from './gateway-assertions.js';
import { parseXfrmPolicies } from './xfrm-text.js';

const vm = await kernelVmReady();
const A = LAB_ADDRESSES.a;
const B = LAB_ADDRESSES.b;

/** The tunnel's three policies (out, in, fwd) between the protected hosts, with ikekm's reqid. */
function expectTunnelPolicies(view: KernelView): number {
  const { policies } = parseXfrmPolicies(view.policies);
  const reqid = policies[0]?.reqid ?? 0;
  expect(reqid).toBeGreaterThanOrEqual(IKEKM_REQIDS.first);
  expect(reqid).toBeLessThanOrEqual(IKEKM_REQIDS.last);
  expect(policies).toEqual([
    { dir: 'fwd', selector: `${B.inner4}/32 > ${A.inner4}/32`, reqid },
    { dir: 'in', selector: `${B.inner4}/32 > ${A.inner4}/32`, reqid },
    { dir: 'out', selector: `${A.inner4}/32 > ${B.inner4}/32`, reqid },
  ]);
  return reqid;
}

/** Nothing of a tunnel in the kernel: no SA, no policy (a running daemon's socket policies aside). */
function expectNoTunnel(view: KernelView): void {
  expect(espStates(view), view.states).toEqual([]);
  expect(parseXfrmPolicies(view.policies).policies, view.policies).toEqual([]);
}

/** The checks every tunnel gets, with `role` ikekm's and `encap` whether ESP rides in UDP. */
function checkTunnel(report: () => TunnelReport, role: 'initiator' | 'responder', encap: boolean): void {
  it(`ikekm is the ${role}: one IKE SA, one installed Child SA, charon agrees on its SPIs`, () => {
    const r = report();
    expect(r.status.ikeSas).toHaveLength(1);
    const sa = r.status.ikeSas[0]!;
    expect(sa).toMatchObject({ state: 'ESTABLISHED', role, connection: 'lab' });
    expect(sa.childSas).toHaveLength(1);
    const child = sa.childSas[0]!;
    expect(child).toMatchObject({ state: 'INSTALLED', mode: 'tunnel', localTs: [`${A.inner4}/32`], remoteTs: [`${B.inner4}/32`] });
    const charonChildren = r.charon.flatMap((ike) => ike.childSas).filter((c) => c.state === 'INSTALLED');
    expect(charonChildren).toHaveLength(1);
    expect(charonChildren[0]).toMatchObject({ spiIn: child.spiOut, spiOut: child.spiIn, encap });
  });

  it('both kernels hold the same two ESP SAs (SPI, AES-GCM-16 key with salt), the ones ikekm negotiated and wrote to its key log', () => {
    const r = report();
    const a = espStates(r.a);
    const b = espStates(r.b);
    expect(a).toHaveLength(2);
    expect(a.map(saIdentity).sort()).toEqual(b.map(saIdentity).sort());
    const child = r.status.ikeSas[0]!.childSas[0]!;
    const inbound = a.find((s) => s.spi === child.spiIn);
    const outbound = a.find((s) => s.spi === child.spiOut);
    expect(inbound).toMatchObject({ src: B.outer4, dst: A.outer4, mode: 'tunnel', algorithm: 'rfc4106(gcm(aes))', encap });
    expect(outbound).toMatchObject({ src: A.outer4, dst: B.outer4, mode: 'tunnel', algorithm: 'rfc4106(gcm(aes))', encap });
    // AES-128 key and the 4-octet salt (RFC 4106 8.1)
    expect(inbound?.key).toMatch(/^[0-9a-f]{40}$/);
    expect(inbound?.key).not.toBe(outbound?.key);
    const logged = r.espSa.map(parseEspSaLine);
    for (const s of [inbound!, outbound!]) {
      expect(logged.filter((l) => l.spi === s.spi)).toEqual([expect.objectContaining({ src: s.src, dst: s.dst, encryptionKey: s.key })]);
    }
  });

  it("ikekm's kernel steers the protected hosts' traffic into the tunnel: out, in and fwd policies with its reqid, on both SAs", () => {
    const r = report();
    const reqid = expectTunnelPolicies(r.a);
    expect(espStates(r.a).map((s) => s.reqid)).toEqual([reqid, reqid]);
    // and ikekm's own IKE sockets bypass IPsec: a per-socket policy each way for each socket
    expect(parseXfrmPolicies(r.a.policies).socketPolicies).toBeGreaterThanOrEqual(4);
  });

  it(`pings cross the tunnel both ways${encap ? ', as ESP in UDP on port 4500' : ''}; status counts them and says when the policies were last used`, () => {
    const r = report();
    expectAllAnswered(r.pingAToB, 'a → b');
    expectAllAnswered(r.pingBToA, 'b → a');
    // status was read after the pings: ten echo requests and ten replies of 84 octets each way
    const child = r.status.ikeSas[0]!.childSas[0]!;
    expect(child.bytesIn).toBeGreaterThanOrEqual(10 * 84);
    expect(child.bytesOut).toBeGreaterThanOrEqual(10 * 84);
    expect(child.lastInSeconds).toBeGreaterThanOrEqual(0);
    expect(child.lastInSeconds).toBeLessThan(30);
    expect(child.lastOutSeconds).toBeGreaterThanOrEqual(0);
    expect(child.lastOutSeconds).toBeLessThan(30);
    for (const s of espStates(r.a)) {
      expect(s.encap).toBe(encap);
      if (encap) expect(r.a.states).toContain('encap type espinudp sport 4500 dport 4500');
    }
  });
}

describeKernelVm('ikekm daemon on XFRM with strongSwan on kernel-netlink (kernel VM)', vm, () => {
  const guest = useGuestScript(new URL('./daemon-strongswan.guest.ts', import.meta.url), [], { timeoutMs: 1_200_000 });

  it('runs every step to the end', () => {
    expect(guest.run.report?.steps.map((s) => `${s.name}: ${s.outcome}`)).toEqual(
      ['setup', 'initiator', 'down', 'responder', 'rekeys', 'byte-lifetime', 'encap', 'on-demand', 'sigterm', 'sigkill-restart'].map((name) => `${name}: passed`),
    );
    expect(guest.run.report?.complete).toBe(true);
    expect(guest.run.status).toBe(0);
  });

  it('the daemon opened the kernel at start', () => {
    expect(guest.value<{ kernelOpened: number }>('setup').kernelOpened).toBe(1);
  });

  describe('ikekm initiates', () => checkTunnel(() => guest.value<TunnelReport>('initiator'), 'initiator', false));

  it('`ikekm down` deletes the SA at charon and leaves nothing of the tunnel in the kernel', () => {
    const r = guest.value<DownReport>('down');
    expect(espStates(r.before)).toHaveLength(2);
    expectNoTunnel(r.after);
    expect(r.charonAfter).toEqual([]);
  });

  describe('charon initiates', () => checkTunnel(() => guest.value<TunnelReport>('responder'), 'responder', false));

  describe('rekeys under a 50 ms ping each way for 60 s', () => {
    const report = (): RekeysReport => guest.value<RekeysReport>('rekeys');

    it('three Child SA rekeys and one IKE SA rekey from each side happened during the pings', () => {
      const r = report();
      expect(r.actions.map((a) => a.action)).toHaveLength(8);
      expect(r.actions.at(-1)!.atSeconds).toBeLessThan(60);
      expect(r.childRekeys).toBe(6);
      expect(r.ikeRekeys).toBe(2);
      expect(r.spisAfter).toHaveLength(1);
      expect(r.spisAfter).not.toEqual(r.spisBefore);
    });

    it('not one packet lost either way', () => expectNoPingLost(report()));

    it('the replaced SAs are gone from the kernel: two ESP SAs, three policies', () => {
      const r = report();
      expect(espStates(r.after)).toHaveLength(2);
      expectTunnelPolicies(r.after);
    });
  });

  describe(`a data policy of ${KILOBYTES} KB`, () => {
    const report = (): ByteLifetimeReport => guest.value<ByteLifetimeReport>('byte-lifetime');
    const soft = KILOBYTES * 1024;
    const hard = Math.round(soft * 1.1);

    it('the kernel holds the byte limits on both SAs: soft at the lifetime, hard 10 % above', () => {
      const first = report().samples[0]!;
      const limits = first.states.match(/limit: soft (\d+)\(bytes\), hard (\d+)\(bytes\)/g) ?? [];
      expect(limits).toEqual([`limit: soft ${soft}(bytes), hard ${hard}(bytes)`, `limit: soft ${soft}(bytes), hard ${hard}(bytes)`]);
    });

    it("traffic makes the kernel's soft expire start one rekey; the hard limit is never reached; no packet lost", () => {
      const r = report();
      expectAllAnswered(r.ping, 'a → b');
      expect(r.softExpireLogs).toBeGreaterThanOrEqual(1);
      expect(r.childRekeys).toBe(1);
      expect(r.hardLimitDeletes).toBe(0);
      const counted = r.samples.flatMap((view) => espStates(view)).filter((s) => s.spi === r.firstSpis.out || s.spi === r.firstSpis.in);
      expect(Math.max(...counted.map((s) => s.bytes ?? 0))).toBeLessThan(hard);
      // The traffic went on over the new SAs: 300 pings of 1028 octets are 308 400 octets each way.
      const now = espStates(r.after);
      expect(now.map((s) => s.spi)).not.toContain(r.firstSpis.in);
      expect(now.map((s) => s.spi)).not.toContain(r.firstSpis.out);
      expect(Math.min(...now.map((s) => s.bytes ?? 0))).toBeGreaterThan(0);
    });
  });

  describe('charon forces UDP encapsulation', () => checkTunnel(() => guest.value<TunnelReport>('encap'), 'responder', true));

  it('on demand: the trap is an outbound policy without SA; the first ping brings the tunnel up through the acquire', () => {
    const r = guest.value<OnDemandReport>('on-demand');
    expect(espStates(r.trapPolicies)).toEqual([]);
    const trap = parseXfrmPolicies(r.trapPolicies.policies).policies;
    expect(trap).toEqual([{ dir: 'out', selector: `${A.inner4}/32 > ${B.inner4}/32`, reqid: expect.any(Number) }]);
    expect(r.acquireLogs).toBeGreaterThanOrEqual(1);
    expect(r.status.traps).toMatchObject([{ connection: 'lab', pending: false }]);
    expect(r.status.traps[0]!.acquires).toBeGreaterThanOrEqual(1);
    expect(r.status.ikeSas).toMatchObject([{ role: 'initiator', state: 'ESTABLISHED' }]);
    // the first packets wait for the SA (the kernel drops them meanwhile), the rest cross
    expect(r.ping.received).toBeGreaterThan(r.ping.transmitted / 2);
    expect(espStates(r.after)).toHaveLength(2);
    expectTunnelPolicies(r.after);
  });

  it('SIGTERM: the daemon deletes the SA at charon, removes all it installed and exits 0', () => {
    const r = guest.value<SigtermReport>('sigterm');
    expect(espStates(r.before)).toHaveLength(2);
    expect(r.exit).toEqual({ code: 0, signal: null });
    expect(r.after).toEqual({ states: '', policies: '' });
    expect(r.charonAfter).toEqual([]);
  });

  describe('SIGKILL, then a new daemon', () => {
    const report = (): SigkillReport => guest.value<SigkillReport>('sigkill-restart');

    it("the killed daemon's SAs and policies stay in the kernel", () => {
      const r = report();
      expect(espStates(r.afterKill).map(saIdentity).sort()).toEqual(espStates(r.before).map(saIdentity).sort());
      expect(espStates(r.afterKill)).toHaveLength(2);
      expectTunnelPolicies(r.afterKill);
    });

    it('the new daemon removes them and brings the on-load tunnel back by itself', () => {
      const r = report();
      expect(r.leftoversRemovedLog).toBe(true);
      const now = espStates(r.afterRestart);
      expect(now).toHaveLength(2);
      for (const s of now) expect(espStates(r.afterKill).map((old) => old.spi)).not.toContain(s.spi);
      expectTunnelPolicies(r.afterRestart);
      expect(r.status.ikeSas).toMatchObject([{ state: 'ESTABLISHED', role: 'initiator' }]);
      expectAllAnswered(r.pingAToB, 'a → b');
      expectAllAnswered(r.pingBToA, 'b → a');
    });

    it('and leaves nothing when stopped', () => {
      const r = report();
      expect(r.finalExit).toEqual({ code: 0, signal: null });
      expect(r.afterStop).toEqual({ states: '', policies: '' });
    });
  });
});
