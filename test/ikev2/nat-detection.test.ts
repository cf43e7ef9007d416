import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { detectNat, natDetectionHash } from '../../src/ikev2/nat-detection.js';

const SPIi = Buffer.from('5f54bf6d8b48e6e1', 'hex');
const ZERO = Buffer.alloc(8);
const SPIr = Buffer.from('a1b2c3d4e5f60718', 'hex');

/** RFC 7296 2.23, written out independently: SHA-1(SPIi | SPIr | IP | Port). */
function reference(spiI: Buffer, spiR: Buffer, ip: number[], port: number): Buffer {
  return createHash('sha1')
    .update(Buffer.concat([spiI, spiR, Buffer.from(ip), Buffer.from([port >> 8, port & 0xff])]))
    .digest();
}

describe('natDetectionHash', () => {
  it('matches the captured value in AOSP IkeNotifyPayloadTest', () => {
    // android packages/modules/IPsec, tests/iketests/.../message/IkeNotifyPayloadTest.java,
    // testGenerateNatDetectionData: SPIi 5f54bf6d8b48e6e1, SPIr 0 (IKE_SA_INIT request),
    // 10.80.80.13 port 500 → NAT_DETECTION data e54f73b7d83f6beb881eab2051d8663f421d10b0.
    expect(natDetectionHash(SPIi, ZERO, '10.80.80.13', 500).toString('hex')).toBe('e54f73b7d83f6beb881eab2051d8663f421d10b0');
  });

  it('is the RFC formula for IPv4 (4 octets) and IPv6 (16 octets), port in network order', () => {
    expect(natDetectionHash(SPIi, SPIr, '192.0.2.1', 4500)).toEqual(reference(SPIi, SPIr, [192, 0, 2, 1], 4500));
    const v6 = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 0x01];
    expect(natDetectionHash(SPIi, SPIr, '2001:db8::1', 500)).toEqual(reference(SPIi, SPIr, v6, 500));
    expect(natDetectionHash(SPIi, SPIr, '192.0.2.1', 500)).toHaveLength(20);
  });

  it('depends on every input', () => {
    const base = natDetectionHash(SPIi, SPIr, '192.0.2.1', 500);
    expect(natDetectionHash(SPIi, ZERO, '192.0.2.1', 500)).not.toEqual(base);
    expect(natDetectionHash(SPIr, SPIi, '192.0.2.1', 500)).not.toEqual(base);
    expect(natDetectionHash(SPIi, SPIr, '192.0.2.2', 500)).not.toEqual(base);
    expect(natDetectionHash(SPIi, SPIr, '192.0.2.1', 4500)).not.toEqual(base);
  });

  it('refuses text that is not an address, and bad ports', () => {
    expect(() => natDetectionHash(SPIi, SPIr, 'example.org', 500)).toThrow(RangeError);
    expect(() => natDetectionHash(SPIi, SPIr, '192.0.2.1', 65536)).toThrow(RangeError);
  });
});

describe('detectNat (RFC 7296 2.23)', () => {
  // We are the responder at 192.0.2.1:500; the initiator's packet arrives from 198.51.100.7:500.
  const local = { address: '192.0.2.1', port: 500 };
  const remote = { address: '198.51.100.7', port: 500 };
  // What the peer computed: its own source as it knows it, and our address as it sent to.
  const honestSource = reference(SPIi, ZERO, [198, 51, 100, 7], 500);
  const honestDestination = reference(SPIi, ZERO, [192, 0, 2, 1], 500);
  // Behind a NAT the peer knows only its private address; in front of ours it sent to our public one.
  const privateSource = reference(SPIi, ZERO, [10, 0, 0, 2], 500);
  const publicDestination = reference(SPIi, ZERO, [203, 0, 113, 9], 500);

  it.each([
    ['no NAT', honestSource, honestDestination, false, false],
    ['peer behind NAT', privateSource, honestDestination, false, true],
    ['we are behind NAT', honestSource, publicDestination, true, false],
    ['both behind NAT', privateSource, publicDestination, true, true],
  ])('%s', (_name, source, destination, localBehindNat, remoteBehindNat) => {
    expect(detectNat({ SPIi, SPIr: ZERO, local, remote, sourceHashes: [source], destinationHash: destination })).toEqual({
      localBehindNat,
      remoteBehindNat,
    });
  });

  it('takes any of several NAT_DETECTION_SOURCE_IP values (a multi-homed peer)', () => {
    const r = detectNat({ SPIi, SPIr: ZERO, local, remote, sourceHashes: [privateSource, honestSource], destinationHash: honestDestination });
    expect(r.remoteBehindNat).toBe(false);
  });

  it('detects nothing when the peer sent no NAT detection payloads', () => {
    expect(detectNat({ SPIi, SPIr: ZERO, local, remote, sourceHashes: [] })).toEqual({ localBehindNat: false, remoteBehindNat: false });
  });

  it('hashes the SPIs as given: a response hashed with SPIr does not match one computed with zero', () => {
    const withSpiR = reference(SPIi, SPIr, [198, 51, 100, 7], 500);
    expect(detectNat({ SPIi, SPIr, local, remote, sourceHashes: [withSpiR] }).remoteBehindNat).toBe(false);
    expect(detectNat({ SPIi, SPIr: ZERO, local, remote, sourceHashes: [withSpiR] }).remoteBehindNat).toBe(true);
  });

  it('sees a port change (NAPT) as a NAT', () => {
    const r = detectNat({ SPIi, SPIr: ZERO, local, remote: { address: '198.51.100.7', port: 31337 }, sourceHashes: [honestSource] });
    expect(r.remoteBehindNat).toBe(true);
  });
});
