/**
 * MemoryKernel traps and acquires: which packets raise an acquire, which are protected by an
 * installed Child SA's policy, the most-specific-selector rule, and the trap table's identity.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { KernelError } from '../../src/kernel/kernel-error.js';
import type { KernelAcquire, KernelPacket, KernelTrap, TrafficSelectorRange, TrappingKernelPort } from '../../src/kernel/kernel-port.js';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeylogKernel } from '../../src/kernel/keylog-kernel.js';
import { MemoryKernel } from '../../src/kernel/memory-kernel.js';
import { silentLogger } from '../../src/log/silent-logger.js';
import { gcmSa, policy } from './kernel-fixtures.js';

const ANY_PORT = { ipProtocol: 0, startPort: 0, endPort: 65535 };
const net = (start: string, end: string, extra: Partial<TrafficSelectorRange> = {}): TrafficSelectorRange => ({ ...ANY_PORT, startAddress: start, endAddress: end, ...extra });
const LOCAL_24 = net('198.51.100.0', '198.51.100.255');
const REMOTE_24 = net('203.0.113.0', '203.0.113.255');

function trap(overrides: Partial<KernelTrap> = {}): KernelTrap {
  return { connection: 'wide', local: LOCAL_24, remote: REMOTE_24, mode: 'tunnel', tunnelSource: '192.0.2.1', tunnelDestination: '192.0.2.2', reqid: 7, ...overrides };
}

const packet = (overrides: Partial<KernelPacket> = {}): KernelPacket => ({ source: '198.51.100.10', destination: '203.0.113.20', ipProtocol: 6, sourcePort: 40000, destinationPort: 443, ...overrides });

function listening(kernel: MemoryKernel): KernelAcquire[] {
  const seen: KernelAcquire[] = [];
  kernel.onAcquire((a) => seen.push(a));
  return seen;
}

describe('MemoryKernel traps', () => {
  it('is a trapping KernelPort', () => {
    const port: TrappingKernelPort = new MemoryKernel();
    expect(port).toBeDefined();
  });

  it('a packet inside the trap raises an acquire with the reqid, connection and the packet selector; outside it, nothing', async () => {
    const kernel = new MemoryKernel();
    const seen = listening(kernel);
    await kernel.installTrap(trap());
    const verdict = kernel.simulateTraffic(packet());
    expect(verdict).toEqual({ kind: 'acquire', acquire: { connection: 'wide', reqid: 7, packet: packet(), local: LOCAL_24, remote: REMOTE_24 } });
    expect(seen).toEqual([verdict.kind === 'acquire' ? verdict.acquire : undefined]);

    // reversed direction (an inbound packet's addresses), another subnet, another family: no policy
    expect(kernel.simulateTraffic(packet({ source: '203.0.113.20', destination: '198.51.100.10' }))).toEqual({ kind: 'no-policy' });
    expect(kernel.simulateTraffic(packet({ destination: '203.0.114.1' }))).toEqual({ kind: 'no-policy' });
    expect(kernel.simulateTraffic(packet({ source: '2001:db8::1', destination: '2001:db8:1::1' }))).toEqual({ kind: 'no-policy' });
    expect(seen).toHaveLength(1);
  });

  it('every matching packet raises its own acquire (no larval SA here: the key manager guards against storms)', async () => {
    const kernel = new MemoryKernel();
    const seen = listening(kernel);
    await kernel.installTrap(trap());
    kernel.simulateTraffic(packet());
    kernel.simulateTraffic(packet({ sourcePort: 40001 }));
    expect(seen).toHaveLength(2);
  });

  it('protocol and ports of the trap must match; OPAQUE matches only a packet without ports (RFC 7296 3.13.1)', async () => {
    const kernel = new MemoryKernel();
    await kernel.installTrap(trap({ connection: 'https', remote: net('203.0.113.0', '203.0.113.255', { ipProtocol: 6, startPort: 443, endPort: 443 }) }));
    expect(kernel.simulateTraffic(packet()).kind).toBe('acquire');
    expect(kernel.simulateTraffic(packet({ destinationPort: 80 })).kind).toBe('no-policy');
    expect(kernel.simulateTraffic(packet({ ipProtocol: 17 })).kind).toBe('no-policy');
    expect(kernel.simulateTraffic(packet({ ipProtocol: 6, sourcePort: undefined, destinationPort: undefined })).kind).toBe('no-policy');

    await kernel.installTrap(trap({ connection: 'frags', local: net('198.51.100.0', '198.51.100.255', { startPort: 65535, endPort: 0 }), reqid: 8 }));
    const fragment = kernel.simulateTraffic({ source: '198.51.100.10', destination: '203.0.113.20', ipProtocol: 17 });
    expect(fragment).toMatchObject({ kind: 'acquire', acquire: { connection: 'frags' } });
    expect(kernel.simulateTraffic(packet({ ipProtocol: 17, destinationPort: 53 })).kind).toBe('no-policy');
  });

  it('the most specific selector wins, whatever the install order', async () => {
    for (const order of [['wide', 'host'], ['host', 'wide']]) {
      const kernel = new MemoryKernel();
      const traps: Record<string, KernelTrap> = {
        wide: trap(),
        host: trap({ connection: 'host', local: net('198.51.100.10', '198.51.100.10'), reqid: 9 }),
      };
      for (const name of order) await kernel.installTrap(traps[name]!);
      expect(kernel.simulateTraffic(packet())).toMatchObject({ kind: 'acquire', acquire: { connection: 'host', reqid: 9 } });
      expect(kernel.simulateTraffic(packet({ source: '198.51.100.11' }))).toMatchObject({ kind: 'acquire', acquire: { connection: 'wide', reqid: 7 } });
    }
    // with equal addresses, a given protocol beats any, then narrower ports
    const kernel = new MemoryKernel();
    await kernel.installTrap(trap({ connection: 'any' }));
    await kernel.installTrap(trap({ connection: 'tcp', remote: { ...REMOTE_24, ipProtocol: 6 }, reqid: 10 }));
    await kernel.installTrap(trap({ connection: 'tcp-443', remote: { ...REMOTE_24, ipProtocol: 6, startPort: 443, endPort: 443 }, reqid: 11 }));
    expect(kernel.simulateTraffic(packet())).toMatchObject({ acquire: { connection: 'tcp-443' } });
    expect(kernel.simulateTraffic(packet({ destinationPort: 22 }))).toMatchObject({ acquire: { connection: 'tcp' } });
    expect(kernel.simulateTraffic(packet({ ipProtocol: 17 }))).toMatchObject({ acquire: { connection: 'any' } });
  });

  it('an installed Child SA covers the trapped traffic; a narrower one covers only its part; when its SA goes, the acquire comes back', async () => {
    const kernel = new MemoryKernel();
    const seen = listening(kernel);
    await kernel.installTrap(trap());
    const out = policy({ connection: 'wide', local: LOCAL_24, remote: REMOTE_24, tunnelSource: '192.0.2.1', tunnelDestination: '192.0.2.2', reqid: 7 });
    // the same selectors as the trap: no collision, the trap and the Child SA policy live side by side
    await kernel.installPolicy(out);
    // policy present but its SA not yet (or no longer): XFRM cannot resolve the template and acquires
    expect(kernel.simulateTraffic(packet())).toMatchObject({ kind: 'acquire', acquire: { connection: 'wide', reqid: 7 } });
    await kernel.installSa(gcmSa({ connection: 'wide', source: '192.0.2.1', destination: '192.0.2.2', reqid: 7, spi: 0x1001 }));
    expect(kernel.simulateTraffic(packet())).toEqual({ kind: 'protected', policy: out, spi: 0x1001 });
    // an inbound policy never protects outbound traffic
    await kernel.installPolicy({ ...out, direction: 'in', local: net('198.51.100.0', '198.51.100.0'), tunnelSource: '192.0.2.2', tunnelDestination: '192.0.2.1' });
    expect(kernel.simulateTraffic(packet({ source: '198.51.100.0' }))).toEqual({ kind: 'protected', policy: out, spi: 0x1001 });

    await kernel.deleteSa('192.0.2.2', 0x1001);
    await kernel.deletePolicy(out);
    expect(kernel.simulateTraffic(packet()).kind).toBe('acquire');
    expect(seen).toHaveLength(2);

    // a Child SA narrowed to one host pair (RFC 7296 2.9) protects that pair only
    const narrow = policy({ connection: 'wide', local: net('198.51.100.10', '198.51.100.10'), remote: net('203.0.113.20', '203.0.113.20'), tunnelSource: '192.0.2.1', tunnelDestination: '192.0.2.2', reqid: 7 });
    await kernel.installPolicy(narrow);
    await kernel.installSa(gcmSa({ connection: 'wide', source: '192.0.2.1', destination: '192.0.2.2', reqid: 7, spi: 0x1002 }));
    expect(kernel.simulateTraffic(packet())).toMatchObject({ kind: 'protected', spi: 0x1002 });
    expect(kernel.simulateTraffic(packet({ destination: '203.0.113.21' }))).toMatchObject({ kind: 'acquire', acquire: { connection: 'wide' } });
  });

  it('a trap is identified by its selectors: a second one is refused, delete needs one to exist; listeners can stop', async () => {
    const kernel = new MemoryKernel();
    await kernel.installTrap(trap());
    await expect(kernel.installTrap(trap({ connection: 'other', reqid: 99 }))).rejects.toMatchObject({ code: 'exists' });
    await expect(kernel.installTrap(trap({ tunnelDestination: 'nope' }))).rejects.toBeInstanceOf(KernelError);
    expect(kernel.traps()).toEqual([trap()]);
    expect(JSON.parse(JSON.stringify(kernel))).toMatchObject({ traps: [trap()] });

    const seen: KernelAcquire[] = [];
    const stop = kernel.onAcquire((a) => seen.push(a));
    kernel.simulateTraffic(packet());
    stop();
    kernel.simulateTraffic(packet());
    expect(seen).toHaveLength(1);

    // the selectors name the trap, not the connection
    await kernel.deleteTrap(trap({ connection: 'whatever' }));
    expect(kernel.traps()).toEqual([]);
    await expect(kernel.deleteTrap(trap())).rejects.toMatchObject({ code: 'not-found' });
    expect(kernel.simulateTraffic(packet())).toEqual({ kind: 'no-policy' });
  });

  it('refuses malformed packets as invalid', () => {
    const kernel = new MemoryKernel();
    expect(() => kernel.simulateTraffic(packet({ source: 'host' }))).toThrow(expect.objectContaining({ code: 'invalid' }));
    expect(() => kernel.simulateTraffic(packet({ destination: '2001:db8::1' }))).toThrow(expect.objectContaining({ code: 'invalid' }));
    expect(() => kernel.simulateTraffic(packet({ destinationPort: 70000 }))).toThrow(expect.objectContaining({ code: 'invalid' }));
    expect(() => kernel.simulateTraffic(packet({ ipProtocol: 256 }))).toThrow(expect.objectContaining({ code: 'invalid' }));
  });
});

describe('KeylogKernel traps', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ikekm-keylog-traps-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('passes traps and acquires through to the inner kernel and writes nothing for them', async () => {
    const inner = new MemoryKernel();
    const espSaPath = join(tmp, 'esp_sa');
    const kernel = new KeylogKernel(inner, { espSaPath, log: silentLogger });
    const seen: KernelAcquire[] = [];
    const stop = kernel.onAcquire((a) => seen.push(a));
    await kernel.installTrap(trap());
    expect(inner.traps()).toEqual([trap()]);
    inner.simulateTraffic(packet());
    expect(seen).toMatchObject([{ connection: 'wide', reqid: 7 }]);
    stop();
    await kernel.deleteTrap(trap());
    expect(inner.traps()).toEqual([]);
    await kernel.flush();
    // traps carry no keys: no line in the esp_sa table (the file is not even created)
    expect(existsSync(espSaPath) ? readFileSync(espSaPath, 'utf8') : '').toBe('');
  });
});
