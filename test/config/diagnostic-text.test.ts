/**
 * What diagnostics echo of the file: long values cut with their length said, control characters
 * (terminal escape sequences, line separators, bidi overrides) escaped, and raw control bytes in
 * the file refused at their position rather than passed into values.
 */
import { describe, expect, it } from 'vitest';
import { escapeControl, formatDiagnostic, quoted } from '../../src/config/config-diagnostic.js';
import { BASE, edit, report } from './support.js';

// Anything a terminal acts on: C0 (but none here is allowed raw), DEL, C1, separators, bidi.
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

describe('quoted and escapeControl', () => {
  it('escape what a terminal would act on, and leave the rest', () => {
    expect(escapeControl('a\u001b[2Jb\n\t\r\u0000\u009b\u2028\u202e é 😀')).toBe('a\\x1b[2Jb\\n\\t\\r\\x00\\x9b\\u2028\\u202e é 😀');
  });

  it('cut long values at 64 characters (never inside a surrogate pair) and say the length', () => {
    expect(quoted('short')).toBe("'short'");
    expect(quoted('x'.repeat(64))).toBe(`'${'x'.repeat(64)}'`);
    expect(quoted('x'.repeat(65))).toBe(`'${'x'.repeat(64)}…' (65 characters)`);
    expect(quoted('😀'.repeat(100))).toBe(`'${'😀'.repeat(64)}…' (200 characters)`);
  });
});

describe('values echoed in diagnostics', () => {
  it('a 1 MB scalar is not echoed whole: 64 characters and its length', () => {
    const lines = report(`daemon: { kernel: ${'a'.repeat(1_000_000)} }\n`);
    expect(lines).toEqual([`ikekm.yaml:1:19: error: daemon.kernel: kernel '${'a'.repeat(64)}…' (1000000 characters) is not available; allowed: xfrm, memory`]);
  });

  it('a long key is cut in the message and in the path', () => {
    const key = 'k'.repeat(100_000);
    // An explicit key (`? KEY`): YAML limits implicit keys to 1024 characters.
    const [line] = report(`connections:\n  ? ${key}\n  : {}\n`);
    expect(line?.length).toBeLessThan(2500);
    expect(line).toContain(`name '${'k'.repeat(64)}…' (100000 characters) is not allowed`);
  });

  it('control characters written as escapes in a double-quoted string are shown escaped', () => {
    const lines = report(edit(BASE, 16, '    start: "\\e[2J\\e]0;pwned\\a\\u2028\\u202eon-load"'));
    expect(lines).toEqual([
      "ikekm.yaml:16:12: error: to-hq.start: start '\\x1b[2J\\x1b]0;pwned\\x07\\u2028\\u202eon-load' is not allowed; allowed: on-load, on-demand, listen",
    ]);
    expect(lines.join('')).not.toMatch(RAW_CONTROL);
  });

  it('raw control bytes in the file are refused where they are, not taken into values and echoed', () => {
    const lines = report(edit(BASE, 16, '    start: on-\u001b[2Jload'));
    expect(lines).toEqual([
      'ikekm.yaml:16:15: error: character U+001B is not allowed in a YAML file (YAML 1.2 5.1: printable characters only; write it as an escape in a double-quoted string)',
    ]);
  });

  it('a NUL-filled tail (what a crash leaves of a half-written file) is refused', () => {
    const lines = report(`${BASE.slice(0, 200)}${'\u0000'.repeat(BASE.length - 200)}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ikekm\.yaml:\d+:\d+: error: character U\+0000 is not allowed in a YAML file .*; NUL bytes are what a crash can leave of a half-written file$/);
  });

  it('the file name is escaped too', () => {
    expect(formatDiagnostic({ severity: 'error', file: 'a\u001bb.yaml', line: 1, column: 1, path: '', message: 'm' })).toBe('a\\x1bb.yaml:1:1: error: m');
  });
});
