/**
 * Socket options on ikekm's own UDP sockets: the descriptor of a Node dgram socket is found
 * through /proc, and UDP_ENCAP_ESPINUDP on it makes the kernel take ESP-in-UDP datagrams off the
 * socket while IKE messages behind the non-ESP marker still arrive (RFC 3948 2.2). Without the
 * option both arrive: the control that shows the test can fail.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { setEspInUdp, udpSocketFd } from '../../../src/kernel/netlink/udp-socket-options.js';

async function bound(type: 'udp4' | 'udp6', address: string): Promise<{ socket: dgram.Socket; port: number }> {
  const socket = dgram.createSocket({ type, ipv6Only: type === 'udp6' });
  await new Promise<void>((resolve) => socket.bind({ address, port: 0 }, () => resolve()));
  return { socket, port: socket.address().port };
}

/** What reaches the socket of two datagrams sent to it: ESP-shaped (an SPI first), then IKE behind the marker. */
async function delivered(type: 'udp4' | 'udp6', address: string, espInUdp: boolean): Promise<string[]> {
  const { socket, port } = await bound(type, address);
  const family = type === 'udp6' ? 'IPv6' : 'IPv4';
  const fd = udpSocketFd({ family, address, port });
  expect(fd).toBeGreaterThan(2);
  if (espInUdp) setEspInUdp(fd!);
  const got: string[] = [];
  socket.on('message', (m) => got.push(m.subarray(0, 4).toString('hex')));
  const sender = dgram.createSocket(type);
  const esp = Buffer.concat([Buffer.from('11223344', 'hex'), Buffer.alloc(4), Buffer.alloc(40, 7)]);
  const ike = Buffer.concat([Buffer.alloc(4), Buffer.alloc(28, 9)]);
  await new Promise<void>((resolve) => sender.send(esp, port, address, () => resolve()));
  await new Promise<void>((resolve) => sender.send(ike, port, address, () => resolve()));
  await new Promise((resolve) => setTimeout(resolve, 200));
  sender.close();
  socket.close();
  return got;
}

describe('UDP socket options', () => {
  it.each([
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)('%s %s: with UDP_ENCAP_ESPINUDP the kernel takes ESP, IKE behind the marker still arrives', async (type, address) => {
    expect(await delivered(type, address, true)).toEqual(['00000000']);
  });

  it('without the option both datagrams reach the socket', async () => {
    expect(await delivered('udp4', '127.0.0.1', false)).toEqual(['11223344', '00000000']);
  });

  it('no descriptor for a port nothing is bound to', () => {
    expect(udpSocketFd({ family: 'IPv4', address: '127.0.0.1', port: 9 })).toBeUndefined();
  });
});
