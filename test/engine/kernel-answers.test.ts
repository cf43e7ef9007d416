/**
 * What the engine does with the kernel's own answers, as a kernel that hands out SPIs and
 * enforces byte limits (XFRM) gives them: a refused SPI allocation at each place an IKE SA waits
 * for one, and the kernel's soft and hard expires of an installed Child SA. The kernel here is the
 * memory backend with those two abilities added, so each answer can be chosen by the test.
 */
import { describe, expect, it } from 'vitest';
import type { KernelPort, KernelSaExpire, SpiAllocator } from '../../src/kernel/kernel-port.js';
import { KernelError } from '../../src/kernel/kernel-error.js';
import type { MemoryKernel } from '../../src/kernel/memory-kernel.js';
import { Lab, type LabSide } from './lab.js';

interface KernelControls {
  /** Whether the next SPI allocations fail. */
  refuseSpis: boolean;
  /** Whether the next SAs are refused. */
  refuseSas?: boolean;
  expire(e: KernelSaExpire): void;
}

/** The memory kernel with an SPI allocator that can refuse, and expires the test fires. */
function xfrmLike(kernel: MemoryKernel, controls: KernelControls): KernelPort {
  let next = 0x1000;
  let listener: ((e: KernelSaExpire) => void) | undefined;
  controls.expire = (e) => listener?.(e);
  const spis: SpiAllocator = {
    allocate: async () => {
      if (controls.refuseSpis) throw new Error('ENOSPC (test)');
      return next++;
    },
    release: () => {},
  };
  return {
    installSa: async (sa) => {
      if (controls.refuseSas === true) throw new KernelError('invalid', 'EINVAL (test)');
      return kernel.installSa(sa);
    },
    deleteSa: (d, s) => kernel.deleteSa(d, s),
    installPolicy: (p) => kernel.installPolicy(p),
    deletePolicy: (p) => kernel.deletePolicy(p),
    usage: (d, s) => kernel.usage(d, s),
    onExpire: (l) => {
      listener = l;
      return () => (listener = undefined);
    },
    spis,
  };
}

function lab(options: { pair?: { childLifetime?: { rekeySeconds: number; lifetimeSeconds: number; jitterSeconds: number; rekeyBytes?: number; lifetimeBytes?: number } } } = {}) {
  const controls: Record<'a' | 'b', KernelControls> = {
    a: { refuseSpis: false, expire: () => {} },
    b: { refuseSpis: false, expire: () => {} },
  };
  const l = new Lab({ ...(options.pair === undefined ? {} : { pair: options.pair }), kernel: (side, k) => xfrmLike(k, controls[side]) });
  return { lab: l, controls };
}

const children = (side: LabSide) => side.engine.status().flatMap((s) => (s.state === 'established' ? s.children : []));

describe('a kernel that refuses an inbound SPI', () => {
  it('for the first Child SA of our IKE_AUTH: the IKE SA fails, saying why', async () => {
    const { lab: l, controls } = lab();
    controls.a.refuseSpis = true;
    l.a.engine.initiate('lab');
    await l.run(10_000);
    expect(l.a.events.find((e) => e.kind === 'ike-sa-failed')).toMatchObject({ reason: expect.stringContaining('no inbound SPI for the first Child SA: ENOSPC (test)') });
    expect(l.a.engine.size()).toBe(0);
  });

  it('for a new Child SA of ours: child-sa-failed, the IKE SA and its first Child SA stay, the window is free again', async () => {
    const { lab: l, controls } = lab();
    l.a.engine.initiate('lab');
    expect(await l.runUntil(() => l.established(l.a) && l.established(l.b))).toBe(true);
    controls.a.refuseSpis = true;
    const sa = l.a.engine.status()[0]!.id;
    l.a.engine.createChildSa(sa);
    await l.run(1_000);
    expect(l.a.events.filter((e) => e.kind === 'child-sa-failed')).toHaveLength(1);
    controls.a.refuseSpis = false;
    l.a.engine.createChildSa(sa);
    await l.run(1_000);
    expect(children(l.a)).toHaveLength(2);
  });

  it("for the peer's Child SA: TEMPORARY_FAILURE, so the peer keeps its IKE SA and may try again", async () => {
    const { lab: l, controls } = lab();
    l.a.engine.initiate('lab');
    expect(await l.runUntil(() => l.established(l.a) && l.established(l.b))).toBe(true);
    controls.b.refuseSpis = true;
    l.a.engine.createChildSa(l.a.engine.status()[0]!.id);
    await l.run(1_000);
    expect(l.a.logs.some((r) => r.message === 'the peer is busy: new Child SA not created')).toBe(true);
    expect(l.b.logs.some((r) => r.message.startsWith('the kernel gave no inbound SPI'))).toBe(true);
    expect(children(l.a)).toHaveLength(1);
    expect(l.a.engine.status()[0]?.state).toBe('established');
  });
});

describe("a kernel that refuses the new Child SA of the peer's rekey", () => {
  it('the rekey is refused with TEMPORARY_FAILURE before the peer has the new SA: the old SA carries on on both sides, nothing is deleted', async () => {
    const { lab: l, controls } = lab();
    l.a.engine.initiate('lab');
    expect(await l.runUntil(() => l.established(l.a) && l.established(l.b))).toBe(true);
    const before = { a: l.a.kernel.sas().map((s) => s.spi).sort(), b: l.b.kernel.sas().map((s) => s.spi).sort() };
    controls.b.refuseSas = true;
    l.a.engine.rekeyChildSa(l.a.engine.status()[0]!.id);
    await l.run(1_000);
    expect(l.b.logs.some((r) => r.message === "the kernel refused the new Child SA: the peer's rekey is refused with TEMPORARY_FAILURE")).toBe(true);
    expect(l.a.logs.some((r) => r.message === 'the peer is busy: Child SA rekey postponed')).toBe(true);
    expect(l.a.kernel.sas().map((s) => s.spi).sort()).toEqual(before.a);
    expect(l.b.kernel.sas().map((s) => s.spi).sort()).toEqual(before.b);
    for (const side of [l.a, l.b]) expect(children(side).map((c) => c.state)).toEqual(['installed']);
    expect(l.a.events.filter((e) => e.kind === 'child-sa-down')).toEqual([]);
    // b's own record of the SA it could not install; a never heard of it.
    expect(l.b.events.filter((e) => e.kind === 'child-sa-down').map((e) => e.kind === 'child-sa-down' && e.reason)).toEqual(['kernel refused the SA: EINVAL (test)']);
    // The peer tries again later (TEMPORARY_FAILURE, 2.25), and then it works.
    controls.b.refuseSas = false;
    const old = children(l.a)[0]!.inboundSpi;
    expect(await l.runUntil(() => children(l.a).length === 1 && children(l.a)[0]!.inboundSpi !== old && children(l.b).length === 1, 60_000)).toBe(true);
  });
});

describe("the kernel's expires (byte limits enforced by the kernel)", () => {
  const pair = { childLifetime: { rekeySeconds: 3600, lifetimeSeconds: 3960, jitterSeconds: 0, rekeyBytes: 100_000, lifetimeBytes: 200_000 } };

  it('soft: the Child SA is rekeyed (no byte polling: the kernel says when)', async () => {
    const { lab: l, controls } = lab({ pair });
    l.a.engine.initiate('lab');
    expect(await l.runUntil(() => l.established(l.a) && l.established(l.b))).toBe(true);
    const before = children(l.a)[0]!;
    // No usage timer is armed for the byte limits: only the Child SA's rekey (its hard lifetime
    // is armed when the rekey starts).
    expect(l.a.timers.pending(`${l.a.engine.status()[0]!.id}/child-${before.inboundSpi}`)).toBe(1);
    controls.a.expire({ destination: l.a.address, spi: Number.parseInt(before.inboundSpi, 16), hard: false });
    expect(await l.runUntil(() => children(l.a).length === 1 && children(l.a)[0]!.inboundSpi !== before.inboundSpi, 10_000)).toBe(true);
    expect(l.a.events.find((e) => e.kind === 'child-sa-up' && e.rekeyOf === before.inboundSpi)).toBeDefined();
  });

  it('hard: the Child SA is deleted here and at the peer', async () => {
    const { lab: l, controls } = lab({ pair });
    l.a.engine.initiate('lab');
    expect(await l.runUntil(() => l.established(l.a) && l.established(l.b))).toBe(true);
    const child = children(l.a)[0]!;
    controls.a.expire({ destination: l.b.address, spi: Number.parseInt(child.outboundSpi, 16), hard: true });
    expect(await l.runUntil(() => children(l.a).length === 0 && children(l.b).length === 0, 10_000)).toBe(true);
    expect(l.a.events.find((e) => e.kind === 'child-sa-down')).toMatchObject({ reason: 'hard limit reached in the kernel' });
  });

  it('an expire for an SA the engine does not know is ignored', async () => {
    const { lab: l, controls } = lab({ pair });
    l.a.engine.initiate('lab');
    expect(await l.runUntil(() => l.established(l.a) && l.established(l.b))).toBe(true);
    controls.a.expire({ destination: l.a.address, spi: 0xdeadbeef, hard: true });
    await l.run(1_000);
    expect(children(l.a)).toHaveLength(1);
  });
});
