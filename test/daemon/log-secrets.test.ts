/**
 * No secret in any log line: a full negotiation through two daemons with the PSK
 * "correct horse battery staple" (IKE SA, Child SA with PFS, both rekeyed, deleted), every log
 * line of both daemons captured at level debug, and none may contain the PSK or any key either
 * side derived. The keys come from the key tables the daemons wrote with a key log directory
 * (`ikekm daemon --keylog DIR`, the user's explicit export).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { ESP_SA_FILE, IKEV2_TABLE_FILE } from '../../src/daemon/runtime-ports.js';
import { assertNoSecrets } from '../support/log-capture.js';
import { parseEspSaLine, parseIkev2TableLine } from '../interop/harness/ikekm.js';
import { PSK, startPair, waitFor, type Pair } from './support/daemon-pair.js';

let pair: Pair | undefined;
afterEach(async () => {
  await pair?.stop();
  pair = undefined;
});

const linesOf = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');

function keysFrom(keylogDir: string): Buffer[] {
  const keys: string[] = [];
  for (const line of linesOf(join(keylogDir, IKEV2_TABLE_FILE))) {
    const r = parseIkev2TableLine(line);
    keys.push(r.SK_ei, r.SK_er, r.SK_ai, r.SK_ar);
  }
  for (const line of linesOf(join(keylogDir, ESP_SA_FILE))) {
    const r = parseEspSaLine(line);
    keys.push(r.encryptionKey, r.integrityKey);
  }
  return keys.filter((k) => k !== '').map((k) => Buffer.from(k, 'hex'));
}

it('no log line of either daemon holds the PSK or a derived key', async () => {
  const connection = { ike: ['aes256-sha256-modp2048'], esp: ['aes128-sha256-modp2048'] };
  pair = await startPair({ a: [connection], b: [connection] }, { keylog: true });
  await pair.b.daemon.up('lab');
  await pair.b.daemon.rekey('lab', { ike: false });
  await pair.b.daemon.rekey('lab', { ike: true });
  await pair.a.daemon.rekey('lab', { ike: false });
  await pair.b.daemon.down('lab');
  await waitFor('a to drop the SAs', async () => (await pair?.a.daemon.status())?.ikeSas.length === 0);
  await Promise.all([pair.a.daemon.stop(), pair.b.daemon.stop()]);

  const secrets: (string | Buffer)[] = [PSK];
  for (const side of ['a', 'b'] as const) {
    const keys = keysFrom(join(pair.dir, side, 'keylog'));
    // Two IKE SAs (SK_ei, SK_er, SK_ai, SK_ar each) and three Child SAs (two directions, two keys each).
    expect(keys.length).toBeGreaterThanOrEqual(2 * 4 + 3 * 2 * 2);
    secrets.push(...keys);
  }
  const lines = [...pair.a.logs.text(), ...pair.b.logs.text()];
  expect(lines.length).toBeGreaterThan(50);
  expect(lines.some((l) => l.includes('"level":20'))).toBe(true);
  assertNoSecrets(lines, secrets);

  // Every record about an IKE SA names its connection.
  for (const record of [...pair.a.logs.lines(), ...pair.b.logs.lines()]) {
    if (record.spiI !== undefined && record.msg !== 'stopping: peers did not answer every Delete in time') expect(record.connection, JSON.stringify(record)).toBeDefined();
  }
});
