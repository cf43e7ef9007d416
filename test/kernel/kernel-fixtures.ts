/** KernelSa / KernelPolicy builders shared by the kernel backend tests. */
import type { KernelPolicy, KernelSa } from '../../src/kernel/kernel-port.js';
import { EncrId, IntegId } from '../../src/wire/iana.js';

export const GCM_KEY = Buffer.from('000102030405060708090a0b0c0d0e0f' + 'cafebabe', 'hex'); // AES-128 key || salt (RFC 4106 8.1)
export const CBC_KEY = Buffer.alloc(32, 0x11);
export const SHA256_KEY = Buffer.alloc(32, 0x22);

export function gcmSa(overrides: Partial<KernelSa> = {}): KernelSa {
  return {
    connection: 'home',
    direction: 'out',
    protocol: 'esp',
    spi: 0xc0ffee01,
    source: '192.0.2.1',
    destination: '198.51.100.2',
    mode: 'tunnel',
    encryption: { id: EncrId.ENCR_AES_GCM_16, keyLengthBits: 128, key: GCM_KEY },
    esn: false,
    reqid: 1,
    ...overrides,
  };
}

export function cbcSa(overrides: Partial<KernelSa> = {}): KernelSa {
  return gcmSa({
    encryption: { id: EncrId.ENCR_AES_CBC, keyLengthBits: 256, key: CBC_KEY },
    integrity: { id: IntegId.AUTH_HMAC_SHA2_256_128, key: SHA256_KEY },
    ...overrides,
  });
}

export function policy(overrides: Partial<KernelPolicy> = {}): KernelPolicy {
  return {
    connection: 'home',
    direction: 'out',
    local: { ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: '10.1.0.0', endAddress: '10.1.255.255' },
    remote: { ipProtocol: 0, startPort: 0, endPort: 65535, startAddress: '10.2.0.0', endAddress: '10.2.255.255' },
    mode: 'tunnel',
    tunnelSource: '192.0.2.1',
    tunnelDestination: '198.51.100.2',
    reqid: 1,
    ...overrides,
  };
}
