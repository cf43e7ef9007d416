/**
 * Record and replay: the responder of a Lab negotiation (IKE_SA_INIT, IKE_AUTH with a lost and
 * retransmitted request, a Child SA rekey, an IKE SA rekey, a Delete) is recorded through its
 * engine's journal; a fresh engine replaying the record sends the same datagrams byte for byte
 * and goes through the same states, also after the record went through its line format; and one
 * flipped octet in one recorded inbound datagram is reported at that very input.
 */
import { describe, expect, it } from 'vitest';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { decodeRecordLine, encodeRecordLine, type RecordEntry } from '../../src/replay/record-entry.js';
import { recordJournal } from '../../src/replay/record-journal.js';
import { replayRecord } from '../../src/replay/replay.js';
import { ExchangeType } from '../../src/wire/index.js';
import { Lab } from '../engine/lab.js';

const both = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

/**
 * Both sides' records of a negotiation: A initiates, its first IKE_AUTH request is lost and its
 * retransmission timer sends it again (RFC 7296 2.1); A rekeys the Child SA, B the IKE SA; A
 * deletes it all.
 */
async function recordedLab(): Promise<{ a: RecordEntry[]; b: RecordEntry[] }> {
  const records = { a: [] as RecordEntry[], b: [] as RecordEntry[] };
  const lab = new Lab({ journal: (side, start) => recordJournal((e) => records[side].push(e), start) });
  let dropped = false;
  lab.network.filter = (d) => {
    if (dropped || d.bytes[18] !== ExchangeType.IKE_AUTH || (d.bytes[19]! & 0x20) !== 0) return true;
    dropped = true;
    return false;
  };
  lab.a.engine.initiate('lab');
  expect(await lab.runUntil(both(lab), 60_000)).toBe(true);
  expect(dropped).toBe(true);
  lab.a.engine.rekeyChildSa(lab.a.engine.status()[0]!.id);
  await lab.run(5_000);
  lab.b.engine.rekeyIkeSa(lab.b.engine.status()[0]!.id);
  await lab.run(5_000);
  lab.a.engine.terminate({ connection: 'lab' });
  await lab.run(70_000);
  expect(lab.b.engine.size()).toBe(0);
  return records;
}

const recordedResponder = async (): Promise<RecordEntry[]> => (await recordedLab()).b;
const outputsOf = (record: readonly RecordEntry[]) => record.filter((e): e is Extract<RecordEntry, { t: 'out' }> => e.t === 'out');

describe('record and replay', () => {
  it("a fresh engine replaying either side's record sends every datagram byte for byte and takes every state", async () => {
    const records = await recordedLab();
    for (const side of ['a', 'b'] as const) {
      const record = records[side];
      const outcome = await replayRecord(record, { registry: cryptoRegistry });
      expect(outcome).toMatchObject({ ok: true });
      if (!outcome.ok) return;
      const exchanges = outputsOf(record).map((e) => e.datagram.bytes[18]);
      expect(exchanges).toEqual(expect.arrayContaining([ExchangeType.IKE_SA_INIT, ExchangeType.IKE_AUTH, ExchangeType.CREATE_CHILD_SA, ExchangeType.INFORMATIONAL]));
      expect(outcome.outputs).toBe(exchanges.length);
      expect(outcome.states).toBeGreaterThanOrEqual(10);
      expect(outcome.inputs).toBe(record.filter((e) => e.t === 'in').length);
    }
    // A's record has its retransmission: the timer's event is an input, its IKE_AUTH request goes out twice.
    const timerInputs = records.a.filter((e) => e.t === 'in' && e.input.kind === 'deliver' && e.input.event.type === 'RETRANSMIT');
    expect(timerInputs.length).toBeGreaterThanOrEqual(1);
    const authRequests = outputsOf(records.a).filter((e) => e.datagram.bytes[18] === ExchangeType.IKE_AUTH && (e.datagram.bytes[19]! & 0x20) === 0);
    expect(authRequests.length).toBeGreaterThanOrEqual(2);
    expect(authRequests[0]!.datagram.bytes.equals(authRequests[1]!.datagram.bytes)).toBe(true);
  });

  it('a recorded draw changed (a nonce octet) shows as the datagram out that carries it, byte for byte', async () => {
    const record = (await recordedLab()).a;
    // The 32-octet nonce Ni: the draw whose bytes appear in A's first datagram out (IKE_SA_INIT).
    const first = outputsOf(record)[0]!.datagram.bytes;
    const nonce = record.find((e): e is Extract<RecordEntry, { t: 'draw' }> => e.t === 'draw' && e.bytes.length === 32 && first.includes(e.bytes));
    expect(nonce).toBeDefined();
    const changed = Buffer.from(nonce!.bytes);
    changed[0]! ^= 0xff;
    const outcome = await replayRecord(
      record.map((e) => (e === nonce ? { t: 'draw' as const, bytes: changed } : e)),
      { registry: cryptoRegistry },
    );
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.divergence).toMatchObject({ kind: 'output', inputIndex: 0, input: { kind: 'command' } });
    expect(outcome.divergence.detail).toMatch(/datagram out differs/);
  });

  it('replays the same after its line format (JSON with Buffers as hex), which holds no PSK: it is taken from the configuration', async () => {
    const record = await recordedResponder();
    const lines = record.map(encodeRecordLine);
    expect(lines.every((l) => !l.includes('\n'))).toBe(true);
    const header = record[0]!;
    if (header.t !== 'header') throw new Error('no header');
    const psk = header.config.connections[0]!.local.psk!.bytes;
    expect(lines.join('\n')).not.toContain(psk.toString('hex'));
    expect(lines[0]).toContain('"psk":"[redacted]"');
    const decoded = lines.map(decodeRecordLine);
    expect(decoded.slice(1)).toEqual(record.slice(1));
    await expect(replayRecord(decoded, { registry: cryptoRegistry })).rejects.toThrow(/PSK of connection lab/);
    expect(await replayRecord(decoded, { registry: cryptoRegistry, secrets: header.config })).toMatchObject({ ok: true });
  });

  it('one flipped octet in one recorded inbound datagram is reported at that input', async () => {
    const record = await recordedResponder();
    const inputs = record.filter((e): e is Extract<RecordEntry, { t: 'in' }> => e.t === 'in');
    // The second datagram B received: A's IKE_AUTH request (the first was IKE_SA_INIT).
    const datagrams = inputs.map((e, index) => ({ e, index })).filter(({ e }) => e.input.kind === 'datagram');
    const { e: target, index } = datagrams[1]!;
    const input = target.input;
    if (input.kind !== 'datagram') throw new Error('not a datagram');
    expect(input.datagram.bytes[18]).toBe(ExchangeType.IKE_AUTH);
    const bytes = Buffer.from(input.datagram.bytes);
    bytes[bytes.length - 1]! ^= 0x01; // inside the ICV: the message no longer verifies (2.21.1)
    const flipped: RecordEntry = { ...target, input: { ...input, datagram: { ...input.datagram, bytes } } };
    const tampered = record.map((e) => (e === target ? flipped : e));

    const outcome = await replayRecord(tampered, { registry: cryptoRegistry });
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.divergence.inputIndex).toBe(index);
    expect(outcome.divergence.input).toMatchObject({ kind: 'datagram' });
    // B dropped it where it had answered: the record's answer is missing.
    expect(['missing-output', 'missing-state']).toContain(outcome.divergence.kind);
  });
});
