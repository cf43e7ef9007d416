import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { REDACTED, SECRET_FIELD_NAMES, secretRedactPaths } from '../../src/log/secret-fields.js';
import type { LogPort } from '../../src/ports.js';
import { assertNoSecrets, captureLogs, findSecrets } from '../support/log-capture.js';

const PSK = 'correct horse battery staple';
const SK_EI = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

/** `{ a: { b: { [name]: value } } }` with `depth` levels above the field. */
function nested(name: string, value: unknown, depth: number): Record<string, unknown> {
  let record: Record<string, unknown> = { [name]: value };
  for (let level = depth; level > 0; level--) record = { [`level${level}`]: record };
  return record;
}

function valueAt(record: unknown, name: string, depth: number): unknown {
  let at = record as Record<string, unknown>;
  for (let level = 1; level <= depth; level++) at = at[`level${level}`] as Record<string, unknown>;
  return at[name];
}

describe('secretRedactPaths: pino redact alone (first guard)', () => {
  const capturePlainPino = () => {
    let written = '';
    const logger = pino({ redact: { paths: secretRedactPaths(2), censor: REDACTED } }, { write: (s: string) => void (written += s) });
    return { logger, lines: () => written.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
  };

  it.each(SECRET_FIELD_NAMES.flatMap((name) => [0, 1, 2].map((depth) => ({ name, depth }))))('redacts $name at depth $depth', ({ name, depth }) => {
    const { logger, lines } = capturePlainPino();
    logger.info(nested(name, PSK, depth), 'event');
    const [line] = lines();
    expect(valueAt(line, name, depth)).toBe(REDACTED);
    assertNoSecrets(lines(), [PSK]);
  });

  it('reaches into arrays (`*` matches an index)', () => {
    const { logger, lines } = capturePlainPino();
    logger.info({ peers: [{ psk: PSK }, { psk: PSK }] }, 'peers');
    expect(lines()[0]!.peers).toEqual([{ psk: REDACTED }, { psk: REDACTED }]);
  });

  it('lists every name at depths 0, 1 and 2', () => {
    const paths = secretRedactPaths(2);
    expect(paths).toHaveLength(SECRET_FIELD_NAMES.length * 3);
    expect(paths).toEqual(expect.arrayContaining(['psk', '*.psk', '*.*.psk', 'SK_d', '*.*.integrityKey']));
  });
});

describe('createLogger', () => {
  it('returns something the machines can use as their LogPort', () => {
    const port: LogPort = createLogger({ destination: { write: () => {} } });
    expect(typeof port.child({ connection: 'c' }).info).toBe('function');
  });

  it.each(SECRET_FIELD_NAMES.flatMap((name) => [0, 1, 2, 5].map((depth) => ({ name, depth }))))(
    'writes [Redacted] for $name at depth $depth, string or Buffer',
    ({ name, depth }) => {
      const { logger, lines } = captureLogs();
      logger.info(nested(name, PSK, depth), 'string secret');
      logger.info(nested(name, SK_EI, depth), 'buffer secret');
      for (const line of lines()) expect(valueAt(line, name, depth)).toBe(REDACTED);
      assertNoSecrets(lines(), [PSK, SK_EI]);
    },
  );

  it('logs any Buffer or typed array, at any depth, as its length only', () => {
    const { logger, lines } = captureLogs();
    const nonce = Buffer.alloc(32, 0x5a);
    logger.info(
      { nonceI: nonce, dh: { publicValue: new Uint8Array(256).fill(7) }, list: [Buffer.from('deadbeef', 'hex')], raw: new ArrayBuffer(12) },
      'exchange',
    );
    const [line] = lines();
    expect(line).toMatchObject({ nonceI: '[32 octets]', dh: { publicValue: '[256 octets]' }, list: ['[4 octets]'], raw: '[12 octets]', msg: 'exchange' });
    assertNoSecrets(lines(), [nonce]);
  });

  it('shows SPIs logged the conventional way, as hex strings', () => {
    const { logger, lines } = captureLogs();
    logger.child({ connection: 'home', spiI: '0011223344556677', spiR: '8899aabbccddeeff' }).info({ spi: 'c0ffee01' }, 'CHILD_SA installed');
    expect(lines()[0]).toMatchObject({ connection: 'home', spiI: '0011223344556677', spiR: '8899aabbccddeeff', spi: 'c0ffee01', level: 30 });
  });

  it('scrubs child bindings the same way, at every generation and through setBindings', () => {
    const { logger, lines } = captureLogs();
    const child = logger.child({ psk: PSK, sa: { SK_d: SK_EI, nonce: SK_EI } });
    child.warn({}, 'bound');
    const grandchild = child.child({ nonceI: SK_EI, deep: { a: { b: { integrityKey: 'k3y-material' } } } });
    grandchild.info({}, 'grandchild');
    grandchild.setBindings({ later: SK_EI, SK_ar: 'xyzw' });
    grandchild.info({}, 'rebound');
    const [first, second, third] = lines();
    expect(first).toMatchObject({ psk: REDACTED, sa: { SK_d: REDACTED, nonce: '[16 octets]' } });
    expect(second).toMatchObject({ psk: REDACTED, nonceI: '[16 octets]', deep: { a: { b: { integrityKey: REDACTED } } } });
    expect(third).toMatchObject({ later: '[16 octets]', SK_ar: REDACTED });
    assertNoSecrets(lines(), [PSK, SK_EI, 'k3y-material', 'xyzw']);
  });

  it('logs errors with type, message and stack, scrubbing their fields', () => {
    const { logger, lines } = captureLogs();
    const error = Object.assign(new RangeError('AUTH payload mismatch'), { code: 'AUTHENTICATION_FAILED', received: SK_EI });
    logger.error({ err: error }, 'IKE_AUTH failed');
    logger.error(error);
    logger.warn({ cause: new Error('inner') }, 'other key');
    const [first, second, third] = lines();
    for (const line of [first, second]) {
      expect(line).toMatchObject({ err: { type: 'RangeError', message: 'AUTH payload mismatch', code: 'AUTHENTICATION_FAILED', received: '[16 octets]' } });
      expect(String((line!.err as Record<string, unknown>).stack)).toContain('RangeError: AUTH payload mismatch');
    }
    expect(second!.msg).toBe('AUTH payload mismatch');
    expect(third).toMatchObject({ cause: { type: 'Error', message: 'inner' } });
    assertNoSecrets(lines(), [SK_EI]);
  });

  it('honours the level', () => {
    const { logger, lines } = captureLogs({ level: 'warn' });
    logger.info({}, 'hidden');
    logger.warn({}, 'shown');
    expect(lines().map((l) => l.msg)).toEqual(['shown']);
    expect(() => createLogger({ level: 'loud' as never })).toThrow(/unknown log level/);
  });

  it('pretty output goes through the same guards', () => {
    const capture = captureLogs({ pretty: true });
    capture.logger.child({ connection: 'home', nonceR: SK_EI }).info({ psk: PSK, keys: { SK_ei: SK_EI }, nonce: SK_EI, spiI: '0011223344556677' }, 'IKE_SA established');
    expect(capture.text()[0]).toContain('IKE_SA established');
    const text = capture.text().join('\n');
    expect(() => JSON.parse(capture.text()[0]!)).toThrow(); // human-readable, not JSON
    expect(text).toContain(REDACTED);
    expect(text).toContain('[16 octets]');
    expect(text).toContain('0011223344556677');
    assertNoSecrets(capture.text(), [PSK, SK_EI]);
  });

  describe('to a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-log-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('appends JSON lines to a path', () => {
      const path = join(dir, 'ikekm.log');
      const logger = createLogger({ destination: path });
      logger.info({ psk: PSK }, 'first');
      logger.info({}, 'second');
      logger.flush();
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['first', 'second']);
      assertNoSecrets(lines, [PSK]);
    });
  });

  it('does NOT recognise a secret by value: an unlisted name or the message text leaks (engine rule: use the listed names)', () => {
    const { logger, text } = captureLogs();
    logger.info({ passphrase: PSK }, 'unlisted field name');
    logger.info({}, `never interpolate: ${PSK}`);
    expect(findSecrets(text(), [PSK]).map((f) => f.lineIndex)).toEqual([0, 1]);
  });
});
