import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ESP_SPI_LENGTH, espSpiBuffer, espSpiHex, espSpiNumber, ikeSpiHex, parseEspSpiHex } from '../../src/wire/index.js';
import { hex } from './hex.js';

const espSpi = fc.integer({ min: 0, max: 0xffffffff });

describe('IKE SPI text', () => {
  it('is the 8 octets as 16 lowercase hex digits, leading zeros kept', () => {
    expect(ikeSpiHex(hex`0011223344aabbcc`)).toBe('0011223344aabbcc');
    expect(ikeSpiHex(Buffer.alloc(8))).toBe('0000000000000000');
  });

  it('reads only the view it is given, not the rest of its buffer', () => {
    const backing = hex`ffff 0102030405060708 ffff`;
    expect(ikeSpiHex(new Uint8Array(backing.buffer, backing.byteOffset + 2, 8))).toBe('0102030405060708');
  });
});

describe('ESP SPI text and octets', () => {
  it('pads to 8 hex digits and 4 octets', () => {
    expect(espSpiHex(0x2000)).toBe('00002000');
    expect(espSpiHex(1)).toBe('00000001');
    expect(espSpiHex(0)).toBe('00000000');
    expect(espSpiBuffer(0x2000)).toEqual(hex`00002000`);
    expect(espSpiBuffer(0x2000)).toHaveLength(ESP_SPI_LENGTH);
  });

  it('keeps the top bit: 0xffffffff is ffffffff, not a negative number', () => {
    expect(espSpiHex(0xffffffff)).toBe('ffffffff');
    expect(espSpiBuffer(0xffffffff)).toEqual(hex`ffffffff`);
    expect(espSpiNumber(hex`ffffffff`)).toBe(0xffffffff);
    expect(espSpiNumber(hex`80000000`)).toBe(0x80000000);
    expect(parseEspSpiHex('ffffffff')).toBe(0xffffffff);
  });

  it('reads the wire octets big-endian (RFC 7296 3.3.1), from the view it is given', () => {
    expect(espSpiNumber(hex`c0ffee01`)).toBe(0xc0ffee01);
    const backing = hex`aa 00000102 bb`;
    expect(espSpiNumber(new Uint8Array(backing.buffer, backing.byteOffset + 1, 4))).toBe(0x102);
  });

  it('parses the forms strongSwan and Wireshark write: bare, 0x-prefixed, either case, unpadded', () => {
    expect(parseEspSpiHex('c0ffee01')).toBe(0xc0ffee01);
    expect(parseEspSpiHex('0xC0FFEE01')).toBe(0xc0ffee01);
    expect(parseEspSpiHex('0x2000')).toBe(0x2000);
    expect(parseEspSpiHex('00002000')).toBe(0x2000);
  });

  it('refuses what is not an ESP SPI', () => {
    for (const text of ['', '0x', 'c0ffee0100', 'xyz', ' c0ffee01', '-1', '1.5']) expect(() => parseEspSpiHex(text), text).toThrow(RangeError);
    for (const spi of [-1, 0x100000000, 1.5, Number.NaN]) {
      expect(() => espSpiHex(spi), String(spi)).toThrow(RangeError);
      expect(() => espSpiBuffer(spi), String(spi)).toThrow(RangeError);
    }
    expect(() => espSpiNumber(hex`010203`)).toThrow(RangeError);
    expect(() => espSpiNumber(hex`0102030405060708`)).toThrow(RangeError);
  });

  it('round-trips number → text → number and number → octets → number', () => {
    fc.assert(
      fc.property(espSpi, (spi) => {
        const text = espSpiHex(spi);
        expect(text).toMatch(/^[0-9a-f]{8}$/);
        expect(parseEspSpiHex(text)).toBe(spi);
        expect(parseEspSpiHex(`0x${text}`)).toBe(spi);
        expect(espSpiNumber(espSpiBuffer(spi))).toBe(spi);
        expect(espSpiBuffer(spi).toString('hex')).toBe(text);
      }),
    );
  });
});
