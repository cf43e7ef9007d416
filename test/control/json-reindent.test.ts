import { describe, expect, it } from 'vitest';
import { JsonReindenter } from '../../src/control/json-reindent.js';

/** Feeds `text` (and what follows the value) split at `cuts`; returns the output and the rest. */
function reindent(text: string, cuts: readonly number[] = []): { output: string; rest: string | undefined } {
  const bytes = Buffer.from(text);
  const r = new JsonReindenter();
  const out: Buffer[] = [];
  let rest: Buffer[] | undefined;
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    const piece = bytes.subarray(at, cut);
    at = cut;
    if (rest !== undefined) {
      rest.push(r.push(piece).rest!);
      continue;
    }
    const chunk = r.push(piece);
    out.push(chunk.output);
    if (chunk.rest !== undefined) rest = [chunk.rest];
  }
  return { output: Buffer.concat(out).toString(), rest: rest === undefined ? undefined : Buffer.concat(rest).toString() };
}

const VALUES: unknown[] = [
  { ikeSas: [], traps: [], restarts: [] },
  { a: {}, b: [], c: [{}, [], [[]], { d: [] }] },
  { text: 'quote " backslash \\ brace { } [ ] , : end', unicode: 'é€😀 \u0001 \u2028', escapes: '\\"\\\\' },
  { numbers: [0, -1, 1.5, 1e21, -2.5e-7, Number.MAX_SAFE_INTEGER], literals: [true, false, null] },
  { nested: { deeper: { deepest: { list: [1, [2, [3, { four: 4 }]]] } } } },
  [{ connection: 'rw', peer: { address: '2001:db8::1', port: 4500, id: null }, childSas: [{ localTs: ['10.0.0.0/8'], remoteTs: ['0.0.0.0/0[udp/53]'] }] }],
  [],
  {},
  [[[[]]]],
];

describe('JsonReindenter', () => {
  it('writes what JSON.stringify(value, null, 2) writes, from the compact text', () => {
    for (const value of VALUES) {
      const { output, rest } = reindent(JSON.stringify(value));
      expect(output).toBe(JSON.stringify(value, null, 2));
      expect(rest).toBe('');
    }
  });

  it('gives the same output wherever the chunks are cut, multi-byte characters included', () => {
    const value = VALUES[2];
    const text = JSON.stringify(value);
    const bytes = Buffer.byteLength(text);
    for (let cut = 0; cut <= bytes; cut++) expect(reindent(text, [cut]).output).toBe(JSON.stringify(value, null, 2));
    // One byte at a time: every pending state carried over a chunk boundary.
    for (const v of VALUES) {
      const t = JSON.stringify(v);
      expect(reindent(t, Array.from({ length: Buffer.byteLength(t) }, (_, i) => i)).output).toBe(JSON.stringify(v, null, 2));
    }
  });

  it('stops where the value ends and hands back what follows it (the end of the reply line)', () => {
    const value = { ikeSas: [{ spiI: 'a', childSas: [] }] };
    expect(reindent(`${JSON.stringify(value)}}\n`)).toEqual({ output: JSON.stringify(value, null, 2), rest: '}\n' });
    // A value that is not an object or array ends at the reply's closing brace.
    expect(reindent('null}\n')).toEqual({ output: 'null', rest: '}\n' });
    expect(reindent('"a}b"}\n')).toEqual({ output: '"a}b"', rest: '}\n' });
    // Cut right after the value: the rest comes in the next chunk.
    const text = `${JSON.stringify(value)}}\n`;
    expect(reindent(text, [text.length - 2])).toEqual({ output: JSON.stringify(value, null, 2), rest: '}\n' });
  });

  it('does not end before the value does', () => {
    const r = new JsonReindenter();
    expect(r.push(Buffer.from('{"a":[1,2')).rest).toBeUndefined();
    expect(r.ended).toBe(false);
    expect(r.push(Buffer.from(']}')).rest).toEqual(Buffer.alloc(0));
    expect(r.ended).toBe(true);
  });

  it('re-indents a status of 20 000 SAs as JSON.stringify does', () => {
    const sa = (i: number) => ({
      connection: 'rw',
      peer: { address: `10.${(i >> 8) & 255}.${i & 255}.1`, port: 4500, id: `user${i}@example.org` },
      state: 'ESTABLISHED',
      algorithms: { encryption: 'aes128gcm16', prf: 'prfsha256', dh: 'x25519' },
      childSas: [{ spiIn: i.toString(16).padStart(8, '0'), localTs: ['0.0.0.0/0'], remoteTs: [`10.9.${i & 255}.1/32`], bytesIn: i * 1000, lastInSeconds: null }],
    });
    const status = { ikeSas: Array.from({ length: 20_000 }, (_, i) => sa(i)), traps: [], restarts: [] };
    const text = JSON.stringify(status);
    const cuts = [];
    for (let at = 65_536; at < text.length; at += 65_536) cuts.push(at);
    expect(reindent(text, cuts).output).toBe(JSON.stringify(status, null, 2));
  });
});
