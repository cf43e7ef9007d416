/**
 * ikekm's kernel objects as XFRM specs: algorithm names and truncations (RFC 4106, RFC 7634,
 * RFC 3602 with RFC 2404 / RFC 4868 / RFC 3566), selector ranges as prefixes and port masks, and
 * priorities that prefer the more specific selector.
 */
import { describe, expect, it } from 'vitest';
import { isKernelError } from '../../src/kernel/kernel-error.js';
import type { KernelPolicy, KernelSa } from '../../src/kernel/kernel-port.js';
import { coveringPrefix, policyPriority, policySpec, portMask, saSpec, selectorSpec } from '../../src/kernel/xfrm-specs.js';
import { EncrId, IntegId } from '../../src/wire/index.js';

const sa = (o: Partial<KernelSa> = {}): KernelSa => ({
  connection: 'lab',
  direction: 'in',
  protocol: 'esp',
  spi: 0xc0000001,
  source: '192.0.2.2',
  destination: '192.0.2.1',
  mode: 'tunnel',
  encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128, key: Buffer.alloc(20, 1) },
  esn: false,
  reqid: 0x4b4d0001,
  ...o,
});

const range = (start: string, end: string, ports: [number, number] = [0, 65535], ipProtocol = 0) => ({ ipProtocol, startPort: ports[0], endPort: ports[1], startAddress: start, endAddress: end });

describe('SA specs', () => {
  it('AES-GCM-16: rfc4106(gcm(aes)) with the salt in the key, a 128-bit ICV, anti-replay inbound only', () => {
    expect(saSpec(sa())).toMatchObject({ family: 4, encryption: { algorithm: 'rfc4106(gcm(aes))', icvBits: 128 }, replayWindow: 32, limits: {} });
    expect(saSpec(sa({ direction: 'out' })).replayWindow).toBe(0);
    expect(saSpec(sa()).integrity).toBeUndefined();
  });

  it('ChaCha20-Poly1305: rfc7539esp(chacha20,poly1305)', () => {
    expect(saSpec(sa({ encryption: { id: EncrId.ENCR_CHACHA20_POLY1305, key: Buffer.alloc(36) } })).encryption).toMatchObject({ algorithm: 'rfc7539esp(chacha20,poly1305)', icvBits: 128 });
  });

  it.each([
    [IntegId.AUTH_HMAC_SHA1_96, 'hmac(sha1)', 96],
    [IntegId.AUTH_AES_XCBC_96, 'xcbc(aes)', 96],
    [IntegId.AUTH_HMAC_SHA2_256_128, 'hmac(sha256)', 128],
    [IntegId.AUTH_HMAC_SHA2_384_192, 'hmac(sha384)', 192],
    [IntegId.AUTH_HMAC_SHA2_512_256, 'hmac(sha512)', 256],
  ] as const)('AES-CBC with integrity %i: %s truncated to %i bits', (id, algorithm, bits) => {
    const spec = saSpec(sa({ encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 256, key: Buffer.alloc(32) }, integrity: { id, key: Buffer.alloc(32) } }));
    expect(spec.encryption.algorithm).toBe('cbc(aes)');
    expect(spec.integrity).toMatchObject({ algorithm, truncationBits: bits });
  });

  it('an outbound SA with ESN has a replay window too: Linux refuses ESN without one, whichever the direction', () => {
    expect(saSpec(sa({ direction: 'out', esn: true })).replayWindow).toBe(32);
    expect(saSpec(sa({ direction: 'in', esn: true })).replayWindow).toBe(32);
  });

  it('NAT-T encapsulation, ESN and byte limits pass through', () => {
    const spec = saSpec(sa({ encapsulation: { sourcePort: 4500, destinationPort: 4501 }, esn: true, softBytes: 1000, hardBytes: 2000 }));
    expect(spec).toMatchObject({ esn: true, encapsulation: { type: 'espinudp', sourcePort: 4500, destinationPort: 4501 }, limits: { softBytes: 1000, hardBytes: 2000 } });
  });

  it('a transform XFRM has no name for is refused, naming it', () => {
    let error: unknown;
    try {
      saSpec(sa({ encryption: { id: EncrId.ENCR_3DES, key: Buffer.alloc(24) } }));
    } catch (e) {
      error = e;
    }
    expect(isKernelError(error, 'invalid')).toBe(true);
    expect((error as Error).message).toContain(`transform ${EncrId.ENCR_3DES}`);
  });
});

describe('selectors', () => {
  it('a CIDR block is its prefix; another range widens to the smallest covering block', () => {
    expect(coveringPrefix('198.51.100.0', '198.51.100.255')).toEqual({ address: '198.51.100.0', length: 24 });
    expect(coveringPrefix('198.51.100.7', '198.51.100.7')).toEqual({ address: '198.51.100.7', length: 32 });
    expect(coveringPrefix('10.0.0.1', '10.0.0.5')).toEqual({ address: '10.0.0.1', length: 29 });
    expect(coveringPrefix('2001:db8::', '2001:db8::ffff')).toEqual({ address: '2001:db8::', length: 112 });
    expect(coveringPrefix('0.0.0.0', '255.255.255.255').length).toBe(0);
  });

  it('ports: any, one port exactly, or the covering aligned block', () => {
    expect(portMask(0, 65535)).toEqual({ port: 0, mask: 0 });
    expect(portMask(443, 443)).toEqual({ port: 443, mask: 0xffff });
    expect(portMask(1024, 2047)).toEqual({ port: 1024, mask: 0xfc00 });
  });

  it('out matches our side as source; in and fwd the peer side', () => {
    const local = range('198.51.100.0', '198.51.100.255');
    const remote = range('203.0.113.0', '203.0.113.255', [443, 443], 6);
    expect(selectorSpec('out', local, remote)).toMatchObject({ source: '198.51.100.0', destination: '203.0.113.0', destinationPort: 443, destinationPortMask: 0xffff, sourcePortMask: 0, ipProtocol: 0 });
    expect(selectorSpec('in', local, remote)).toMatchObject({ source: '203.0.113.0', sourcePort: 443, destination: '198.51.100.0' });
  });

  it('more specific selectors get a lower (preferred) priority', () => {
    const wide = selectorSpec('out', range('198.51.100.0', '198.51.100.255'), range('203.0.113.0', '203.0.113.255'));
    const host = selectorSpec('out', range('198.51.100.7', '198.51.100.7'), range('203.0.113.0', '203.0.113.255'));
    const port = selectorSpec('out', range('198.51.100.0', '198.51.100.255'), range('203.0.113.0', '203.0.113.255', [443, 443]));
    expect(policyPriority(host)).toBeLessThan(policyPriority(wide));
    expect(policyPriority(port)).toBeLessThan(policyPriority(wide));
  });

  it('a tunnel policy names its endpoints and reqid in the template; transport leaves the endpoints out', () => {
    const policy: KernelPolicy = {
      connection: 'lab',
      direction: 'fwd',
      local: range('198.51.100.0', '198.51.100.255'),
      remote: range('203.0.113.0', '203.0.113.255'),
      mode: 'tunnel',
      tunnelSource: '192.0.2.2',
      tunnelDestination: '192.0.2.1',
      reqid: 0x4b4d0001,
    };
    expect(policySpec(policy).templates).toEqual([{ family: 4, source: '192.0.2.2', destination: '192.0.2.1', protocol: 'esp', mode: 'tunnel', reqid: 0x4b4d0001 }]);
    expect(policySpec({ ...policy, mode: 'transport' }).templates).toEqual([{ family: 4, protocol: 'esp', mode: 'transport', reqid: 0x4b4d0001 }]);
  });
});
