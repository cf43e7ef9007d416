/**
 * The engine's status of Child SAs: when each came up (the kernel install, RFC 7296 2.8 "make
 * before break" gives a rekey's new SA its own time), its deadlines, and the kernel's byte and
 * packet counters and times of last use per direction (`statusWithUsage()`), so a daemon need not
 * track them itself.
 */
import { describe, expect, it } from 'vitest';
import type { KernelPort } from '../../src/kernel/kernel-port.js';
import type { MemoryKernel } from '../../src/kernel/memory-kernel.js';
import { connectionPair } from './fixtures.js';
import { Lab } from './lab.js';

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

describe('Child SA status', () => {
  it('establishedAtMs, rekeyAtMs and expireAtMs of each Child SA; the existing fields unchanged', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    for (const side of [lab.a, lab.b]) {
      const sa = side.engine.status()[0]!;
      const child = sa.children[0]!;
      const up = side.events.find((e) => e.kind === 'child-sa-up');
      expect(up?.kind).toBe('child-sa-up');
      if (up?.kind !== 'child-sa-up') return;
      expect(child.establishedAtMs).toBe(up.atMs);
      expect(child.rekeyAtMs).toBe(up.rekeyAtMs);
      expect(child.expireAtMs).toBe(up.expireAtMs);
      expect(child.establishedAtMs!).toBeLessThanOrEqual(child.rekeyAtMs!);
      expect(Object.keys(child).sort()).toEqual(
        ['inboundSpi', 'outboundSpi', 'state', 'mode', 'transforms', 'localTs', 'remoteTs', 'rekeyAtMs', 'expireAtMs', 'establishedAtMs'].sort(),
      );
    }
  });

  it('statusOf(id) is that IKE SA as status() lists it; undefined for one that is not there', async () => {
    const lab = new Lab();
    const id = lab.a.engine.initiate('lab');
    expect(lab.a.engine.statusOf(id)).toEqual(lab.a.engine.status().find((s) => s.id === id));
    expect(await lab.runUntil(both(lab))).toBe(true);
    expect(lab.a.engine.statusOf(id)).toEqual(lab.a.engine.status()[0]);
    expect(lab.a.engine.statusOf(id)?.children).toHaveLength(1);
    expect(lab.a.engine.statusOf('ike-0000000000000000')).toBeUndefined();
  });

  it("statusOfConnection(name) lists one connection's IKE SAs as status() does, from the index: initiator and responder", async () => {
    // Two IKE SAs with one peer: without INITIAL_CONTACT (RFC 7296 2.4), which would drop the first.
    const pair = connectionPair();
    const lab = new Lab({ connections: { a: [{ ...pair.a, initialContact: false }], b: [pair.b] } });
    const first = lab.a.engine.initiate('lab');
    // An initiator's connection is known from the start.
    expect(lab.a.engine.statusOfConnection('lab').map((s) => s.id)).toEqual([first]);
    expect(lab.a.engine.ikeSaIds('lab')).toEqual([first]);
    expect(await lab.runUntil(both(lab))).toBe(true);
    const second = lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.a.engine.status().filter((s) => s.state === 'established').length === 2 && lab.b.engine.status().filter((s) => s.state === 'established').length === 2)).toBe(true);
    expect(lab.a.engine.statusOfConnection('lab')).toEqual(lab.a.engine.status());
    expect(lab.a.engine.ikeSaIds('lab')).toEqual([first, second]);
    expect(lab.a.engine.ikeSaIds()).toEqual([first, second]);
    // A responder's, once IKE_AUTH chose it.
    const bName = lab.b.engine.status()[0]!.connection!;
    expect(lab.b.engine.statusOfConnection(bName)).toEqual(lab.b.engine.status());
    expect(lab.a.engine.statusOfConnection('nothing')).toEqual([]);
    expect(lab.a.engine.ikeSaIds('nothing')).toEqual([]);
    // Gone from the table, gone from the index.
    lab.a.engine.terminate({ id: first });
    expect(await lab.runUntil(() => lab.a.engine.size() === 1, 60_000)).toBe(true);
    expect(lab.a.engine.ikeSaIds('lab')).toEqual([second]);
    expect(lab.a.engine.statusOfConnection('lab').map((s) => s.id)).toEqual([second]);
  });

  it('stateOf(id) is the state status() lists; undefined once the SA is gone', async () => {
    const lab = new Lab();
    const id = lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    expect(lab.a.engine.stateOf(id)).toBe('established');
    expect(lab.a.engine.stateOf(id)).toBe(lab.a.engine.statusOf(id)?.state);
    lab.a.engine.terminate({ id });
    expect(lab.a.engine.stateOf(id)).toBe(lab.a.engine.statusOf(id)?.state);
    expect(await lab.runUntil(() => lab.a.engine.size() === 0, 60_000)).toBe(true);
    expect(lab.a.engine.stateOf(id)).toBeUndefined();
    expect(lab.a.engine.stateOf('ike-0000000000000000')).toBeUndefined();
  });

  it('forEachStatusWithUsage visits what statusWithUsage() lists, in its order', async () => {
    const pair = connectionPair();
    const lab = new Lab({ connections: { a: [{ ...pair.a, initialContact: false }], b: [pair.b] } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.a.engine.status().filter((s) => s.state === 'established').length === 2)).toBe(true);
    const child = lab.a.engine.status()[1]!.children[0]!;
    lab.a.kernel.addTraffic(lab.a.address, Number.parseInt(child.inboundSpi, 16), 1500, 3);
    const visited: unknown[] = [];
    await lab.a.engine.forEachStatusWithUsage((sa) => visited.push(sa));
    expect(visited).toEqual(await lab.a.engine.statusWithUsage());
    expect(visited).toHaveLength(2);
  });

  it('a rekeyed Child SA has its own establishedAtMs', async () => {
    const lab = new Lab();
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const first = lab.a.engine.status()[0]!;
    const before = first.children[0]!;
    await lab.run(10_000);
    lab.a.engine.rekeyChildSa(first.id);
    expect(
      await lab.runUntil(() => lab.a.engine.status()[0]?.children.length === 1 && lab.a.engine.status()[0]?.children[0]?.inboundSpi !== before.inboundSpi, 30_000),
    ).toBe(true);
    const after = lab.a.engine.status()[0]!.children[0]!;
    expect(after.establishedAtMs!).toBeGreaterThanOrEqual(before.establishedAtMs! + 10_000);
  });

  // Both ways the engine reads the kernel: all at once (KernelPort.readUsage, the memory kernel's), or SA by SA.
  const kernels = [
    ['in one read', undefined],
    ['SA by SA', (_: 'a' | 'b', k: MemoryKernel) => bound(k)],
  ] as const;

  it.each(kernels)('statusWithUsage(): bytes and packets in and out from the kernel, per Child SA (%s)', async (_, kernel) => {
    const lab = new Lab(kernel === undefined ? {} : { kernel });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const sa = lab.a.engine.status()[0]!;
    const child = sa.children[0]!;
    lab.a.kernel.addTraffic(lab.a.address, Number.parseInt(child.inboundSpi, 16), 1500, 3);
    lab.a.kernel.addTraffic(lab.b.address, Number.parseInt(child.outboundSpi, 16), 700, 2);
    const withUsage = await lab.a.engine.statusWithUsage();
    expect(withUsage).toHaveLength(1);
    const c = withUsage[0]!.children[0]!;
    expect(c.usage).toStrictEqual({ bytesIn: 1500, packetsIn: 3, bytesOut: 700, packetsOut: 2, lastInAtMs: undefined, lastOutAtMs: undefined });
    // Everything else as status() gives it.
    const { usage: _usage, ...rest } = c;
    expect(rest).toEqual(child);
    expect({ ...withUsage[0]!, children: [] }).toEqual({ ...sa, children: [] });
    // Gone from the kernel: no usage.
    lab.a.engine.deleteChildSa(sa.id, child.inboundSpi);
    await lab.run(1);
    await lab.a.kernel.deleteSa(lab.a.address, Number.parseInt(child.inboundSpi, 16)).catch(() => undefined);
    await lab.a.kernel.deleteSa(lab.b.address, Number.parseInt(child.outboundSpi, 16)).catch(() => undefined);
    const gone = await lab.a.engine.statusWithUsage();
    for (const c2 of gone[0]?.children ?? []) expect(c2.usage).toBeUndefined();
  });

  it.each(kernels)('statusWithUsage(): last use in from the in and fwd policies (the later), out from the out policy (%s)', async (_, kernel) => {
    const lab = new Lab(kernel === undefined ? {} : { kernel });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const policies = lab.a.kernel.policies();
    expect(policies.map((p) => p.direction).sort()).toEqual(['fwd', 'in', 'out']);
    const of = (direction: string) => policies.find((p) => p.direction === direction)!;
    const lastUse = async () => {
      const u = (await lab.a.engine.statusWithUsage())[0]!.children[0]!.usage!;
      return [u.lastInAtMs, u.lastOutAtMs];
    };
    expect(await lastUse()).toEqual([undefined, undefined]);
    lab.a.kernel.markPolicyUsed(of('fwd'), 1_765_000_002_000);
    expect(await lastUse()).toEqual([1_765_000_002_000, undefined]);
    lab.a.kernel.markPolicyUsed(of('in'), 1_765_000_005_000);
    lab.a.kernel.markPolicyUsed(of('out'), 1_765_000_001_000);
    expect(await lastUse()).toEqual([1_765_000_005_000, 1_765_000_001_000]);
    lab.a.kernel.markPolicyUsed(of('fwd'), 1_765_000_009_000);
    expect(await lastUse()).toEqual([1_765_000_009_000, 1_765_000_001_000]);
  });

  it("statusWithUsage(): a whole read that fails shows no usage, and says why in the log (not as a quiet tunnel)", async () => {
    const lab = new Lab({ kernel: (_, k) => ({ ...bound(k), readUsage: () => Promise.reject(new Error('listing XFRM policies: the kernel refused')) }) });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    const child = lab.a.engine.status()[0]!.children[0]!;
    lab.a.kernel.addTraffic(lab.a.address, Number.parseInt(child.inboundSpi, 16), 1500, 3);
    expect((await lab.a.engine.statusWithUsage())[0]!.children[0]!.usage).toBeUndefined();
    expect(lab.a.logs.filter((l) => l.level === 'warn' && l.fields.reason === 'listing XFRM policies: the kernel refused')).toHaveLength(1);
  });

  it('statusWithUsage(): no last use from a kernel that cannot tell', async () => {
    const lab = new Lab({ kernel: (_, k) => ({ ...bound(k), policyLastUse: undefined }) });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(both(lab))).toBe(true);
    lab.a.kernel.markPolicyUsed(lab.a.kernel.policies()[0]!, 1_765_000_002_000);
    const u = (await lab.a.engine.statusWithUsage())[0]!.children[0]!.usage!;
    expect([u.lastInAtMs, u.lastOutAtMs]).toEqual([undefined, undefined]);
  });
});

/** A MemoryKernel's KernelPort methods, bound, as a plain object a test can change. */
function bound(k: MemoryKernel): KernelPort {
  return {
    installSa: (sa) => k.installSa(sa),
    deleteSa: (d, spi) => k.deleteSa(d, spi),
    installPolicy: (p) => k.installPolicy(p),
    deletePolicy: (p) => k.deletePolicy(p),
    usage: (d, spi) => k.usage(d, spi),
    policyLastUse: (p) => k.policyLastUse(p),
  };
}
