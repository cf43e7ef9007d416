/** Helpers for transport tests: raw peer sockets, waiting for a condition, loopback IPv6 detection. */
import { createSocket, type Socket } from 'node:dgram';
import type { Datagram } from '../../src/ports.js';

/** Polls until `condition()` holds (datagrams on loopback arrive asynchronously). */
export async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Collects delivered datagrams; `next()` resolves with the next one. */
export class Inbox {
  readonly received: Datagram[] = [];
  readonly deliver = (datagram: Datagram): void => {
    this.received.push(datagram);
  };

  async next(count = 1): Promise<Datagram> {
    await until(() => this.received.length >= count, `datagram #${count}`);
    return this.received[count - 1]!;
  }
}

/** A plain UDP socket standing in for a peer whose bytes we want to see exactly. */
export class RawPeer {
  readonly received: Buffer[] = [];
  private constructor(
    readonly socket: Socket,
    readonly address: string,
    readonly port: number,
  ) {
    socket.on('message', (message) => this.received.push(message));
  }

  static async open(address: string): Promise<RawPeer> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, address, () => resolve());
    });
    return new RawPeer(socket, address, socket.address().port);
  }

  send(bytes: Buffer, port: number, address = this.address): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, port, address, (error) => (error ? reject(error) : resolve())));
  }

  async next(count = 1): Promise<Buffer> {
    await until(() => this.received.length >= count, `raw datagram #${count}`);
    return this.received[count - 1]!;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** True when ::1 can be bound here (containers often run without IPv6). */
export async function hasLoopbackIpv6(): Promise<boolean> {
  try {
    const peer = await RawPeer.open('::1');
    await peer.close();
    return true;
  } catch {
    return false;
  }
}
