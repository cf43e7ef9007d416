import { generateKeyPairSync } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { privateKeyHandle, secretBytes } from '../../src/config/model.js';

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

describe('privateKeyHandle', () => {
  it('keeps the key for the signing port and shows none of it through JSON or any inspection', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const handle = privateKeyHandle(privateKey);
    expect(handle.key).toBe(privateKey);
    const der = privateKey.export({ type: 'pkcs8', format: 'der' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().split('\n')[1]!;
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
    const config = { local: { privateKey: handle } };
    for (const text of [
      JSON.stringify(config),
      inspect(config, { depth: 10 }),
      inspect(config, { depth: 10, customInspect: false }),
      inspect(config, { depth: 10, customInspect: false, showHidden: true }),
    ]) {
      expect(text).not.toContain(pem);
      expect(text).not.toContain(der.toString('hex'));
      expect(text).not.toContain(d.toString('hex'));
      expect(text).not.toContain(d.toString('base64url'));
    }
    expect(JSON.stringify(config)).toBe('{"local":{"privateKey":"[redacted]"}}');
  });
});
