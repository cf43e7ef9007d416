import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isKernelError, KernelError } from '../../src/kernel/kernel-error.js';
import type { KernelPort } from '../../src/kernel/kernel-port.js';
import { MemoryKernel } from '../../src/kernel/memory-kernel.js';
import { cbcSa, CBC_KEY, gcmSa, GCM_KEY, policy, SHA256_KEY } from './kernel-fixtures.js';
import { assertNoSecrets } from '../support/log-capture.js';

async function rejection(promise: Promise<unknown>): Promise<KernelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KernelError);
  return error as KernelError;
}

describe('MemoryKernel SAs', () => {
  it('is a KernelPort', () => {
    const port: KernelPort = new MemoryKernel();
    expect(port).toBeDefined();
  });

  it('installs, reports and deletes an SA keyed by (destination, SPI)', async () => {
    const kernel = new MemoryKernel();
    await kernel.installSa(gcmSa());
    expect(kernel.sas()).toEqual([{ ...gcmSa(), usage: { bytes: 0, packets: 0 } }]);
    expect(kernel.sas()[0]!.encryption.key).toBe(GCM_KEY); // keys held as given
    expect(await kernel.usage('198.51.100.2', 0xc0ffee01)).toEqual({ bytes: 0, packets: 0 });
    await kernel.deleteSa('198.51.100.2', 0xc0ffee01);
    expect(kernel.sas()).toEqual([]);
    expect(await kernel.usage('198.51.100.2', 0xc0ffee01)).toBeUndefined();
  });

  it('refuses a second SA with the same destination and SPI, whatever else differs', async () => {
    const kernel = new MemoryKernel();
    await kernel.installSa(gcmSa());
    const error = await rejection(kernel.installSa(cbcSa({ connection: 'other', direction: 'in', source: '203.0.113.9' })));
    expect(error.code).toBe('exists');
    expect(isKernelError(error, 'exists')).toBe(true);
    // the same SPI towards another destination is another SA (RFC 4301 4.1)
    await kernel.installSa(gcmSa({ destination: '198.51.100.3' }));
    expect(kernel.sas()).toHaveLength(2);
  });

  it('compares IPv6 destinations as addresses, not as text', async () => {
    const kernel = new MemoryKernel();
    await kernel.installSa(gcmSa({ source: '2001:db8::1', destination: '2001:db8::2' }));
    expect((await rejection(kernel.installSa(gcmSa({ source: '2001:db8::1', destination: '2001:0db8:0:0:0:0:0:0002' })))).code).toBe('exists');
    await kernel.deleteSa('2001:DB8::2', 0xc0ffee01);
    expect(kernel.sas()).toEqual([]);
  });

  it('says not-found for deleting or counting an unknown SA', async () => {
    const kernel = new MemoryKernel();
    expect((await rejection(kernel.deleteSa('198.51.100.2', 1))).code).toBe('not-found');
    expect(() => kernel.addTraffic('198.51.100.2', 1, 100)).toThrow(expect.objectContaining({ code: 'not-found' }));
  });

  it('refuses malformed requests as invalid', async () => {
    const kernel = new MemoryKernel();
    for (const sa of [gcmSa({ spi: 0 }), gcmSa({ spi: 2 ** 32 }), gcmSa({ destination: 'peer.example' }), gcmSa({ destination: '2001:db8::2' })]) {
      expect((await rejection(kernel.installSa(sa))).code).toBe('invalid');
    }
    await kernel.installSa(gcmSa());
    expect(() => kernel.addTraffic('198.51.100.2', 0xc0ffee01, -1)).toThrow(expect.objectContaining({ code: 'invalid' }));
  });

  it('counts traffic that tests add, per SA', async () => {
    const kernel = new MemoryKernel();
    await kernel.installSa(gcmSa());
    await kernel.installSa(gcmSa({ direction: 'in', spi: 0xc0ffee02, source: '198.51.100.2', destination: '192.0.2.1' }));
    expect(kernel.addTraffic('198.51.100.2', 0xc0ffee01, 1500)).toEqual({ bytes: 1500, packets: 1 });
    expect(kernel.addTraffic('198.51.100.2', 0xc0ffee01, 3000, 2)).toEqual({ bytes: 4500, packets: 3 });
    expect(await kernel.usage('198.51.100.2', 0xc0ffee01)).toEqual({ bytes: 4500, packets: 3 });
    expect(await kernel.usage('192.0.2.1', 0xc0ffee02)).toEqual({ bytes: 0, packets: 0 });
    expect(kernel.sas().map((sa) => sa.usage.bytes)).toEqual([4500, 0]);
  });
});

describe('MemoryKernel policies', () => {
  it('installs and deletes by selector and direction', async () => {
    const kernel = new MemoryKernel();
    await kernel.installPolicy(policy());
    await kernel.installPolicy(policy({ direction: 'in', local: policy().remote, remote: policy().local }));
    await kernel.installPolicy(policy({ direction: 'fwd', local: policy().remote, remote: policy().local }));
    expect(kernel.policies()).toHaveLength(3);
    // another connection cannot claim the same traffic in the same direction
    expect((await rejection(kernel.installPolicy(policy({ connection: 'other', reqid: 7 })))).code).toBe('exists');
    await kernel.deletePolicy(policy({ reqid: 99 })); // identified by selector + direction only
    expect(kernel.policies().map((p) => p.direction)).toEqual(['in', 'fwd']);
    expect((await rejection(kernel.deletePolicy(policy()))).code).toBe('not-found');
  });

  it('distinguishes protocol and port selectors', async () => {
    const kernel = new MemoryKernel();
    const tcp443 = { ipProtocol: 6, startPort: 443, endPort: 443, startAddress: '10.2.0.1', endAddress: '10.2.0.1' };
    await kernel.installPolicy(policy({ remote: tcp443 }));
    await kernel.installPolicy(policy({ remote: { ...tcp443, startPort: 80, endPort: 80 } }));
    await kernel.installPolicy(policy({ remote: { ...tcp443, ipProtocol: 17 } }));
    expect(kernel.policies()).toHaveLength(3);
  });

  it('a policy has never been used until a test says when it was; a reinstalled one starts unused again', async () => {
    const kernel = new MemoryKernel();
    const inbound = policy({ direction: 'in', local: policy().remote, remote: policy().local });
    expect(await kernel.policyLastUse(policy())).toBeUndefined(); // not installed
    expect(() => kernel.markPolicyUsed(policy(), 1000)).toThrow(expect.objectContaining({ code: 'not-found' }));
    await kernel.installPolicy(policy());
    await kernel.installPolicy(inbound);
    expect(await kernel.policyLastUse(policy())).toBeUndefined();
    kernel.markPolicyUsed(inbound, 1_765_000_000_000);
    expect(await kernel.policyLastUse(inbound)).toBe(1_765_000_000_000);
    expect(await kernel.policyLastUse(policy())).toBeUndefined(); // per policy
    await kernel.deletePolicy(inbound);
    expect(await kernel.policyLastUse(inbound)).toBeUndefined();
    await kernel.installPolicy(inbound);
    expect(await kernel.policyLastUse(inbound)).toBeUndefined();
  });

  it('refuses a policy with an address that is not an IP literal', async () => {
    const kernel = new MemoryKernel();
    expect((await rejection(kernel.installPolicy(policy({ tunnelDestination: 'gw.example' })))).code).toBe('invalid');
    expect((await rejection(kernel.installPolicy(policy({ local: { ...policy().local, endAddress: '10.1.x.x' } })))).code).toBe('invalid');
  });
});

describe('MemoryKernel display', () => {
  it('toJSON and inspect show everything but the keys', async () => {
    const kernel = new MemoryKernel();
    await kernel.installSa(cbcSa());
    await kernel.installSa(gcmSa({ spi: 0x1234 }));
    await kernel.installPolicy(policy());
    kernel.addTraffic('198.51.100.2', 0x1234, 64);
    const json = JSON.parse(JSON.stringify(kernel)) as { sas: Record<string, unknown>[]; policies: unknown[] };
    expect(json.sas[0]).toMatchObject({
      spi: 0xc0ffee01,
      encryption: { id: 12, keyLengthBits: 256, key: '[redacted]' },
      integrity: { id: 12, key: '[redacted]' },
      usage: { bytes: 0, packets: 0 },
    });
    expect(json.sas[1]).toMatchObject({ encryption: { key: '[redacted]' }, usage: { bytes: 64, packets: 1 } });
    expect(json.sas[1]).not.toHaveProperty('integrity');
    expect(json.policies).toHaveLength(1);
    const shown = [JSON.stringify(kernel), inspect(kernel, { depth: 10 })];
    assertNoSecrets(shown, [CBC_KEY, SHA256_KEY, GCM_KEY]);
    // ...while the live SAs still hold the real keys
    expect(kernel.sas()[0]!.encryption.key).toBe(CBC_KEY);
  });
});
