import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { RECEIVE_BUFFER_BYTES } from '../../src/transport/bound-socket.js';
import type { Endpoint } from '../../src/ports.js';
import type { TransportError } from '../../src/transport/transport-error.js';
import { UdpTransport, type DropReason, type UdpTransportOptions } from '../../src/transport/udp-transport.js';
import { NATT_KEEPALIVE, NON_ESP_MARKER } from '../../src/wire/natt.js';
import { hasLoopbackIpv6, Inbox, RawPeer, until } from './udp-helpers.js';

/** Stand-in IKE message: what matters here is that the transport passes it through byte for byte. */
const IKE_MESSAGE = Buffer.from('0102030405060708000000000000000000202208000000000000001c', 'hex');

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});

async function transportOn(address: string, extra: Partial<UdpTransportOptions> = {}) {
  const inbox = new Inbox();
  const errors: TransportError[] = [];
  const drops: { reason: DropReason; from: Endpoint }[] = [];
  const transport = await UdpTransport.open({
    addresses: [address],
    ikePort: 0,
    nattPort: 0,
    onDatagram: inbox.deliver,
    onError: (e) => errors.push(e),
    onDrop: (reason, from) => drops.push({ reason, from }),
    ...extra,
  });
  opened.push(transport);
  return { transport, inbox, errors, drops, ports: transport.localPorts() };
}

async function rawPeer(address: string): Promise<RawPeer> {
  const peer = await RawPeer.open(address);
  opened.push(peer);
  return peer;
}

const ipv6 = await hasLoopbackIpv6();
if (!ipv6) console.warn('::1 is not configured here: skipping the IPv6 transport tests');

describe.each([
  { family: 'IPv4', loopback: '127.0.0.1', enabled: true },
  { family: 'IPv6', loopback: '::1', enabled: ipv6 },
])('UdpTransport over $family loopback', ({ loopback, enabled }) => {
  it.runIf(enabled)('exchanges IKE messages between two transports on the IKE port, unframed', async () => {
    const a = await transportOn(loopback);
    const b = await transportOn(loopback);
    a.transport.send({ local: { address: loopback, port: a.ports.ike }, remote: { address: loopback, port: b.ports.ike }, bytes: IKE_MESSAGE });
    const got = await b.inbox.next();
    expect(got.bytes.equals(IKE_MESSAGE)).toBe(true);
    expect(got.local).toEqual({ address: loopback, port: b.ports.ike });
    expect(got.remote).toEqual({ address: loopback, port: a.ports.ike });

    // and back, answering to where it came from
    b.transport.send({ local: got.local, remote: got.remote, bytes: IKE_MESSAGE });
    expect((await a.inbox.next()).bytes.equals(IKE_MESSAGE)).toBe(true);
  });

  it.runIf(enabled)('exchanges IKE messages on the NAT-T port with the marker added and stripped', async () => {
    const a = await transportOn(loopback);
    const b = await transportOn(loopback);
    a.transport.send({ local: { address: loopback, port: a.ports.natt }, remote: { address: loopback, port: b.ports.natt }, bytes: IKE_MESSAGE });
    const got = await b.inbox.next();
    expect(got.bytes.equals(IKE_MESSAGE)).toBe(true);
    expect(got.local.port).toBe(b.ports.natt);
    expect(a.transport.stats()).toMatchObject({ datagramsOut: 1, bytesOut: IKE_MESSAGE.length + 4 });
    expect(b.transport.stats()).toMatchObject({ datagramsIn: 1, bytesIn: IKE_MESSAGE.length + 4, ikeIn: 1 });
  });

  it.runIf(enabled)('puts exactly the 4 zero octets before the message on the wire (RFC 3948 2.2)', async () => {
    const a = await transportOn(loopback);
    const peer = await rawPeer(loopback);
    a.transport.send({ local: { address: loopback, port: a.ports.natt }, remote: { address: loopback, port: peer.port }, bytes: IKE_MESSAGE });
    a.transport.send({ local: { address: loopback, port: a.ports.ike }, remote: { address: loopback, port: peer.port }, bytes: IKE_MESSAGE });
    const first = await peer.next(1);
    const second = await peer.next(2);
    const [natt, ike] = first.length > second.length ? [first, second] : [second, first];
    expect(natt.equals(Buffer.concat([NON_ESP_MARKER, IKE_MESSAGE]))).toBe(true);
    expect(ike.equals(IKE_MESSAGE)).toBe(true);
  });

  it.runIf(enabled)('strips exactly the marker inbound and leaves port-500 messages as they are', async () => {
    const a = await transportOn(loopback);
    const peer = await rawPeer(loopback);
    await peer.send(Buffer.concat([NON_ESP_MARKER, IKE_MESSAGE]), a.ports.natt);
    expect((await a.inbox.next(1)).bytes.equals(IKE_MESSAGE)).toBe(true);
    // On the IKE port there is no marker: leading zero octets are part of the message (the codec judges it).
    const zeroLed = Buffer.concat([NON_ESP_MARKER, IKE_MESSAGE]);
    await peer.send(zeroLed, a.ports.ike);
    const got = await a.inbox.next(2);
    expect(got.bytes.equals(zeroLed)).toBe(true);
    expect(got.remote).toEqual({ address: loopback, port: peer.port });
  });

  it.runIf(enabled)('counts NAT-keepalives and ESP on the NAT-T port without delivering them', async () => {
    const a = await transportOn(loopback);
    const peer = await rawPeer(loopback);
    await peer.send(NATT_KEEPALIVE, a.ports.natt);
    await peer.send(Buffer.from('c0ffee0100000001deadbeefdeadbeef', 'hex'), a.ports.natt); // SPI 0xc0ffee01, seq 1
    await peer.send(Buffer.concat([NON_ESP_MARKER, IKE_MESSAGE]), a.ports.natt);
    await until(() => a.transport.stats().datagramsIn === 3, 'three datagrams');
    expect(a.inbox.received).toHaveLength(1);
    expect(a.inbox.received[0]!.bytes.equals(IKE_MESSAGE)).toBe(true);
    expect(a.transport.stats()).toMatchObject({ keepalivesIn: 1, espOnNatt: 1, ikeIn: 1, drops: { 'natt-too-short': 0, 'natt-truncated-esp': 0 } });
    expect(a.drops).toEqual([]);
  });

  it.runIf(enabled)('drops and counts NAT-T datagrams that are neither keepalive, IKE nor ESP', async () => {
    const a = await transportOn(loopback);
    const peer = await rawPeer(loopback);
    await peer.send(Buffer.from([0x01, 0x02, 0x03]), a.ports.natt); // < 4 octets, not 0xFF
    await peer.send(Buffer.from([0x00]), a.ports.natt); // a lone zero is not a keepalive either
    await peer.send(Buffer.from('c0ffee0100', 'hex'), a.ports.natt); // non-zero SPI, no room for a sequence number
    await until(() => a.transport.stats().datagramsIn === 3, 'three datagrams');
    expect(a.inbox.received).toEqual([]);
    expect(a.transport.stats().drops).toEqual({ 'natt-too-short': 2, 'natt-truncated-esp': 1 });
    expect(a.drops.map((d) => d.reason)).toEqual(['natt-too-short', 'natt-too-short', 'natt-truncated-esp']);
    expect(a.drops[0]!.from).toEqual({ address: loopback, port: peer.port });
  });

  it.runIf(enabled)('sendRaw sends the keepalive octet without a marker and counts it', async () => {
    const a = await transportOn(loopback);
    const peer = await rawPeer(loopback);
    a.transport.sendRaw({ address: loopback, port: a.ports.natt }, { address: loopback, port: peer.port }, NATT_KEEPALIVE);
    expect((await peer.next()).equals(NATT_KEEPALIVE)).toBe(true);
    await until(() => a.transport.stats().keepalivesOut === 1, 'keepalive counted');
  });
});

describe('UdpTransport send failures never throw', () => {
  it('reports an unreachable destination through onError and counts it', async () => {
    const a = await transportOn('127.0.0.1');
    // A socket bound to loopback cannot reach a global address: the kernel refuses (EINVAL/ENETUNREACH).
    expect(() =>
      a.transport.send({ local: { address: '127.0.0.1', port: a.ports.ike }, remote: { address: '198.51.100.7', port: 500 }, bytes: IKE_MESSAGE }),
    ).not.toThrow();
    await until(() => a.errors.length === 1, 'the send error');
    expect(a.errors[0]!.code).toBe('send-failed');
    expect(a.errors[0]!.remote).toEqual({ address: '198.51.100.7', port: 500 });
    expect(a.transport.stats()).toMatchObject({ sendErrors: 1, datagramsOut: 0 });
  });

  it('refuses names, bad ports, the wrong family, unbound local endpoints and a closed transport', async () => {
    const a = await transportOn('127.0.0.1');
    const local = { address: '127.0.0.1', port: a.ports.ike };
    const cases: [Endpoint, Endpoint, string][] = [
      [local, { address: 'peer.example', port: 500 }, 'invalid-address'],
      [local, { address: '192.0.2.1', port: 0 }, 'invalid-address'],
      [local, { address: '192.0.2.1', port: 70000 }, 'invalid-address'],
      [local, { address: '2001:db8::1', port: 500 }, 'family-mismatch'],
      [{ address: '127.0.0.2', port: a.ports.ike }, { address: '127.0.0.1', port: 500 }, 'no-socket'],
      [{ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 500 }, 'no-socket'],
    ];
    for (const [from, to] of cases) expect(() => a.transport.send({ local: from, remote: to, bytes: IKE_MESSAGE })).not.toThrow();
    expect(a.errors.map((e) => e.code)).toEqual(cases.map((c) => c[2]));
    await a.transport.close();
    expect(() => a.transport.send({ local, remote: { address: '127.0.0.1', port: 500 }, bytes: IKE_MESSAGE })).not.toThrow();
    expect(a.errors.at(-1)?.code).toBe('closed');
    expect(a.transport.stats().sendErrors).toBe(cases.length + 1);
  });

  it('survives an onDatagram that throws', async () => {
    const errors: TransportError[] = [];
    let calls = 0;
    const a = await UdpTransport.open({
      addresses: ['127.0.0.1'],
      ikePort: 0,
      nattPort: 0,
      onDatagram: () => {
        calls++;
        throw new Error('machine bug');
      },
      onError: (e) => errors.push(e),
    });
    opened.push(a);
    const peer = await rawPeer('127.0.0.1');
    await peer.send(IKE_MESSAGE, a.localPorts().ike);
    await peer.send(IKE_MESSAGE, a.localPorts().ike);
    await until(() => calls === 2, 'both deliveries');
    expect(errors.map((e) => e.code)).toEqual(['handler-error', 'handler-error']);
    expect(a.stats().handlerErrors).toBe(2);
  });
});

describe('UdpTransport binding', () => {
  it('asks for a receive buffer that holds a flood burst (4 MiB), as much as net.core.rmem_max allows', async () => {
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    // Linux grants min(asked, rmem_max) and reports twice that (its bookkeeping share).
    const { transport } = await transportOn('127.0.0.1');
    expect(transport.receiveBufferBytes()).toBe(2 * Math.min(RECEIVE_BUFFER_BYTES, rmemMax));
    const small = await transportOn('127.0.0.1', { receiveBufferBytes: 64 * 1024 });
    expect(small.transport.receiveBufferBytes()).toBe(2 * Math.min(64 * 1024, rmemMax));
  });

  it('binds 0.0.0.0 and :: side by side and reports the configured default local address', async () => {
    const addresses = ipv6 ? ['0.0.0.0', '::'] : ['0.0.0.0'];
    const a = await transportOn('0.0.0.0', { addresses, defaultLocalAddresses: { IPv4: '127.0.0.1' } });
    expect(a.transport.boundEndpoints().map((e) => e.address)).toEqual(addresses.flatMap((x) => [x, x]));
    // one IKE port and one NAT-T port for all addresses, even when asked for port 0
    expect(new Set(a.transport.boundEndpoints().filter((e) => e.role === 'ike').map((e) => e.port))).toEqual(new Set([a.ports.ike]));
    // what a kernel backend sets its socket options on: each socket with its family and role
    expect(a.transport.boundSockets()).toEqual(
      addresses.flatMap((address) => {
        const family = address.includes(':') ? 'IPv6' : 'IPv4';
        return [
          { role: 'ike', family, address, port: a.ports.ike },
          { role: 'natt', family, address, port: a.ports.natt },
        ];
      }),
    );
    const peer = await rawPeer('127.0.0.1');
    await peer.send(IKE_MESSAGE, a.ports.ike);
    const got = await a.inbox.next();
    expect(got.local).toEqual({ address: '127.0.0.1', port: a.ports.ike });
    // the wildcard socket serves the default address when answering
    a.transport.send({ local: got.local, remote: got.remote, bytes: IKE_MESSAGE });
    expect((await peer.next()).equals(IKE_MESSAGE)).toBe(true);
    if (ipv6) {
      const peer6 = await rawPeer('::1');
      await peer6.send(IKE_MESSAGE, a.ports.ike);
      // no default configured for IPv6: the wildcard itself is reported (Node cannot see the destination address)
      expect((await a.inbox.next(2)).local).toEqual({ address: '::', port: a.ports.ike });
    }
  });

  it('rejects a port already in use and releases what it had bound', async () => {
    const a = await transportOn('127.0.0.1');
    await expect(UdpTransport.open({ addresses: ['127.0.0.1'], ikePort: 0, nattPort: a.ports.natt, onDatagram: () => {} })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    // The IKE socket that did bind was closed again: a second attempt with the same request fails the same way, not differently.
    await expect(UdpTransport.open({ addresses: ['127.0.0.1'], ikePort: 0, nattPort: a.ports.natt, onDatagram: () => {} })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });

  it('validates its options', async () => {
    const onDatagram = (): void => {};
    await expect(UdpTransport.open({ addresses: [], onDatagram })).rejects.toThrow(/at least one/);
    await expect(UdpTransport.open({ addresses: ['localhost'], onDatagram })).rejects.toThrow(/not an IP address/);
    await expect(UdpTransport.open({ addresses: ['127.0.0.1'], ikePort: 4500, nattPort: 4500, onDatagram })).rejects.toThrow(/must differ/);
    await expect(UdpTransport.open({ addresses: ['127.0.0.1', '127.0.0.1'], ikePort: 0, nattPort: 0, onDatagram })).rejects.toThrow(/twice/);
    await expect(
      UdpTransport.open({ addresses: ['0.0.0.0'], ikePort: 0, nattPort: 0, defaultLocalAddresses: { IPv4: '::1' }, onDatagram }),
    ).rejects.toThrow(/not IPv4/);
  });

  it('binds configured unprivileged ports', async () => {
    for (let attempt = 1; ; attempt++) {
      const base = 15000 + Math.floor(Math.random() * 20000);
      try {
        const a = await transportOn('127.0.0.1', { ikePort: base, nattPort: base + 1 });
        expect(a.transport.localPorts()).toEqual({ ike: base, natt: base + 1 });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 5) throw error;
      }
    }
  });
});
