/**
 * The Child SA machine on its own, under a minimal parent that records its reports: kernel
 * install, lifetimes from the TimerPort (soft → CHILD_SA_REKEY_DUE, hard → delete), the
 * rekeying/rekeyed path, deletes keeping or removing shared policies, and a kernel refusal.
 */
import { describe, expect, it } from 'vitest';
import { createActor, setup, type AnyActorRef } from 'xstate';
import { DEFAULT_ENGINE_SETTINGS, type EngineConfig } from '../../src/config/model.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { deriveChildSaKeys } from '../../src/crypto/ikev2-keys.js';
import type { SaEvent } from '../../machines/effects.js';
import type { MachinePorts } from '../../machines/ports.js';
import { createEffectInterpreter } from '../../src/engine/effect-interpreter.js';
import { childSpiAllocator } from '../../src/engine/ike-engine.js';
import { MemoryKernel } from '../../src/kernel/memory-kernel.js';
import { KernelError } from '../../src/kernel/kernel-error.js';
import type { KernelPort } from '../../src/kernel/kernel-port.js';
import { silentLogger } from '../../src/log/silent-logger.js';
import { selectorFromCidr } from '../../src/policy/traffic-selectors.js';
import { HeapVirtualScheduler } from '../../src/timers/heap-virtual-scheduler.js';
import { createTimerService } from '../../src/timers/timer-service.js';
import { createChildSaLogic } from '../../machines/ikev2/child-sa.js';
import type { ChildSaInput, ChildSaReport } from '../../machines/ikev2/child-sa-context.js';
import { seededRandom } from '../engine/fixtures.js';
import { settle } from '../engine/lab.js';

function harness(kernel: KernelPort = new MemoryKernel()) {
  const scheduler = new HeapVirtualScheduler();
  const reports: ChildSaReport[] = [];
  const events: SaEvent[] = [];
  let system: AnyActorRef['system'] | undefined;
  const timers = createTimerService({ scheduler, deliver: (owner, e) => system?.get(owner)?.send(e) });
  const config: EngineConfig = { settings: DEFAULT_ENGINE_SETTINGS, connections: [] };
  const ports: MachinePorts = {
    clock: timers,
    random: seededRandom('child'),
    registry: cryptoRegistry,
    config: { current: () => config, connection: () => undefined, reqid: () => 1 },
    kernelEnforcesByteLimits: false,
    effects: createEffectInterpreter({
      network: { send: () => {} },
      timers,
      kernel,
      log: silentLogger,
      registry: cryptoRegistry,
      events: { report: (e) => events.push(e) },
      spis: childSpiAllocator(seededRandom('spis')),
      deliver: (owner, e) => system?.get(owner)?.send(e),
    }),
  };
  const childSa = createChildSaLogic(ports);
  const encryption = cryptoRegistry.encryption(20, 128)!;
  const keys = deriveChildSaKeys({ prf: cryptoRegistry.prf(5)!, SK_d: Buffer.alloc(32, 1), Ni: Buffer.alloc(32, 2), Nr: Buffer.alloc(32, 3), encryption });
  const ts = (c: string) => {
    const r = selectorFromCidr(c);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };
  const input = (inboundSpi: number, rekeyOf?: number): ChildSaInput => ({
    id: `child-${inboundSpi}`,
    ikeSaId: 'ike-test',
    connection: 'lab',
    params: {
      inboundSpi,
      outboundSpi: inboundSpi + 1,
      transforms: { encr: 20, encrKeyLengthBits: 128, esn: false },
      keys,
      exchangeRole: 'initiator',
      mode: 'tunnel',
      localTs: [ts('198.51.100.0/24')],
      remoteTs: [ts('203.0.113.0/24')],
      Ni: Buffer.alloc(32, 2),
      Nr: Buffer.alloc(32, 3),
    },
    placement: { connection: 'lab', localAddress: '192.0.2.1', remoteAddress: '192.0.2.2', reqid: 1 },
    lifetime: { rekeySeconds: 3600, lifetimeSeconds: 3960, jitterSeconds: 0 },
    rekeyOf,
    log: { connection: 'lab', spiI: '00'.repeat(8), spiR: '00'.repeat(8) },
    byteLifetimePollMs: 60_000,
  });
  const parent = createActor(
    setup({
      types: { events: {} as ChildSaReport },
      actors: { childSa },
    }).createMachine({
      on: {
        '*': { actions: ({ event }) => reports.push(event as ChildSaReport) },
      },
    }),
  );
  // The parent spawns through the engine's own pattern: createActor with the parent.
  parent.start();
  system = parent.system;
  const spawn = (i: ChildSaInput) => createActor(childSa, { parent, id: i.id, systemId: i.id, input: i }).start();
  const run = async (ms: number) => {
    const end = scheduler.now() + ms;
    for (;;) {
      await settle();
      const next = scheduler.nextDueMs;
      if (next === undefined || next > end) break;
      scheduler.advanceTo(next);
    }
    scheduler.advanceTo(end);
    await settle();
  };
  return { kernel, reports, events, spawn, input, run, scheduler };
}

describe('Child SA machine', () => {
  it('installs both ESP SAs and the policies, then reports its deadlines', async () => {
    const h = harness();
    const child = h.spawn(h.input(0x1000));
    await h.run(0);
    expect(child.getSnapshot().value).toBe('installed');
    expect((h.kernel as MemoryKernel).sas().map((s) => [s.direction, s.spi])).toEqual([
      ['in', 0x1000],
      ['out', 0x1001],
    ]);
    expect((h.kernel as MemoryKernel).policies()).toHaveLength(3);
    expect(h.reports[0]).toMatchObject({ type: 'CHILD_SA_INSTALLED', inboundSpi: 0x1000, deadlines: { rekeyAtMs: 3_600_000, expireAtMs: 3_960_000 } });
    expect(h.events[0]).toMatchObject({ kind: 'child-sa-up', rekeyAtMs: 3_600_000 });
  });

  it('soft lifetime asks for a rekey; rekeyed, it waits for DELETE; DELETE keeps shared policies', async () => {
    const h = harness();
    const child = h.spawn(h.input(0x2000));
    await h.run(3_600_000);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED', 'CHILD_SA_REKEY_DUE']);
    child.send({ type: 'REKEYING' });
    const next = h.spawn(h.input(0x3000, 0x2000));
    await h.run(0);
    child.send({ type: 'REKEYED' });
    expect(child.getSnapshot().value).toBe('rekeyed');
    expect((h.kernel as MemoryKernel).sas()).toHaveLength(4);
    child.send({ type: 'DELETE', reason: 'rekeyed', keepPolicies: true });
    await h.run(0);
    expect(child.getSnapshot().value).toBe('deleted');
    expect((h.kernel as MemoryKernel).sas().map((s) => s.spi).sort()).toEqual([0x3000, 0x3001]);
    expect((h.kernel as MemoryKernel).policies()).toHaveLength(3);
    expect(next.getSnapshot().value).toBe('installed');
  });

  it('hard lifetime deletes the SA and its policies and tells the IKE SA', async () => {
    const h = harness();
    h.spawn(h.input(0x4000));
    await h.run(3_960_000);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED', 'CHILD_SA_REKEY_DUE', 'CHILD_SA_EXPIRED', 'CHILD_SA_DELETED']);
    expect((h.kernel as MemoryKernel).sas()).toHaveLength(0);
    expect((h.kernel as MemoryKernel).policies()).toHaveLength(0);
    expect(h.events.at(-1)).toMatchObject({ kind: 'child-sa-down', reason: 'hard lifetime expired' });
  });

  it('a kernel refusal is reported and leaves nothing installed', async () => {
    const inner = new MemoryKernel();
    const refusing: KernelPort = { ...inner, installSa: async (sa) => { if (sa.direction === 'out') throw new KernelError('invalid', 'no'); return inner.installSa(sa); }, deleteSa: (d, s) => inner.deleteSa(d, s), installPolicy: (p) => inner.installPolicy(p), deletePolicy: (p) => inner.deletePolicy(p), usage: (d, s) => inner.usage(d, s) };
    const h = harness(refusing);
    h.spawn(h.input(0x5000));
    await h.run(0);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALL_FAILED', 'CHILD_SA_DELETED']);
    expect(inner.sas()).toHaveLength(0);
  });
});
