/** An acquire's packet as the ports speak of it (kernel-port.ts KernelPacket), from the kernel's selector. */
import { describe, expect, it } from 'vitest';
import { acquiredPacket } from '../../src/kernel/xfrm-kernel.js';

const selector = { source: '198.51.100.1', destination: '203.0.113.1' };

describe('acquiredPacket', () => {
  it('ICMP and ICMPv6: the kernel\'s Type (source port) and Code (destination port) become one value, Type << 8 | Code (RFC 7296 3.13.1)', () => {
    expect(acquiredPacket({ ...selector, ipProtocol: 1, sourcePort: 8, destinationPort: 0 })).toEqual({ ...selector, ipProtocol: 1, sourcePort: 0x0800 });
    expect(acquiredPacket({ ...selector, ipProtocol: 1, sourcePort: 3, destinationPort: 4 })).toEqual({ ...selector, ipProtocol: 1, sourcePort: 0x0304 });
    expect(acquiredPacket({ source: '2001:db8:1::1', destination: '2001:db8:2::1', ipProtocol: 58, sourcePort: 128, destinationPort: 0 })).toMatchObject({ sourcePort: 0x8000 });
  });

  it('TCP and UDP keep their ports; a protocol without ports has none', () => {
    expect(acquiredPacket({ ...selector, ipProtocol: 6, sourcePort: 40000, destinationPort: 443 })).toEqual({ ...selector, ipProtocol: 6, sourcePort: 40000, destinationPort: 443 });
    expect(acquiredPacket({ ...selector, ipProtocol: 47, sourcePort: 0, destinationPort: 0 })).toEqual({ ...selector, ipProtocol: 47 });
  });
});
