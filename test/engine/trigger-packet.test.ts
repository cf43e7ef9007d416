/**
 * A Child SA started for a packet (an on-demand trap's acquire): RFC 7296 2.9, "the first Traffic
 * Selector of TSi and TSr SHOULD be very specific and contain the addresses in the packet
 * triggering the request". Two engines in virtual time; the TS payloads are read off the wire
 * (the initiator's IKE_AUTH and CREATE_CHILD_SA requests, opened with the responder's keys).
 */
import { describe, expect, it } from 'vitest';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { openMessage } from '../../src/ikev2/ike-sa-session.js';
import type { KernelPacket } from '../../src/kernel/kernel-port.js';
import { fromWireSelectors, formatSelector } from '../../src/policy/traffic-selectors.js';
import { decodeMessage, ExchangeType, PayloadType, type TsPayload } from '../../src/wire/index.js';
import { Lab } from './lab.js';

const TRAFFIC = { local: ['198.51.100.0/24'], remote: ['203.0.113.0/24'] };
const TCP_PACKET: KernelPacket = { source: '198.51.100.7', destination: '203.0.113.9', ipProtocol: 6, sourcePort: 40000, destinationPort: 443 };

/** TSi and TSr of a's requests of `exchange` as they crossed the network, in order. */
function offeredOnTheWire(lab: Lab, exchange: number): { TSi: string[]; TSr: string[] }[] {
  const [bSa] = lab.b.engine.status();
  const security = bSa === undefined ? undefined : lab.b.engine.ikeSaContext(bSa.id)?.security;
  if (security === undefined) throw new Error('b has no IKE SA keys');
  const offers: { TSi: string[]; TSr: string[] }[] = [];
  for (const datagram of lab.network.trace) {
    if (datagram.local.address !== lab.a.address) continue;
    const decoded = decodeMessage(datagram.bytes);
    if (!decoded.ok || decoded.value.header.exchangeType !== exchange || decoded.value.header.flags.response) continue;
    const opened = openMessage(security, datagram.bytes, cryptoRegistry);
    if (!opened.ok) throw new Error(`a's ${exchange} request does not open with b's keys`);
    const ts = (type: TsPayload['type']): string[] =>
      opened.value.inner.filter((p): p is TsPayload => p.type === type).flatMap((p) => fromWireSelectors(p.selectors).map(formatSelector));
    offers.push({ TSi: ts(PayloadType.TSi), TSr: ts(PayloadType.TSr) });
  }
  return offers;
}

async function establish(lab: Lab, packet?: KernelPacket): Promise<void> {
  lab.network.traceEnabled = true;
  lab.a.engine.initiate('lab', packet === undefined ? {} : { packet });
  expect(await lab.runUntil(() => lab.established(lab.a) && lab.established(lab.b), 60_000)).toBe(true);
}

describe('a Child SA started for a packet offers its selectors first (RFC 7296 2.9)', () => {
  it('IKE_AUTH: the packet (address, protocol, ports) first in TSi and TSr, then the configured selectors', async () => {
    const lab = new Lab({ pair: { trafficA: TRAFFIC } });
    await establish(lab, TCP_PACKET);
    expect(offeredOnTheWire(lab, ExchangeType.IKE_AUTH)).toEqual([
      { TSi: ['198.51.100.7/32[tcp/40000]', '198.51.100.0/24'], TSr: ['203.0.113.9/32[tcp/443]', '203.0.113.0/24'] },
    ]);
  });

  it('without a packet, only the configured selectors', async () => {
    const lab = new Lab({ pair: { trafficA: TRAFFIC } });
    await establish(lab);
    expect(offeredOnTheWire(lab, ExchangeType.IKE_AUTH)).toEqual([{ TSi: ['198.51.100.0/24'], TSr: ['203.0.113.0/24'] }]);
  });

  it('ICMP: Type << 8 | Code as the port of both selectors (3.13.1), as strongSwan offers it', async () => {
    const lab = new Lab({ pair: { trafficA: TRAFFIC } });
    await establish(lab, { source: '198.51.100.7', destination: '203.0.113.9', ipProtocol: 1, sourcePort: 0x0800 });
    expect(offeredOnTheWire(lab, ExchangeType.IKE_AUTH)).toEqual([
      { TSi: ['198.51.100.7/32[icmp/2048]', '198.51.100.0/24'], TSr: ['203.0.113.9/32[icmp/2048]', '203.0.113.0/24'] },
    ]);
  });

  it('a packet outside the configured selectors is not offered', async () => {
    const lab = new Lab({ pair: { trafficA: TRAFFIC } });
    await establish(lab, { ...TCP_PACKET, destination: '192.0.2.99' });
    expect(offeredOnTheWire(lab, ExchangeType.IKE_AUTH)).toEqual([{ TSi: ['198.51.100.0/24'], TSr: ['203.0.113.0/24'] }]);
  });

  it('the responder narrows to the packet when its policy allows no more: the Child SA carries the traffic that was waiting', async () => {
    // b accepts only 203.0.113.9 on its side: the configured offer alone would be narrowed to
    // that too, but the packet's pair shows which of a's hosts and ports are waiting.
    const lab = new Lab({ pair: { trafficA: TRAFFIC, trafficB: { local: ['203.0.113.9/32'], remote: ['198.51.100.0/24'] } } });
    await establish(lab, TCP_PACKET);
    const child = lab.a.engine.status()[0]?.children[0];
    expect(child?.localTs[0]).toBe('198.51.100.7/32[tcp/40000]');
    expect(child?.remoteTs[0]).toBe('203.0.113.9/32[tcp/443]');
  });

  it('CREATE_CHILD_SA on an established IKE SA: the packet first as well', async () => {
    const lab = new Lab({ pair: { trafficA: TRAFFIC } });
    await establish(lab);
    const [sa] = lab.a.engine.status();
    lab.a.engine.createChildSa(sa!.id, { packet: { ...TCP_PACKET, sourcePort: 40001 } });
    expect(await lab.runUntil(() => (lab.a.engine.status()[0]?.children.length ?? 0) === 2, 60_000)).toBe(true);
    expect(offeredOnTheWire(lab, ExchangeType.CREATE_CHILD_SA)).toEqual([
      { TSi: ['198.51.100.7/32[tcp/40001]', '198.51.100.0/24'], TSr: ['203.0.113.9/32[tcp/443]', '203.0.113.0/24'] },
    ]);
  });
});
