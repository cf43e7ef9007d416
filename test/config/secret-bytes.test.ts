import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { secretBytes } from '../../src/config/model.js';

const PSK = 'correct horse battery staple';
const hex = Buffer.from(PSK).toString('hex');

describe('secretBytes', () => {
  it('keeps the octets for the engine', () => {
    expect(secretBytes(PSK).bytes.toString('utf8')).toBe(PSK);
    expect(secretBytes(Buffer.from(PSK)).bytes.equals(Buffer.from(PSK))).toBe(true);
  });

  it('shows no octets through JSON, util.inspect, or console.dir-style inspection (customInspect off)', () => {
    const config = { local: { psk: secretBytes(PSK) } };
    const renderings = [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      // console.dir inspects with customInspect: false; showHidden lists non-enumerable own properties.
      inspect(config, { depth: 10, customInspect: false }),
      inspect(config, { depth: 10, customInspect: false, showHidden: true }),
      String(Object.keys(config.local.psk)),
    ];
    for (const text of renderings) {
      expect(text).not.toContain(PSK);
      expect(text).not.toContain(hex);
      expect(text).not.toMatch(/\b99, 111, 114\b/); // 'c','o','r' as a Buffer's byte list
    }
  });

  it('cannot be altered after creation', () => {
    const s = secretBytes(PSK) as unknown as { bytes: Buffer };
    expect(() => {
      s.bytes = Buffer.from('other');
    }).toThrow(TypeError);
  });
});
