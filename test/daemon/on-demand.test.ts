/**
 * `start: on-demand` between two in-process daemons (a on 127.0.0.1 protects 198.51.100.0/24,
 * b on 127.0.0.2 protects 203.0.113.0/24): a trap at start and nothing else; a packet on a's
 * memory kernel raises an acquire and the SAs come up; acquires while negotiating start nothing
 * more; the trap outlives `ikekm down`; reload removes and re-installs it; status shows it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadedConfig } from '../../src/config/load-config.js';
import { controlRequest } from '../../src/control/control-client.js';
import { Daemon, type DaemonEvent, type DaemonStatusWithTraps } from '../../src/daemon/daemon.js';
import { IKEKM_REQIDS, type KernelPacket } from '../../src/kernel/kernel-port.js';
import type { Logger } from '../../src/log/logger.js';
import { parseEspSpiHex } from '../../src/wire/spi-text.js';
import { toConnectionConfig } from '../interop/support/ikekm-peer-config.js';
import { captureLogs } from '../support/log-capture.js';
import { startDaemon, waitFor, type RunningDaemon } from './support/daemon-pair.js';
import { connectionJson, loadedConfig, testPorts, type ConnectionOptions, type Side } from './support/lab-connections.js';

const TRAFFIC: Record<Side, string> = { a: '198.51.100.0/24', b: '203.0.113.0/24' };
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** The lab connection with the documentation subnets as its traffic. */
function config(side: Side, ports: { ike: number; natt: number }, connections: readonly ConnectionOptions[]): LoadedConfig {
  const base = loadedConfig(side, ports, []);
  return {
    ...base,
    engine: {
      ...base.engine,
      connections: connections.map((c) => toConnectionConfig({ ...connectionJson(side, ports, c), traffic: { local: [TRAFFIC[side]], remote: [TRAFFIC[other(side)]] } })),
    },
  };
}

interface OnDemandPair {
  readonly a: RunningDaemon;
  readonly b: RunningDaemon;
  readonly ports: { ike: number; natt: number };
  stop(): Promise<void>;
}

let running: OnDemandPair | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function startOnDemandPair(a: readonly ConnectionOptions[] = [{ start: 'on-demand' }], b: readonly ConnectionOptions[] = [{ start: 'listen' }]): Promise<OnDemandPair> {
  const dir = mkdtempSync(join(tmpdir(), 'ikekm-on-demand-'));
  const ports = testPorts();
  const sideB = await startDaemon(config('b', ports, b), join(dir, 'b', 'ikekm.sock'));
  const sideA = await startDaemon(config('a', ports, a), join(dir, 'a', 'ikekm.sock')).catch(async (error: unknown) => {
    await sideB.daemon.stop({ graceMs: 0 });
    throw error;
  });
  return {
    a: sideA,
    b: sideB,
    ports,
    async stop() {
      await Promise.all([sideA.daemon.stop({ graceMs: 1000 }), sideB.daemon.stop({ graceMs: 1000 })]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const packet = (overrides: Partial<KernelPacket> = {}): KernelPacket => ({ source: '198.51.100.7', destination: '203.0.113.9', ipProtocol: 6, sourcePort: 40000, destinationPort: 443, ...overrides });
const count = (side: RunningDaemon, kind: string): number => side.events.filter((e) => e.kind === kind).length;
const settle = (ms = 200): Promise<void> => new Promise((r) => setTimeout(r, ms));
const installedChild = async (side: RunningDaemon) => (await side.daemon.status()).ikeSas.find((sa) => sa.childSas.some((c) => c.state === 'INSTALLED'));

describe('start: on-demand', () => {
  it('installs a trap and nothing else at start; a packet brings the IKE SA and Child SA up, once', async () => {
    running = await startOnDemandPair();
    const { a, b } = running;
    const kernel = a.daemon.memoryKernel;
    expect(kernel.traps()).toMatchObject([
      { connection: 'lab', local: { startAddress: '198.51.100.0', endAddress: '198.51.100.255' }, remote: { startAddress: '203.0.113.0', endAddress: '203.0.113.255' }, tunnelSource: '127.0.0.1', tunnelDestination: '127.0.0.2', mode: 'tunnel' },
    ]);
    expect((await a.daemon.status())).toMatchObject({ ikeSas: [], traps: [{ connection: 'lab', localTs: ['198.51.100.0/24'], remoteTs: ['203.0.113.0/24'], acquires: 0, lastAcquireSeconds: null, pending: false }] });
    await settle();
    expect(count(a, 'ike-sa-up')).toBe(0);
    expect((await b.daemon.status()).ikeSas).toEqual([]);
    expect((await b.daemon.status()).traps).toEqual([]); // listen installs no trap

    // traffic outside the selectors: no IPsec, no acquire
    expect(kernel.simulateTraffic(packet({ destination: '192.0.2.99' }))).toEqual({ kind: 'no-policy' });
    expect(kernel.simulateTraffic(packet({ source: '10.0.0.1' }))).toEqual({ kind: 'no-policy' });
    expect(kernel.simulateTraffic(packet({ source: '203.0.113.9', destination: '198.51.100.7' }))).toEqual({ kind: 'no-policy' });
    await settle();
    expect((await a.daemon.status()).ikeSas).toEqual([]);
    expect((await a.daemon.status()).traps[0]?.acquires).toBe(0);

    // the first packet: an acquire, and the daemon initiates
    expect(kernel.simulateTraffic(packet())).toMatchObject({ kind: 'acquire', acquire: { connection: 'lab', packet: packet() } });
    expect((await a.daemon.status())).toMatchObject({ ikeSas: [{ connection: 'lab', state: 'CONNECTING', role: 'initiator' }], traps: [{ acquires: 1, pending: true }] });
    // more packets while IKE_SA_INIT / IKE_AUTH run: acquires, but no second IKE SA
    for (let port = 40001; port < 40006; port++) expect(kernel.simulateTraffic(packet({ sourcePort: port })).kind).toBe('acquire');
    await waitFor('a Child SA on a', () => installedChild(a));
    await waitFor('a Child SA on b', () => installedChild(b));
    await settle();
    expect((await a.daemon.status()).ikeSas).toHaveLength(1);
    expect((await b.daemon.status()).ikeSas).toHaveLength(1);
    expect(count(a, 'ike-sa-up')).toBe(1);
    expect(count(a, 'child-sa-up')).toBe(1);
    // RFC 7296 2.9: the first packet's selectors were offered first, and b (which keeps every
    // intersection of the offer with its policy) answered them with the configured ones
    expect((await a.daemon.status())).toMatchObject({
      ikeSas: [{ childSas: [{ localTs: ['198.51.100.7/32[tcp/40000]', '198.51.100.0/24'], remoteTs: ['203.0.113.9/32[tcp/443]', '203.0.113.0/24'] }] }],
      traps: [{ acquires: 6, pending: false }],
    });
    expect((await a.daemon.status()).traps[0]?.lastAcquireSeconds).toBeGreaterThanOrEqual(0);

    // the Child SA now carries the traffic; the trap stays installed under it
    const spiOut = (await installedChild(a))?.childSas[0]?.spiOut;
    expect(kernel.simulateTraffic(packet())).toMatchObject({ kind: 'protected', spi: parseEspSpiHex(spiOut ?? '') });
    expect(kernel.traps()).toHaveLength(1);
    // the trap's reqid is the Child SA's, as strongSwan's are (the daemon and the engine share one reqid table)
    const reqid = kernel.traps()[0]?.reqid;
    expect(kernel.policies().length).toBeGreaterThan(0);
    expect(kernel.policies().every((p) => p.reqid === reqid)).toBe(true);
    expect((await a.daemon.status()).traps[0]?.reqid).toBe(reqid);
  });

  it('after ikekm down the trap is still there and the next packet brings the SA up again', async () => {
    running = await startOnDemandPair();
    const { a } = running;
    const kernel = a.daemon.memoryKernel;
    kernel.simulateTraffic(packet());
    const first = await waitFor('the first Child SA', () => installedChild(a));
    expect(await a.daemon.down('lab')).toEqual({ connection: 'lab', deleted: 1 });
    expect((await a.daemon.status()).ikeSas).toEqual([]);
    expect(kernel.traps()).toHaveLength(1);
    expect(kernel.sas()).toEqual([]);

    expect(kernel.simulateTraffic(packet()).kind).toBe('acquire');
    const second = await waitFor('a new Child SA', () => installedChild(a));
    expect(second.spiI).not.toBe(first.spiI);
    expect(count(a, 'ike-sa-up')).toBe(2);
    expect(kernel.simulateTraffic(packet()).kind).toBe('protected');
  });

  it('reload: removing the connection removes the trap, adding it back installs it, making it listen removes it', async () => {
    running = await startOnDemandPair();
    const { a, ports } = running;
    const kernel = a.daemon.memoryKernel;
    expect(kernel.traps()).toHaveLength(1);

    const removed = config('a', ports, [{ name: 'spare', start: 'listen', subnet: 9 }]);
    expect(a.daemon.reload(removed)).toMatchObject({ removed: ['lab'] });
    // the daemon's table changes at once, the kernel right behind it
    expect((await a.daemon.status()).traps).toEqual([]);
    await a.daemon.trapsSettled();
    expect(kernel.traps()).toEqual([]);
    expect(kernel.simulateTraffic(packet())).toEqual({ kind: 'no-policy' });
    await settle();
    expect((await a.daemon.status()).ikeSas).toEqual([]);

    a.daemon.reload(config('a', ports, [{ start: 'on-demand' }]));
    await a.daemon.trapsSettled();
    expect(kernel.traps()).toMatchObject([{ connection: 'lab' }]);
    expect((await a.daemon.status()).traps).toMatchObject([{ connection: 'lab', acquires: 0 }]);

    expect(a.daemon.reload(config('a', ports, [{ start: 'listen' }]))).toMatchObject({ changed: ['lab'] });
    await a.daemon.trapsSettled();
    expect(kernel.traps()).toEqual([]);
    expect((await a.daemon.status()).traps).toEqual([]);
  });

  it('status over the control socket lists the trap; stop removes it', async () => {
    running = await startOnDemandPair();
    const { a } = running;
    const status = (await controlRequest(a.socket, { cmd: 'status' })) as DaemonStatusWithTraps;
    expect(status).toEqual({ ikeSas: [], traps: [{ connection: 'lab', reqid: IKEKM_REQIDS.first, localTs: ['198.51.100.0/24'], remoteTs: ['203.0.113.0/24'], acquires: 0, lastAcquireSeconds: null, pending: false }], restarts: [] });
    await a.daemon.stop({ graceMs: 0 });
    expect(a.daemon.memoryKernel.traps()).toEqual([]);
  });

  it('after a failed attempt, acquires are held off; then the next packet asks the IKE SA for a Child SA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-on-demand-'));
    const ports = testPorts();
    const b = await startDaemon(config('b', ports, [{ start: 'listen', esp: ['aes256-sha256'] }]), join(dir, 'b', 'ikekm.sock'));
    const logs = captureLogs({ level: 'debug' });
    const daemonA = await Daemon.start({
      config: config('a', ports, [{ start: 'on-demand', esp: ['aes128gcm16'] }]),
      logger: logs.logger as Logger,
      controlSocket: join(dir, 'a', 'ikekm.sock'),
      acquireHoldMs: 1500,
    });
    const eventsA: DaemonEvent[] = [];
    daemonA.events$.subscribe((e) => eventsA.push(e));
    running = {
      a: { daemon: daemonA, logs, socket: daemonA.controlSocket, events: eventsA },
      b,
      ports,
      async stop() {
        await Promise.all([daemonA.stop({ graceMs: 500 }), b.daemon.stop({ graceMs: 500 })]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    const kernel = daemonA.memoryKernel;
    kernel.simulateTraffic(packet());
    await waitFor('the Child SA to fail (no proposal chosen)', () => eventsA.some((e) => e.kind === 'child-sa-failed'));
    // RFC 7296 1.2: a refused Child SA in IKE_AUTH leaves the IKE SA up
    await waitFor('the IKE SA established without Child SA', async () => (await daemonA.status()).ikeSas.find((sa) => sa.state === 'ESTABLISHED' && sa.childSas.length === 0));
    for (let i = 0; i < 5; i++) kernel.simulateTraffic(packet({ sourcePort: 41000 + i }));
    await settle(300);
    expect(eventsA.filter((e) => e.kind === 'child-sa-failed')).toHaveLength(1);
    expect((await daemonA.status()).ikeSas).toHaveLength(1);

    await settle(1500);
    kernel.simulateTraffic(packet());
    await waitFor('a second Child SA attempt on the same IKE SA', () => eventsA.filter((e) => e.kind === 'child-sa-failed').length === 2);
    expect((await daemonA.status()).ikeSas).toHaveLength(1);
    expect(eventsA.filter((e) => e.kind === 'ike-sa-up')).toHaveLength(1);
  });
});
