/**
 * Each key once per JSON log line. pino writes a child logger's bindings and the record's fields
 * side by side, so `spiR` or `connection` in both appeared twice in one line; JSON.parse keeps
 * the last and hides it, so these tests read the raw text. Unit level (the record writer the
 * effect interpreter uses) and end to end (every line two daemons write through a negotiation,
 * rekeys and a delete).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeRecord } from '../../src/log/record-writer.js';
import { startPair, waitFor, type Pair } from '../daemon/support/daemon-pair.js';
import { captureLogs } from '../support/log-capture.js';

/**
 * Keys that occur twice in one object of a JSON text, at any depth, as `path.key`. A small
 * scanner: JSON.parse cannot tell, it keeps the last value.
 */
export function duplicateKeys(json: string): string[] {
  let i = 0;
  const found: string[] = [];
  const ws = (): void => {
    while (i < json.length && ' \t\r\n'.includes(json[i]!)) i++;
  };
  const string = (): string => {
    const start = i;
    i++; // opening quote
    while (json[i] !== '"') i += json[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(json.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    ws();
    const c = json[i];
    if (c === '{') {
      i++;
      const keys = new Set<string>();
      ws();
      if (json[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const key = string();
        if (keys.has(key)) found.push(`${path}${key}`);
        keys.add(key);
        ws();
        i++; // colon
        value(`${path}${key}.`);
        ws();
        if (json[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (json[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value(path);
        ws();
        if (json[i++] === ']') return;
      }
    } else if (c === '"') {
      string();
    } else {
      while (i < json.length && !',}] \t\r\n'.includes(json[i]!)) i++;
    }
  };
  value('');
  return found;
}

describe('duplicateKeys (the checker itself)', () => {
  it('finds a repeated key at the top and deeper, and nothing in a clean line', () => {
    expect(duplicateKeys('{"a":1,"b":{"c":"x\\"y","c":2},"a":[{"d":1,"d":2}]}')).toEqual(['b.c', 'a', 'a.d']);
    expect(duplicateKeys('{"level":30,"msg":"ok","spiR":"00","list":[1,"two",{"x":null}]}')).toEqual([]);
  });
});

describe('each key once per log line', () => {
  it('a record whose fields repeat its bindings (IKE_SA_INIT done with spiR; a connection field)', () => {
    const logs = captureLogs({ level: 'debug' });
    const bindings = { connection: 'lab', spiI: '0102030405060708', spiR: '1112131415161718' };
    writeRecord(logs.logger, { level: 'info', bindings, fields: { spiR: '1112131415161718', transforms: { encr: 12 } }, message: 'IKE_SA_INIT done' });
    writeRecord(logs.logger, { level: 'info', bindings, fields: { connection: 'lab', why: 'narrowed' }, message: 'first Child SA: connection chosen by traffic selectors' });
    // A field that differs from the binding is what the call site meant: it is kept, once.
    writeRecord(logs.logger, { level: 'info', bindings, fields: { connection: 'other' }, message: 'differs' });
    const lines = logs.text();
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(duplicateKeys(line), line).toEqual([]);
    const parsed = logs.lines();
    expect(parsed.map((l) => [l.connection, l.spiR])).toEqual([
      ['lab', '1112131415161718'],
      ['lab', '1112131415161718'],
      ['other', '1112131415161718'],
    ]);
  });

  describe('two daemons: up, rekeys both ways, down', () => {
    let pair: Pair | undefined;
    afterEach(async () => {
      await pair?.stop();
      pair = undefined;
    });

    it('no line of either daemon has a key twice', async () => {
      pair = await startPair();
      await pair.b.daemon.up('lab');
      await pair.b.daemon.rekey('lab', { ike: false });
      await pair.a.daemon.rekey('lab', { ike: true });
      await pair.b.daemon.down('lab');
      await waitFor('a to drop the SAs', async () => (await pair?.a.daemon.status())?.ikeSas.length === 0);
      const lines = [...pair.a.logs.text(), ...pair.b.logs.text()];
      expect(lines.length).toBeGreaterThan(30);
      expect(lines.some((l) => l.includes('IKE_SA_INIT done'))).toBe(true);
      const duplicated = lines.map((line) => ({ line, keys: duplicateKeys(line) })).filter((l) => l.keys.length > 0);
      expect(duplicated).toEqual([]);
    });
  });
});
