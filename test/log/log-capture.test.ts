import { describe, expect, it } from 'vitest';
import { assertNoSecrets, captureLogs, findSecrets } from '../support/log-capture.js';

const PSK = 'correct horse battery staple';
const KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

describe('log capture and the secret scanner', () => {
  it('captures parsed JSON lines', () => {
    const { logger, lines, text } = captureLogs();
    logger.debug({ connection: 'home' }, 'one');
    logger.info({}, 'two');
    expect(lines().map((l) => [l.level, l.msg, l.connection])).toEqual([
      [20, 'one', 'home'],
      [30, 'two', undefined],
    ]);
    expect(text()).toHaveLength(2);
  });

  it('finds a planted secret as text and JSON-escaped text', () => {
    expect(findSecrets([`{"x":"${PSK}"}`], [PSK])).toEqual([{ secretIndex: 0, encoding: 'text', lineIndex: 0 }]);
    const quoted = 'say "hi" \\ bye';
    expect(findSecrets([JSON.stringify({ x: quoted })], [quoted]).map((f) => f.encoding)).toEqual(['json-text']);
  });

  it('finds a planted secret in lower and upper case hex', () => {
    expect(findSecrets([{ x: KEY.toString('hex') }], [KEY]).map((f) => f.encoding)).toEqual(['hex']);
    expect(findSecrets([{ x: `0x${KEY.toString('hex').toUpperCase()}` }], [KEY]).map((f) => f.encoding)).toEqual(['HEX']);
    expect(findSecrets([{ x: Buffer.from(PSK).toString('hex') }], [PSK]).map((f) => f.encoding)).toEqual(['hex']);
  });

  it('finds a secret base64-encoded inside a longer value, at every alignment', () => {
    for (let prefix = 0; prefix < 6; prefix++) {
      const carrier = Buffer.concat([Buffer.alloc(prefix, 0xee), KEY, Buffer.alloc(5, 0x11)]);
      for (const encoding of ['base64', 'base64url'] as const) {
        const found = findSecrets([{ blob: carrier.toString(encoding) }], [KEY]).map((f) => f.encoding);
        expect(found, `prefix ${prefix}, ${encoding}`).toContain(encoding);
      }
    }
    expect(findSecrets([{ blob: Buffer.from(PSK).toString('base64') }], [PSK]).map((f) => f.encoding)).toContain('base64');
  });

  it('finds a raw Buffer as pino would have serialized it without the safety net', () => {
    expect(findSecrets([JSON.stringify({ key: KEY })], [KEY]).map((f) => f.encoding)).toEqual(['decimal-octets']);
  });

  it('assertNoSecrets fails on a leak (naming the secret by index only) and passes on clean lines', () => {
    const leaky = [{ msg: 'ok' }, { msg: 'leak', v: KEY.toString('base64') }];
    expect(() => assertNoSecrets(leaky, [PSK, KEY])).toThrow(/secret #1 as base64 in line 1/);
    expect(() => assertNoSecrets(leaky, [PSK, KEY])).not.toThrow(new RegExp(KEY.toString('hex')));
    expect(() => assertNoSecrets([{ msg: 'ok' }, { spiI: '0011223344556677' }], [PSK, KEY])).not.toThrow();
  });

  it('refuses to scan for secrets too short to be evidence', () => {
    expect(() => findSecrets(['x'], ['abc'])).toThrow(RangeError);
  });
});
