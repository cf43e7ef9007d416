/**
 * The Child SA machine on its own, under a minimal parent that records its reports: kernel
 * install, lifetimes from the TimerPort (soft → CHILD_SA_REKEY_DUE, hard → delete), the
 * rekeying/rekeyed path, deletes keeping or removing shared policies, a kernel refusal, and the
 * SA of the peer's rekey whose outbound SA waits for INSTALL_OUTBOUND (RFC 7296 2.8).
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
import { selectorFromCidr } from '../../src/policy/traffic-selectors.js';
import { HeapVirtualScheduler } from '../../src/timers/heap-virtual-scheduler.js';
import { createTimerService } from '../../src/timers/timer-service.js';
import { createChildSaLogic } from '../../machines/ikev2/child-sa.js';
import type { ChildSaInput, ChildSaReport } from '../../machines/ikev2/child-sa-context.js';
import { seededRandom } from '../engine/fixtures.js';
import { capturingLog, settle, type LogRecord } from '../engine/lab.js';
import { recordingKernel, type KernelCall } from '../engine/recording-kernel.js';

function harness(kernel: KernelPort = new MemoryKernel()) {
  const scheduler = new HeapVirtualScheduler();
  const reports: ChildSaReport[] = [];
  const events: SaEvent[] = [];
  const logs: LogRecord[] = [];
  const calls: KernelCall[] = [];
  let system: AnyActorRef['system'] | undefined;
  const timers = createTimerService({ scheduler, deliver: (owner, e) => system?.get(owner)?.send(e) });
  const config: EngineConfig = { settings: DEFAULT_ENGINE_SETTINGS, connections: [] };
  const ports: MachinePorts = {
    clock: timers,
    random: seededRandom('child'),
    registry: cryptoRegistry,
    load: { utilization: () => 0 },
    config: { current: () => config, connection: () => undefined, reqid: () => 1 },
    kernelEnforcesByteLimits: false,
    refusingNewSas: () => false,
    effects: createEffectInterpreter({
      network: { send: () => {} },
      timers,
      kernel: recordingKernel(kernel, calls),
      log: capturingLog(logs),
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
    },
    placement: { connection: 'lab', localAddress: '192.0.2.1', remoteAddress: '192.0.2.2', reqid: 1 },
    lifetime: { rekeySeconds: 3600, lifetimeSeconds: 3960, jitterSeconds: 0 },
    rekeyOf,
    outboundDeferred: undefined,
    adopted: undefined,
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
  return { kernel, reports, events, logs, calls, spawn, input, run, scheduler, timers };
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

  it('in service it waits on its rekey timer alone; the hard lifetime is armed when the soft one runs out', async () => {
    const h = harness();
    const child = h.spawn(h.input(0x4100));
    await h.run(0);
    expect(h.timers.deadlineOf(child.id, 'rekey')).toBe(3_600_000);
    expect(h.timers.deadlineOf(child.id, 'expire')).toBeUndefined();
    await h.run(3_600_000);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED', 'CHILD_SA_REKEY_DUE']);
    expect(h.timers.deadlineOf(child.id, 'expire')).toBe(3_960_000);
  });

  it('a rekey that fails before the soft lifetime still leaves the SA its hard lifetime', async () => {
    const h = harness();
    const child = h.spawn(h.input(0x4200));
    await h.run(1_000_000);
    // A rekey by command, before the soft lifetime: the hard one is armed with it.
    child.send({ type: 'REKEYING' });
    expect(h.timers.deadlineOf(child.id, 'expire')).toBe(3_960_000);
    // It fails, and the next try would come after the hard lifetime: the rekey is due at it, and
    // in service the SA waits on that timer alone again.
    child.send({ type: 'REKEY_ABORTED', retryAtMs: 5_000_000 });
    await h.run(0);
    expect(child.getSnapshot().value).toBe('installed');
    expect(h.timers.deadlineOf(child.id, 'rekey')).toBe(3_960_000);
    expect(h.timers.deadlineOf(child.id, 'expire')).toBeUndefined();
    await h.run(2_960_000);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED', 'CHILD_SA_REKEY_DUE', 'CHILD_SA_EXPIRED', 'CHILD_SA_DELETED']);
    expect(h.events.at(-1)).toMatchObject({ kind: 'child-sa-down', reason: 'hard lifetime expired' });
    expect(h.timers.pending(child.id)).toBe(0);
  });

  it("a rekeyed SA's hard lifetime: it reports, then waits in `expiring` for the IKE SA's DELETE, keeping the shared policies", async () => {
    const h = harness();
    const child = h.spawn(h.input(0x6000));
    await h.run(1_800_000);
    child.send({ type: 'REKEYING' });
    h.spawn(h.input(0x7000, 0x6000));
    await h.run(0);
    child.send({ type: 'REKEYED' });
    await h.run(2_160_000);
    expect(child.getSnapshot().value).toBe('expiring');
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED', 'CHILD_SA_INSTALLED', 'CHILD_SA_EXPIRED']);
    expect((h.kernel as MemoryKernel).sas()).toHaveLength(4);
    child.send({ type: 'DELETE', reason: 'hard lifetime', keepPolicies: true });
    await h.run(0);
    expect(child.getSnapshot().value).toBe('deleted');
    expect((h.kernel as MemoryKernel).policies()).toHaveLength(3);
    expect(h.events.find((e) => e.kind === 'child-sa-down')).toMatchObject({ inboundSpi: '00006000', reason: 'hard lifetime expired after rekey' });
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

describe("Child SA machine: the SA of the peer's rekey, its outbound SA deferred (RFC 7296 2.8)", () => {
  const deferred = (h: ReturnType<typeof harness>, inboundSpi: number, rekeyOf = 0x0f00): ChildSaInput => ({ ...h.input(inboundSpi, rekeyOf), outboundDeferred: true });
  const outbound = (h: ReturnType<typeof harness>) => (h.kernel as MemoryKernel).sas().filter((s) => s.direction === 'out');

  it('inbound SA and policies at once, reported installed, in awaitingOutbound; INSTALL_OUTBOUND puts the outbound SA in and says why', async () => {
    const h = harness();
    const child = h.spawn(deferred(h, 0x1000));
    await h.run(0);
    expect(child.getSnapshot().value).toEqual({ awaitingOutbound: 'waiting' });
    expect(h.calls).toEqual([
      { op: 'installSa', spi: 0x1000, direction: 'in' },
      { op: 'installPolicy', direction: 'out' },
      { op: 'installPolicy', direction: 'in' },
      { op: 'installPolicy', direction: 'fwd' },
    ]);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED']);
    expect(h.events.map((e) => e.kind)).toEqual(['child-sa-up']);
    expect(h.logs.find((r) => r.message === 'Child SA installed')?.fields.outbound).toBe("awaiting the peer's Delete of the rekeyed Child SA");

    child.send({ type: 'INSTALL_OUTBOUND', reason: 'the peer deleted the rekeyed Child SA' });
    expect(child.getSnapshot().value).toEqual({ awaitingOutbound: 'installing' });
    await h.run(0);
    expect(child.getSnapshot().value).toBe('installed');
    expect(h.calls.at(-1)).toEqual({ op: 'installSa', spi: 0x1001, direction: 'out' });
    expect(outbound(h).map((s) => s.spi)).toEqual([0x1001]);
    expect(h.logs.filter((r) => r.message.startsWith('outbound SA installed')).map((r) => [r.message, r.fields.rekeyOf])).toEqual([
      ['outbound SA installed: the peer deleted the rekeyed Child SA', '00000f00'],
    ]);
    // Reported once: the IKE SA already counts it as installed.
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED']);
  });

  it('INSTALL_OUTBOUND while the inbound SA is still going in: the outbound SA follows at once', async () => {
    const h = harness();
    const child = h.spawn(deferred(h, 0x2000));
    child.send({ type: 'INSTALL_OUTBOUND', reason: 'the peer deleted the rekeyed Child SA' });
    await h.run(0);
    expect(child.getSnapshot().value).toBe('installed');
    expect(h.calls.filter((c) => c.op === 'installSa')).toEqual([
      { op: 'installSa', spi: 0x2000, direction: 'in' },
      { op: 'installSa', spi: 0x2001, direction: 'out' },
    ]);
  });

  it('DELETE before INSTALL_OUTBOUND (a redundant SA, the IKE SA closing): only the inbound SA leaves the kernel', async () => {
    const h = harness();
    const child = h.spawn(deferred(h, 0x3000));
    await h.run(0);
    child.send({ type: 'DELETE', reason: 'deleted by the peer', keepPolicies: false });
    await h.run(0);
    expect(child.getSnapshot().value).toBe('deleted');
    expect(h.calls.filter((c) => c.op === 'deleteSa')).toEqual([{ op: 'deleteSa', spi: 0x3000 }]);
    expect((h.kernel as MemoryKernel).sas()).toEqual([]);
    expect((h.kernel as MemoryKernel).policies()).toEqual([]);
  });

  it('DELETE while the outbound SA is going in: both ESP SAs leave, the outbound one after it went in', async () => {
    const h = harness();
    const child = h.spawn(deferred(h, 0x3100));
    await h.run(0);
    child.send({ type: 'INSTALL_OUTBOUND', reason: 'the peer deleted the rekeyed Child SA' });
    child.send({ type: 'DELETE', reason: 'deleted by the peer', keepPolicies: false });
    await h.run(0);
    expect(child.getSnapshot().value).toBe('deleted');
    expect(h.calls.filter((c) => c.op === 'installSa' || c.op === 'deleteSa')).toEqual([
      { op: 'installSa', spi: 0x3100, direction: 'in' },
      { op: 'installSa', spi: 0x3101, direction: 'out' },
      { op: 'deleteSa', spi: 0x3100 },
      { op: 'deleteSa', spi: 0x3101 },
    ]);
    expect((h.kernel as MemoryKernel).sas()).toEqual([]);
  });

  it('no rekey while the outbound SA waits: a soft lifetime passed meanwhile asks for it once the SA is complete', async () => {
    const h = harness();
    const child = h.spawn(deferred(h, 0x4000));
    await h.run(3_700_000);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED']);
    child.send({ type: 'INSTALL_OUTBOUND', reason: 'the rekeyed Child SA goes (hard lifetime)' });
    await h.run(0);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED', 'CHILD_SA_REKEY_DUE']);
    expect(child.getSnapshot().value).toBe('installed');
  });

  it('its own hard lifetime deletes it (inbound SA only) and tells the IKE SA', async () => {
    const h = harness();
    const child = h.spawn(deferred(h, 0x5000));
    await h.run(3_960_000);
    expect(child.getSnapshot().value).toBe('deleted');
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED', 'CHILD_SA_EXPIRED', 'CHILD_SA_DELETED']);
    expect(h.calls.filter((c) => c.op === 'deleteSa')).toEqual([{ op: 'deleteSa', spi: 0x5000 }]);
  });

  it('a kernel that refuses the outbound SA: reported as an install failure, the inbound SA removed', async () => {
    const inner = new MemoryKernel();
    const refusing: KernelPort = {
      installSa: async (sa) => {
        if (sa.direction === 'out') throw new KernelError('invalid', 'no');
        return inner.installSa(sa);
      },
      deleteSa: (d, s) => inner.deleteSa(d, s),
      installPolicy: (p) => inner.installPolicy(p),
      deletePolicy: (p) => inner.deletePolicy(p),
      usage: (d, s) => inner.usage(d, s),
    };
    const h = harness(refusing);
    const child = h.spawn(deferred(h, 0x6000));
    await h.run(0);
    child.send({ type: 'INSTALL_OUTBOUND', reason: 'the peer deleted the rekeyed Child SA' });
    await h.run(0);
    expect(h.reports.map((r) => r.type)).toEqual(['CHILD_SA_INSTALLED', 'CHILD_SA_INSTALL_FAILED', 'CHILD_SA_DELETED']);
    expect(h.calls.filter((c) => c.op === 'deleteSa')).toEqual([{ op: 'deleteSa', spi: 0x6000 }]);
    expect(inner.sas()).toEqual([]);
  });

  it('moved to a rekeyed IKE SA (2.18) while its outbound SA waits: it starts in awaitingOutbound, installing nothing', async () => {
    const h = harness();
    const child = h.spawn({ ...deferred(h, 0x7000), adopted: { deadlines: { rekeyAtMs: 3_600_000, expireAtMs: 3_960_000 }, installedAtMs: 0, rekeyed: false } });
    await h.run(0);
    expect(child.getSnapshot().value).toEqual({ awaitingOutbound: 'waiting' });
    expect(h.calls).toEqual([]);
    child.send({ type: 'INSTALL_OUTBOUND', reason: 'the peer deleted the rekeyed Child SA' });
    await h.run(0);
    expect(child.getSnapshot().value).toBe('installed');
    expect(h.calls).toEqual([{ op: 'installSa', spi: 0x7001, direction: 'out' }]);
  });
});
