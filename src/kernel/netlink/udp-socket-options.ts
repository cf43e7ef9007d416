/**
 * Socket options the XFRM backend sets on ikekm's own UDP sockets, which Node's dgram cannot:
 *
 * - UDP_ENCAP = UDP_ENCAP_ESPINUDP on the NAT-T socket (linux/udp.h, RFC 3948): the kernel then
 *   takes ESP-in-UDP datagrams (those without the non-ESP marker) off the socket and decrypts
 *   them; IKE messages behind the marker still reach us.
 * - IP_XFRM_POLICY / IPV6_XFRM_POLICY (linux/in.h, linux/in6.h) with a policy that bypasses
 *   IPsec, one per direction: IKE between two gateways must never be caught by a tunnel policy
 *   that covers the gateways' own addresses.
 *
 * Node does not expose a dgram socket's file descriptor; on Linux it is found by the socket's
 * inode: /proc/self/net/udp{,6} lists each bound socket with its local address, port and inode,
 * and /proc/self/fd links each descriptor to `socket:[inode]`.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { parseIp } from '../../wire/ip-address.js';
import { libc } from './libc.js';
import { NetlinkSocketError } from './netlink-socket.js';

const SOL_UDP = 17;
const UDP_ENCAP = 100;
const UDP_ENCAP_ESPINUDP = 2;
const IPPROTO_IP = 0;
const IP_XFRM_POLICY = 17;
const IPPROTO_IPV6 = 41;
const IPV6_XFRM_POLICY = 35;

export interface UdpSocketAddress {
  readonly family: 'IPv4' | 'IPv6';
  /** The address the socket is bound to (a wildcard included). */
  readonly address: string;
  readonly port: number;
}

/** /proc's rendering of a local address: the 32-bit words of the address in host (little-endian) order. */
function procAddress(address: string): string | undefined {
  const octets = parseIp(address);
  if (octets === undefined) return undefined;
  let hex = '';
  for (let i = 0; i < octets.length; i += 4) hex += octets.readUInt32LE(i).toString(16).toUpperCase().padStart(8, '0');
  return hex;
}

/** The file descriptor of this process's UDP socket bound to `socket`, or undefined. */
export function udpSocketFd(socket: UdpSocketAddress): number | undefined {
  const table = readFileSync(socket.family === 'IPv6' ? '/proc/self/net/udp6' : '/proc/self/net/udp', 'utf8');
  const wanted = `${procAddress(socket.address)}:${socket.port.toString(16).toUpperCase().padStart(4, '0')}`;
  const line = table.split('\n').find((l) => l.trim().split(/\s+/)[1] === wanted);
  const inode = line?.trim().split(/\s+/)[9];
  if (inode === undefined) return undefined;
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === `socket:[${inode}]`) return Number(name);
    } catch {
      // A descriptor closed while we looked.
    }
  }
  return undefined;
}

function set(fd: number, level: number, name: number, value: Buffer, what: string): void {
  const c = libc();
  if (c.setsockopt(fd, level, name, value) < 0) throw new NetlinkSocketError(`setsockopt(${what})`, c.errno());
}

/** The kernel takes ESP-in-UDP off this (NAT-T) socket. */
export function setEspInUdp(fd: number): void {
  const value = Buffer.alloc(4);
  value.writeInt32LE(UDP_ENCAP_ESPINUDP);
  set(fd, SOL_UDP, UDP_ENCAP, value, 'UDP_ENCAP');
}

/** A per-socket XFRM policy (an xfrm_userpolicy_info, from the XFRM codec). */
export function setSocketPolicy(fd: number, family: 'IPv4' | 'IPv6', policy: Buffer): void {
  if (family === 'IPv6') set(fd, IPPROTO_IPV6, IPV6_XFRM_POLICY, policy, 'IPV6_XFRM_POLICY');
  else set(fd, IPPROTO_IP, IP_XFRM_POLICY, policy, 'IP_XFRM_POLICY');
}
