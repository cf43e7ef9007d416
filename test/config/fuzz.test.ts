/**
 * The loader never throws and never fails in an unplanned way, whatever the text: random strings,
 * YAML-ish token soups, character-level mutations of the example file, and structurally valid
 * YAML with random values in random places. Every outcome is a result with well-formed
 * diagnostics; "internal error" (the last-resort catch) must never show.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';
import { BASE, EXAMPLE_FILES, FULL_EXAMPLE, TEST_PSK } from './support.js';

function checkTotal(text: string): void {
  let result: ReturnType<typeof parseConfig> | undefined;
  expect(() => {
    result = parseConfig(text, 'fuzz.yaml', { readFile: EXAMPLE_FILES, fileMode: 0o100644 });
  }).not.toThrow();
  if (result === undefined) return;
  const diagnostics = result.ok ? result.value.warnings : result.error;
  if (!result.ok) expect(diagnostics.some((d) => d.severity === 'error')).toBe(true);
  else expect(diagnostics.every((d) => d.severity === 'warning')).toBe(true);
  const lineCount = text.split('\n').length;
  for (const d of diagnostics) {
    expect(d.message).not.toMatch(/^internal error/);
    expect(d.message).not.toContain(TEST_PSK);
    expect(d.file).toBe('fuzz.yaml');
    expect(d.line).toBeGreaterThanOrEqual(1);
    expect(d.line).toBeLessThanOrEqual(lineCount + 1);
    expect(d.column).toBeGreaterThanOrEqual(1);
  }
}

const TOKENS = [
  'daemon', 'ikePolicies', 'dataPolicies', 'connections', 'to-hq', 'hq-ike', 'hq-data', 'ikePolicy', 'dataPolicy',
  'local', 'remote', 'traffic', 'start', 'psk', 'file', 'address', 'id', 'port', 'proposals', 'lifetime', 'time',
  'kilobytes', 'dpd', 'interval', 'timeout', 'retransmit', 'fragmentation', 'version', 'auth', 'listen', 'ports',
  'kernel', 'allowShortLifetimes', ':', ': ', ' ', '\n', '\n  ', '\n    ', '- ', '[', ']', '{', '}', ', ', '"', "'", '&a ', '*a',
  '!!binary ', '!!str ', '!tag ', '#', '---', '...', '? ', '| ', '> ', '<<: ', '%any', '"::"', '192.0.2.1', '2001:db8::1',
  '198.51.100.0/24', '24h', '5m', '0', '-1', '1e9', 'true', 'null', '~', 'aes128-sha256-modp2048', 'aes256gcm16-prfsha384-ecp384',
  'aes128gcm16-ecp256', 'default', '!', 'keyid:zz', '@#', '\t', '\\', '\u00e9', '\ud83d\ude00', '\u0000',
];

const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('insert', 'delete', 'replace'),
  text: fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom(...TOKENS)),
  length: fc.integer({ min: 1, max: 12 }),
});

function mutate(base: string, edits: readonly { at: number; op: string; text: string; length: number }[]): string {
  let s = base;
  for (const e of edits) {
    const at = e.at % (s.length + 1);
    if (e.op === 'insert') s = s.slice(0, at) + e.text + s.slice(at);
    else if (e.op === 'delete') s = s.slice(0, at) + s.slice(at + e.length);
    else s = s.slice(0, at) + e.text + s.slice(at + e.length);
  }
  return s;
}

/** Replaces the value at a random path of a JS object with another value. */
function replaceAt(value: unknown, choices: readonly number[], replacement: unknown): unknown {
  if (choices.length === 0 || value === null || typeof value !== 'object') return replacement;
  const [first = 0, ...rest] = choices;
  if (Array.isArray(value)) {
    if (value.length === 0) return replacement;
    const i = first % value.length;
    return value.map((v, j) => (j === i ? replaceAt(v, rest, replacement) : v));
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return replacement;
  const key = keys[first % keys.length]!;
  return { ...(value as Record<string, unknown>), [key]: replaceAt((value as Record<string, unknown>)[key], rest, replacement) };
}

describe('parseConfig is total', () => {
  it('on random strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300, unit: 'binary' }), checkTotal), { numRuns: 400 });
  });

  it('on YAML-ish token soup', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 80 }).map((t) => t.join('')), checkTotal), { numRuns: 600 });
  });

  it('on mutations of the example file and the block-style base', () => {
    fc.assert(
      fc.property(fc.constantFrom(FULL_EXAMPLE, BASE), fc.array(mutation, { minLength: 1, maxLength: 6 }), (base, edits) => checkTotal(mutate(base, edits))),
      { numRuns: 800 },
    );
  });

  it('on the example with random values in random places', () => {
    const example = parse(FULL_EXAMPLE) as unknown;
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 6 }), fc.anything({ maxDepth: 3, withNullPrototype: false }), (path, value) => {
        let text: string;
        try {
          // stringify(undefined) gives undefined, despite its type.
          text = (stringify(replaceAt(example, path, value)) as string | undefined) ?? '';
        } catch {
          return; // a value YAML cannot write (e.g. a symbol key) tells us nothing about the loader
        }
        checkTotal(text);
      }),
      { numRuns: 600 },
    );
  });

  it('on deep nesting and long inputs', () => {
    for (const text of ['['.repeat(10_000), '{'.repeat(10_000), `a: ${'[b, '.repeat(5000)}`, '- '.repeat(5000), 'a:\n '.repeat(2000), 'x'.repeat(200_000)]) {
      checkTotal(text);
    }
  });
});
