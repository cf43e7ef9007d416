/**
 * `ikekm daemon --record FILE` and `ikekm replay FILE --config FILE`: two daemons in this process
 * negotiate, rekey the Child SA and the IKE SA and delete; each one's record is 0600, holds no
 * PSK, and replays as recorded, through the API and through the command; a record with one
 * octet of one inbound datagram flipped is reported by the command at that input, exit 1.
 */
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayCommand } from '../../src/cli/replay-command.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { decodeRecordLine, encodeRecordLine } from '../../src/replay/record-entry.js';
import { readRecordFile } from '../../src/replay/record-file.js';
import { replayRecord } from '../../src/replay/replay.js';
import { PSK, recordFileOf, startPair, waitFor, type Pair } from '../daemon/support/daemon-pair.js';
import { loadedConfig } from '../daemon/support/lab-connections.js';
import { writeDaemonYaml } from '../daemon/support/yaml-config.js';
import { commandOutput } from '../support/command-output.js';
import { runTshark, tsharkAvailable, tsharkGate } from '../support/tshark.js';

/** Runs `ikekm replay` with these arguments; its exit code and what it printed. */
const replayCli = (args: string[]) => commandOutput(() => replayCommand(args));

describe('ikekm daemon --record, ikekm replay', () => {
  let pair: Pair;
  let dir: string;
  beforeAll(async () => {
    pair = await startPair({ a: [{ start: 'listen' }], b: [{ start: 'listen' }] }, { record: true });
    dir = pair.dir;
    await pair.b.daemon.up('lab');
    const rekeyed = (n: number) => pair.b.events.filter((e) => e.kind === 'child-sa-up').length >= n;
    await pair.b.daemon.rekey('lab', { ike: false });
    await waitFor('the Child SA rekey', () => rekeyed(2));
    await pair.b.daemon.rekey('lab', { ike: true });
    await pair.b.daemon.down('lab');
    await pair.a.daemon.stop({ graceMs: 1000 });
    await pair.b.daemon.stop({ graceMs: 1000 });
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('each record is 0600, holds no PSK, and replays as recorded', async () => {
    for (const side of ['a', 'b'] as const) {
      const file = recordFileOf(dir, side);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain(PSK);
      expect(text).not.toContain(Buffer.from(PSK).toString('hex'));
      const entries = await readRecordFile(file);
      const outcome = await replayRecord(entries, { registry: cryptoRegistry, secrets: loadedConfig(side, pair.ports, [{ start: 'listen' }]).engine });
      expect(outcome).toMatchObject({ ok: true });
      expect(outcome.ok && outcome.outputs).toBeGreaterThanOrEqual(4);
    }
  });

  it('ikekm replay says so, and reports a flipped octet of an inbound datagram at its input', async () => {
    const file = recordFileOf(dir, 'b');
    const config = join(dir, 'b', 'ikekm.yaml');
    writeDaemonYaml(config, 'b', { ports: pair.ports, control: join(dir, 'b', 'unused.sock'), connections: [{ start: 'listen' }] });
    const good = await replayCli([file, '--config', config]);
    expect(good.code).toBe(0);
    expect(good.out).toMatch(/datagrams out and \d+ state changes as recorded/);

    // Flip the last octet (the ICV) of the second datagram b received: a's IKE_AUTH response.
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const inputs = lines.map((l, i) => ({ entry: decodeRecordLine(l), i })).filter(({ entry }) => entry.t === 'in');
    const datagramInputs = inputs.map((x, index) => ({ ...x, index })).filter(({ entry }) => entry.t === 'in' && entry.input.kind === 'datagram');
    const target = datagramInputs[1]!;
    if (target.entry.t !== 'in' || target.entry.input.kind !== 'datagram') throw new Error('not a datagram input');
    const bytes = Buffer.from(target.entry.input.datagram.bytes);
    bytes[bytes.length - 1]! ^= 1;
    lines[target.i] = encodeRecordLine({ ...target.entry, input: { ...target.entry.input, datagram: { ...target.entry.input.datagram, bytes } } });
    const tampered = join(dir, 'b', 'tampered.jsonl');
    writeFileSync(tampered, `${lines.join('\n')}\n`, { mode: 0o600 });
    const bad = await replayCli([tampered, '--config', config]);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`diverges after input ${target.index} (datagram in:`);
    expect(bad.out).toMatch(/IKE_AUTH response/);
    expect(bad.out).toMatch(/recorded: /);
    // Decoded with the SA's keys of that moment: the flipped ICV does not verify.
    expect(bad.out).toContain("payloads [SK (does not open with the SA's keys: sk-open)]");
    expect(bad.out).toMatch(/IKE SA ike-[0-9a-f]{16}, its states in the record up to there: ikeSaInit → ikeAuth\.allocatingSpi → ikeAuth\.awaitingResponse$/m);
  });

  it('--pcap and --keys: a capture of the replay that tshark decrypts with the key table (and not without)', async () => {
    if (tsharkGate(tsharkAvailable()) === 'skip') {
      console.warn('\n*** SKIPPING the tshark check of ikekm replay --pcap: tshark unavailable ***\n');
      return;
    }
    const out = join(dir, 'b', 'replay.pcap');
    const keys = join(dir, 'b', 'keys');
    const config = join(dir, 'b', 'ikekm.yaml');
    writeDaemonYaml(config, 'b', { ports: pair.ports, control: join(dir, 'b', 'unused.sock'), connections: [{ start: 'listen' }] });
    const run = await replayCli([recordFileOf(dir, 'b'), '--config', config, '--pcap', out, '--keys', keys]);
    expect(run.code).toBe(0);
    expect(statSync(keys).mode & 0o777).toBe(0o700);
    const table = readFileSync(join(keys, 'ikev2_decryption_table'), 'utf8').trim().split('\n');
    expect(table.length).toBeGreaterThanOrEqual(2); // the first IKE SA and the rekeyed one
    const payloadTypes = async (ikev2Table: readonly string[]) =>
      // The daemons' unprivileged port is not one tshark knows as IKE: decoded as such.
      (await runTshark(out, { ikev2Table, fields: ['isakmp.exchangetype', 'isakmp.typepayload'], extraArgs: ['-d', `udp.port==${pair.ports.ike},isakmp`] })).packets.flatMap((p) => p['isakmp.typepayload'] ?? []);
    const decrypted = await payloadTypes(table);
    // IKE_AUTH's IDi (35), IDr (36) and AUTH (39) are inside SK: seen only with the keys.
    expect(decrypted).toEqual(expect.arrayContaining(['35', '36', '39']));
    expect(await payloadTypes([])).not.toContain('39');
  });

  it('without the configuration the PSKs are missing, and the command says so', async () => {
    const missing = await replayCli([recordFileOf(dir, 'b'), '--config', join(dir, 'nonexistent.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/nonexistent\.yaml/);
  });
});
