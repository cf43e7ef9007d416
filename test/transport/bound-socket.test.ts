import { describe, expect, it } from 'vitest';
import { familyOf, isWildcard, sameAddress, socketFor, type BoundSocket } from '../../src/transport/bound-socket.js';

const fake = (role: BoundSocket['role'], address: string, port: number): BoundSocket => ({
  role,
  address,
  port,
  family: familyOf(address)!,
  socket: undefined as never, // socketFor only reads the address, port and family
});

describe('socketFor', () => {
  const sockets = [fake('ike', '0.0.0.0', 500), fake('natt', '0.0.0.0', 4500), fake('ike', '192.0.2.2', 500), fake('ike', '::', 500), fake('natt', '2001:db8::2', 4500)];

  it('prefers the socket bound exactly to the local address', () => {
    expect(socketFor(sockets, { address: '192.0.2.2', port: 500 })?.address).toBe('192.0.2.2');
  });

  it('falls back to the wildcard socket of the same family and port', () => {
    expect(socketFor(sockets, { address: '192.0.2.9', port: 500 })?.address).toBe('0.0.0.0');
    expect(socketFor(sockets, { address: '192.0.2.9', port: 4500 })?.role).toBe('natt');
    expect(socketFor(sockets, { address: '2001:db8::7', port: 500 })?.address).toBe('::');
  });

  it('compares IPv6 addresses as octets', () => {
    expect(socketFor(sockets, { address: '2001:0db8:0:0:0:0:0:2', port: 4500 })?.address).toBe('2001:db8::2');
    expect(sameAddress('::1', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(isWildcard('0:0:0:0:0:0:0:0')).toBe(true);
  });

  it('finds nothing for another port, another family without a wildcard, or a name', () => {
    expect(socketFor(sockets, { address: '192.0.2.2', port: 501 })).toBeUndefined();
    expect(socketFor(sockets, { address: '2001:db8::7', port: 4500 })).toBeUndefined();
    expect(socketFor(sockets, { address: 'host.example', port: 500 })).toBeUndefined();
  });
});
