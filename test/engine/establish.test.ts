/**
 * Two engines establish an IKE SA and its first Child SA over the in-memory network in virtual
 * time, for a classic, an AEAD and a Curve25519 IKE proposal, with and without PFS, in tunnel and
 * transport mode; the kernels on both sides then hold matching ESP SAs (A's outbound is B's
 * inbound, same keys).
 */
import { describe, expect, it } from 'vitest';
import type { InstalledSa } from '../../src/kernel/memory-kernel.js';
import { Lab, type LabSide } from './lab.js';

function sasOf(side: LabSide): { inbound: InstalledSa[]; outbound: InstalledSa[] } {
  const sas = side.kernel.sas();
  return { inbound: sas.filter((s) => s.direction === 'in'), outbound: sas.filter((s) => s.direction === 'out') };
}

function expectMatchingKernels(lab: Lab): void {
  const a = sasOf(lab.a);
  const b = sasOf(lab.b);
  expect(a.inbound).toHaveLength(1);
  expect(a.outbound).toHaveLength(1);
  expect(b.inbound).toHaveLength(1);
  expect(b.outbound).toHaveLength(1);
  const [aOut, aIn, bOut, bIn] = [a.outbound[0]!, a.inbound[0]!, b.outbound[0]!, b.inbound[0]!];
  expect(aOut.spi).toBe(bIn.spi);
  expect(bOut.spi).toBe(aIn.spi);
  expect(aOut.encryption.key.equals(bIn.encryption.key)).toBe(true);
  expect(bOut.encryption.key.equals(aIn.encryption.key)).toBe(true);
  expect(aOut.encryption.key.equals(aIn.encryption.key)).toBe(false);
  expect(aOut.integrity?.key.toString('hex')).toBe(bIn.integrity?.key.toString('hex'));
  expect(aOut.source).toBe(lab.a.address);
  expect(aOut.destination).toBe(lab.b.address);
  expect(bIn.source).toBe(lab.a.address);
  expect(bIn.destination).toBe(lab.b.address);
}

describe('establishing an IKE SA and a Child SA', () => {
  const ikeProposals = ['aes128-sha256-modp2048', 'aes256gcm16-prfsha384-ecp384', 'aes128gcm16-prfsha256-x25519'];
  const espProposals = [
    { name: 'ESP without PFS', esp: 'aes128gcm16' },
    { name: 'ESP with PFS', esp: 'aes256-sha256-ecp256' },
  ];
  for (const ike of ikeProposals) {
    for (const { name, esp } of espProposals) {
      it(`${ike}, ${name}`, async () => {
        const lab = new Lab({ pair: { ike: [ike], esp: [esp] } });
        lab.a.engine.initiate('lab');
        expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
        expectMatchingKernels(lab);
        const [sa] = lab.a.engine.status();
        expect(sa?.role).toBe('initiator');
        expect(sa?.peerId).toBe('hq.example.net');
        const [sb] = lab.b.engine.status();
        expect(sb?.role).toBe('responder');
        expect(sb?.peerId).toBe('192.0.2.1');
        expect(sa?.spiI).toBe(sb?.spiI);
        expect(sa?.spiR).toBe(sb?.spiR);
        expect(lab.a.events.filter((e) => e.kind === 'ike-sa-up')).toHaveLength(1);
        expect(lab.b.events.filter((e) => e.kind === 'child-sa-up')).toHaveLength(1);
      });
    }
  }

  it('narrows traffic selectors to what both policies allow (RFC 7296 2.9)', async () => {
    const lab = new Lab({
      pair: {
        trafficA: { local: ['198.51.100.0/24'], remote: ['203.0.113.0/24'] },
        trafficB: { local: ['203.0.113.0/25'], remote: ['198.51.100.0/24', '10.0.0.0/8'] },
      },
    });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    const child = lab.a.engine.status()[0]!.children[0]!;
    expect(child.localTs).toEqual(['198.51.100.0/24']);
    expect(child.remoteTs).toEqual(['203.0.113.0/25']);
    const childB = lab.b.engine.status()[0]!.children[0]!;
    expect(childB.localTs).toEqual(['203.0.113.0/25']);
    expect(childB.remoteTs).toEqual(['198.51.100.0/24']);
    const policies = lab.a.kernel.policies();
    expect(policies.map((p) => p.direction).sort()).toEqual(['fwd', 'in', 'out']);
  });

  it('over IPv6 endpoints with IPv6 selectors', async () => {
    const lab = new Lab({
      pair: { addressA: '2001:db8::1', addressB: '2001:db8::2', idA: 'initiator.example.net', trafficA: { local: ['2001:db8:a::/48'], remote: ['2001:db8:b::/48'] } },
    });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    expectMatchingKernels(lab);
    expect(lab.a.engine.status()[0]!.children[0]!.remoteTs).toEqual(['2001:db8:b::/48']);
  });

  it('transport mode with USE_TRANSPORT_MODE', async () => {
    const lab = new Lab({ pair: { mode: 'transport', trafficA: { local: ['192.0.2.1/32'], remote: ['192.0.2.2/32'] } } });
    lab.a.engine.initiate('lab');
    expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
    expectMatchingKernels(lab);
    for (const side of [lab.a, lab.b]) {
      expect(side.kernel.sas().every((s) => s.mode === 'transport')).toBe(true);
      expect(side.kernel.policies().some((p) => p.direction === 'fwd')).toBe(false);
    }
  });
});
