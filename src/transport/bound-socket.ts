/**
 * One UDP socket of the transport and the rules for picking it. A socket has a role: `ike` (the
 * IKE port, 500, messages as they are) or `natt` (the NAT-T port, 4500, messages behind the
 * non-ESP marker, RFC 3948 2.2). The role, not the port number, decides the framing, so the
 * transport also works on ephemeral ports in tests.
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { parseIp } from '../wire/ip-address.js';

export type SocketRole = 'ike' | 'natt';
export type AddressFamily = 'IPv4' | 'IPv6';

export interface BoundSocket {
  readonly role: SocketRole;
  readonly family: AddressFamily;
  /** The address given to bind(): a specific address or a wildcard ('0.0.0.0', '::'). */
  readonly address: string;
  /** The actual port (differs from the requested one when 0 was requested). */
  readonly port: number;
  readonly socket: Socket;
}

/** IPv4 or IPv6 for an IP literal; undefined for anything else (host names included: we never resolve). */
export function familyOf(address: string): AddressFamily | undefined {
  const version = isIP(address);
  return version === 4 ? 'IPv4' : version === 6 ? 'IPv6' : undefined;
}

export function isWildcard(address: string): boolean {
  return parseIp(address)?.every((octet) => octet === 0) ?? false;
}

/** Compares addresses as octets, so '::1' and '0:0:0:0:0:0:0:1' are the same. */
export function sameAddress(a: string, b: string): boolean {
  const x = parseIp(a);
  const y = parseIp(b);
  return x !== undefined && y !== undefined && x.equals(y);
}

/**
 * The receive buffer asked for each socket (SO_RCVBUF; Linux caps it at net.core.rmem_max and
 * doubles it for its bookkeeping). Linux's default, 208 KiB, holds a few hundred IKE_SA_INITs:
 * under a flood a garbage collection or a burst of DH work outlasts that, and the kernel drops
 * what comes next, a configured peer's request among them. 4 MiB holds a few thousand.
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Binds one UDP socket. IPv6 sockets are ipv6Only so that '::' and '0.0.0.0' can both be bound
 * on the same port (otherwise Linux's dual-stack '::' would take the IPv4 port too).
 */
export function bindSocket(role: SocketRole, address: string, port: number, receiveBufferBytes = RECEIVE_BUFFER_BYTES): Promise<BoundSocket> {
  const family = familyOf(address);
  if (family === undefined) return Promise.reject(new TypeError(`not an IP address: ${JSON.stringify(address)}`));
  const socket = createSocket({ type: family === 'IPv6' ? 'udp6' : 'udp4', ipv6Only: family === 'IPv6', recvBufferSize: receiveBufferBytes });
  return new Promise((resolve, reject) => {
    const onBindError = (error: Error): void => {
      try {
        socket.close();
      } catch {
        // The failed bind already released the handle.
      }
      reject(error);
    };
    socket.once('error', onBindError);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', onBindError);
      resolve({ role, family, address, port: socket.address().port, socket });
    });
  });
}

/**
 * The socket to send from for a local endpoint: one bound exactly to that address and port, or a
 * wildcard-bound one of the same family on that port (it serves every local address). Exact
 * bindings win so a host bound to two specific addresses sends from the right one.
 */
export function socketFor(sockets: readonly BoundSocket[], local: { address: string; port: number }): BoundSocket | undefined {
  const family = familyOf(local.address);
  if (family === undefined) return undefined;
  const samePort = sockets.filter((s) => s.port === local.port && s.family === family);
  return samePort.find((s) => sameAddress(s.address, local.address)) ?? samePort.find((s) => isWildcard(s.address));
}

export function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}
