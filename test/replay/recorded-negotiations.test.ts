/**
 * Records of the daemon's negotiations with strongSwan (test/replay/records/, made by
 * record-fixtures.ts as root with charon), replayed on every run: the machines must still send
 * every datagram byte for byte and take every state as they did. A change in behaviour shows
 * here as the first divergence, named; an intended one is recorded again.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { readRecordFile } from '../../src/replay/record-file.js';
import { replayRecord } from '../../src/replay/replay.js';
import { recordCommand } from '../../src/cli/record-command.js';
import { describeDivergence, replayCommand } from '../../src/cli/replay-command.js';
import { encodeRecordLine, type RecordEntry } from '../../src/replay/record-entry.js';
import { SECRET_MIN_OCTETS, redactRecord } from '../../src/replay/redact-record.js';
import { ExchangeType } from '../../src/wire/index.js';
import { commandOutput } from '../support/command-output.js';
import { receiver } from '../support/ws-receiver.js';
import { RECORDS_DIR, SCENARIOS } from './record-fixtures.js';

const inputs = (entries: readonly RecordEntry[]) => entries.filter((e): e is Extract<RecordEntry, { t: 'in' }> => e.t === 'in');
const outs = (entries: readonly RecordEntry[]) => entries.filter((e): e is Extract<RecordEntry, { t: 'out' }> => e.t === 'out');
const states = (entries: readonly RecordEntry[]) => entries.filter((e): e is Extract<RecordEntry, { t: 'state' }> => e.t === 'state').map((e) => JSON.stringify(e.value));

/** What each record must contain, so that a record made wrongly cannot pass for one. */
const CONTENT: Record<string, (entries: readonly RecordEntry[]) => void> = {
  'initiator-rekeys-retransmit': (entries) => {
    expect(inputs(entries).some((e) => e.input.kind === 'deliver' && e.input.event.type === 'RETRANSMIT')).toBe(true);
    expect(outs(entries).filter((e) => e.datagram.bytes[18] === ExchangeType.CREATE_CHILD_SA).length).toBeGreaterThanOrEqual(3);
  },
  'responder-charon-rekeys': (entries) => {
    const first = inputs(entries).find((e) => e.input.kind === 'datagram');
    expect(first?.input.kind === 'datagram' && first.input.datagram.bytes[18]).toBe(ExchangeType.IKE_SA_INIT);
    expect(inputs(entries).filter((e) => e.input.kind === 'datagram' && e.input.datagram.bytes[18] === ExchangeType.CREATE_CHILD_SA).length).toBe(2);
  },
  'child-rekey-collision': (entries) => {
    // ikekm's window went to `simultaneous`: charon's request for the same Child SA came in while its own was out.
    expect(states(entries).some((s) => s.includes('"rekeyingChild":"simultaneous"'))).toBe(true);
    expect(outs(entries).some((e) => e.datagram.bytes[18] === ExchangeType.CREATE_CHILD_SA && (e.datagram.bytes[19]! & 0x20) === 0)).toBe(true);
    expect(inputs(entries).some((e) => e.input.kind === 'datagram' && e.input.datagram.bytes[18] === ExchangeType.CREATE_CHILD_SA && (e.input.datagram.bytes[19]! & 0x20) === 0)).toBe(true);
  },
  'wrong-psk': (entries) => {
    expect(states(entries).some((s) => s.includes('established'))).toBe(false);
    expect(inputs(entries).some((e) => e.input.kind === 'datagram' && e.input.datagram.bytes[18] === ExchangeType.IKE_AUTH)).toBe(true);
  },
};

describe('recorded negotiations with strongSwan replay as recorded', () => {
  it('every scenario has its record', () => {
    expect(Object.keys(CONTENT).sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
  });

  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: ${scenario.what}`, async () => {
      const entries = await readRecordFile(join(RECORDS_DIR, `${scenario.name}.jsonl`));
      CONTENT[scenario.name]!(entries);
      const config = await loadConfigFile(join(RECORDS_DIR, `${scenario.name}.yaml`));
      expect(config.ok).toBe(true);
      if (!config.ok) return;
      const outcome = await replayRecord(entries, { registry: cryptoRegistry, secrets: config.value.engine });
      if (!outcome.ok) expect.fail(describeDivergence(`${scenario.name}.jsonl`, outcome.divergence));
      expect(outcome.ok && outcome.outputs).toBe(outs(entries).length);
    });
  }
});

describe('a divergence, described', () => {
  it('names the IKE SA, its states to there, and both datagrams decoded, inside SK with the keys of the moment', async () => {
    const entries = await readRecordFile(join(RECORDS_DIR, 'initiator-rekeys-retransmit.jsonl'));
    const config = await loadConfigFile(join(RECORDS_DIR, 'initiator-rekeys-retransmit.yaml'));
    if (!config.ok) throw new Error('fixture configuration');
    // One octet of the recorded IKE_AUTH request (its ICV): the replay's own differs there.
    const at = entries.findIndex((e) => e.t === 'out' && e.datagram.bytes[18] === ExchangeType.IKE_AUTH);
    const out = entries[at] as Extract<RecordEntry, { t: 'out' }>;
    const bytes = Buffer.from(out.datagram.bytes);
    bytes[bytes.length - 1]! ^= 0x80;
    const tampered = entries.map((e, i) => (i === at ? { ...out, datagram: { ...out.datagram, bytes } } : e));
    const outcome = await replayRecord(tampered, { registry: cryptoRegistry, secrets: config.value.engine });
    if (outcome.ok) expect.fail('the tampered record replayed');
    const text = describeDivergence('t.jsonl', outcome.divergence);
    const sa = `ike-${Buffer.from(out.datagram.bytes.subarray(0, 8)).toString('hex')}`;
    expect(outcome.divergence.place?.sa).toBe(sa);
    expect(text).toContain(`IKE SA ${sa}, its states in the record up to there: ikeSaInit → ikeAuth.allocatingSpi`);
    // What the replay sent opens with the SA's keys: IDi, AUTH, the Child SA's proposal and selectors.
    expect(text).toMatch(/replayed: datagram out: .*IKE_AUTH request, Message ID 1, .*payloads \[SK\{IDi, .*AUTH, .*SA, TSi, TSr.*\}\]/);
    expect(text).toMatch(/recorded: datagram out: .*payloads \[SK \(does not open with the SA's keys: sk-open\)\]/);
  });
});

describe('ikekm record redact', () => {
  it('withholds the DH private values, keeps what went out (SPIs, nonces); the copy replays up to the first use of a secret and says so', async () => {
    const entries = await readRecordFile(join(RECORDS_DIR, 'initiator-rekeys-retransmit.jsonl'));
    const config = await loadConfigFile(join(RECORDS_DIR, 'initiator-rekeys-retransmit.yaml'));
    if (!config.ok) throw new Error('fixture configuration');
    const { entries: redacted, kept, withheld } = redactRecord(entries);
    // The DH private values of the first IKE SA and of its rekey at least.
    expect(withheld).toBeGreaterThanOrEqual(2);
    expect(kept).toBeGreaterThanOrEqual(4);
    const draws = entries.filter((e): e is Extract<RecordEntry, { t: 'draw' }> => e.t === 'draw');
    const text = redacted.map(encodeRecordLine).join('\n');
    // No withheld octets survive anywhere in the copy; the nonce (sent in IKE_SA_INIT) does.
    const secrets = draws.filter((d) => d.bytes.length >= SECRET_MIN_OCTETS && !outs(entries).some((o) => Buffer.from(o.datagram.bytes).includes(d.bytes)));
    expect(secrets.length).toBe(withheld);
    for (const s of secrets) expect(text).not.toContain(s.bytes.toString('hex'));
    const outcome = await replayRecord(redacted, { registry: cryptoRegistry, secrets: config.value.engine });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    // The initiator's first input (ikekm up) draws its DH private value: its KE payload differs.
    expect(outcome.divergence).toMatchObject({ inputIndex: 0, kind: 'output', withheldSecretUsedAfter: 0 });
    expect(describeDivergence('copy.jsonl', outcome.divergence)).toMatch(/the record is redacted: a secret it withholds was used after input 0/);

    // The command writes the same copy, 0600.
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-redact-'));
    try {
      const copy = join(dir, 'copy.jsonl');
      expect((await commandOutput(() => recordCommand(['redact', join(RECORDS_DIR, 'initiator-rekeys-retransmit.jsonl'), copy]))).code).toBe(0);
      expect(statSync(copy).mode & 0o777).toBe(0o600);
      expect(readFileSync(copy, 'utf8')).toBe(redacted.map((e) => `${encodeRecordLine(e)}\n`).join(''));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ikekm replay --step', () => {
  /** Runs the command with `answers` given at its prompts in turn; what it printed. */
  async function stepThrough(args: string[], answers: string[]): Promise<{ code: number; out: string; prompts: number }> {
    let prompts = 0;
    const { code, out } = await commandOutput(() => replayCommand(args, async () => answers[prompts++] ?? 'c'));
    return { code, out, prompts };
  }
  const record = join(RECORDS_DIR, 'responder-charon-rekeys.jsonl');
  const config = join(RECORDS_DIR, 'responder-charon-rekeys.yaml');

  it('stops at each input with it decoded and the states after it; c runs on to the end', async () => {
    const { code, out, prompts } = await stepThrough([record, '--config', config, '--step'], ['', '', 'c']);
    expect(code).toBe(0);
    expect(prompts).toBe(3);
    expect(out).toMatch(/input 0 at [0-9-]+T[0-9:.]+Z: datagram in: .*IKE_SA_INIT request, Message ID 0/);
    expect(out).toMatch(/input 1 at .*: /);
    expect(out).toMatch(/ike-[0-9a-f]{16} \(no connection yet, responder\): /);
    expect(out).not.toContain('keys:');
    expect(out).toMatch(/as recorded/);
  });

  it('q stops; --show-keys shows the keys of the moment; --sa keeps to one IKE SA', async () => {
    const quit = await stepThrough([record, '--config', config, '--step'], ['q']);
    expect(quit).toMatchObject({ code: 0, prompts: 1 });
    expect(quit.out).toContain('ikekm replay: stopped');
    expect(quit.out).not.toMatch(/as recorded/);

    const keys = await stepThrough([record, '--config', config, '--step', '--show-keys'], ['', '', '', 'q']);
    expect(keys.out).toMatch(/keys: SK_d [0-9a-f]{64} SK_ei [0-9a-f]+ SK_er [0-9a-f]+ SK_ai - SK_ar -/);

    // The first IKE SA's SPIs: its inputs only (the rekeyed IKE SA's datagrams carry other SPIs).
    const entries = await readRecordFile(record);
    const first = inputs(entries).find((e) => e.input.kind === 'datagram');
    const spiI = first?.input.kind === 'datagram' ? first.input.datagram.bytes.subarray(0, 8).toString('hex') : '';
    const all = await stepThrough([record, '--config', config, '--step'], Array(100).fill(''));
    // charon's IKE_AUTH request, opened with the keys the IKE SA has at that step.
    expect(all.out).toMatch(/datagram in: .*IKE_AUTH request, Message ID 1, .*payloads \[SK\{IDi, [^\]]*AUTH[^\]]*TSi, TSr[^\]]*\}\]/);
    const one = await stepThrough([record, '--config', config, '--step', '--sa', spiI], Array(100).fill(''));
    expect(one.code).toBe(0);
    expect(one.prompts).toBeGreaterThan(2);
    expect(one.prompts).toBeLessThan(all.prompts);
  });
});

describe('ikekm replay --inspect', () => {
  it("sends the replaying machines' inspection events: the IKE SA's snapshots up to established, in order", async () => {
    const ws = await receiver();
    try {
      const { code } = await commandOutput(() =>
        replayCommand([join(RECORDS_DIR, 'responder-charon-rekeys.jsonl'), '--config', join(RECORDS_DIR, 'responder-charon-rekeys.yaml'), '--inspect', ws.url]),
      );
      expect(code).toBe(0);
      const events = ws.messages.map((m) => JSON.parse(m) as { type: string; name?: string; sessionId: string; snapshot?: { value?: unknown } });
      const ikeSas = events.filter((e) => e.type === '@xstate.actor' && /^ike-[0-9a-f]{16}$/.test(e.name ?? ''));
      // The first IKE SA and the one its rekey made.
      expect(ikeSas.length).toBe(2);
      const values = events.filter((e) => e.type === '@xstate.snapshot' && e.sessionId === ikeSas[0]!.sessionId).map((e) => JSON.stringify(e.snapshot?.value));
      expect(values[0]).toMatch(/answeringIkeSaInit|awaitingIkeAuth/);
      expect(values.some((v) => v.includes('established'))).toBe(true);
    } finally {
      ws.close();
    }
  });
});

describe('a record of another ikekm version', () => {
  it('replays, and where it diverges the command says which version made it', async () => {
    const entries = await readRecordFile(join(RECORDS_DIR, 'wrong-psk.jsonl'));
    const header = entries[0]!;
    if (header.t !== 'header') throw new Error('no header');
    const older: RecordEntry[] = [{ ...header, ikekm: '0.0.1' }, ...entries.slice(1)];
    const config = join(RECORDS_DIR, 'wrong-psk.yaml');
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-version-'));
    try {
      const run = async (record: readonly RecordEntry[]) => {
        const file = join(dir, 'record.jsonl');
        writeFileSync(file, record.map((e) => `${encodeRecordLine(e)}\n`).join(''));
        return commandOutput(() => replayCommand([file, '--config', config]));
      };
      expect((await run(older)).code).toBe(0);
      // A draw changed: the version is named beside the divergence.
      const draw = older.findIndex((e) => e.t === 'draw' && e.bytes.length === 32);
      const changed = older.map((e, i) => (i === draw && e.t === 'draw' ? { t: 'draw' as const, bytes: Buffer.alloc(32, 0xab) } : e));
      const diverged = await run(changed);
      expect(diverged.code).toBe(1);
      expect(diverged.out).toMatch(/the record was made by ikekm 0\.0\.1; this is ikekm \d+\.\d+\.\d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
