import { describe, expect, it } from 'vitest';
import { classifyNattDatagram, decodeMessage, encodeNattIke, NATT_KEEPALIVE } from '../../src/wire/index.js';
import { expectOk, expectParseError } from './expect-parse-error.js';
import { hex } from './hex.js';

const IKE = hex`0102030405060708 0000000000000000 00 20 22 08 00000000 0000001c`;

describe('NAT-T framing on UDP 4500 (RFC 3948)', () => {
  it('an IKE message follows the 4-octet non-ESP marker (2.2)', () => {
    const datagram = encodeNattIke(IKE);
    expect(datagram.subarray(0, 4)).toEqual(hex`00000000`);
    const c = expectOk(classifyNattDatagram(datagram));
    expect(c.kind).toBe('ike');
    if (c.kind === 'ike') {
      expect(c.message.equals(IKE)).toBe(true);
      expectOk(decodeMessage(c.message));
    }
  });

  it('a single 0xFF octet is a NAT-keepalive (2.3)', () => {
    expect(expectOk(classifyNattDatagram(NATT_KEEPALIVE))).toEqual({ kind: 'keepalive' });
  });

  it('a non-zero SPI starts ESP (2.1)', () => {
    expect(expectOk(classifyNattDatagram(hex`c0ffee01 00000001 aabbccdd`))).toEqual({ kind: 'esp' });
  });

  it('a bare marker is IKE with an empty message, which decodeMessage then rejects', () => {
    const c = expectOk(classifyNattDatagram(hex`00000000`));
    expect(c).toEqual({ kind: 'ike', message: Buffer.alloc(0) });
  });

  it('anything else is bad-natt-datagram', () => {
    expectParseError(classifyNattDatagram(hex``), { code: 'bad-natt-datagram', offset: 0, payloadType: undefined });
    expectParseError(classifyNattDatagram(hex`fe`), { code: 'bad-natt-datagram', offset: 0, payloadType: undefined });
    expectParseError(classifyNattDatagram(hex`ffff`), { code: 'bad-natt-datagram', offset: 0, payloadType: undefined });
    expectParseError(classifyNattDatagram(hex`c0ffee01 00`), { code: 'bad-natt-datagram', offset: 0, payloadType: undefined });
  });
});
