/**
 * The inspector's steps (src/inspector/inspector-steps.ts) from records of real negotiations:
 * one step per input, every datagram and state in the step it followed from, repeats marked
 * exactly where the same octets went out (or came in) before, and nothing secret carried.
 */
import { describe, expect, it } from 'vitest';
import { InspectorStepBuilder, recordSteps, type InspectorStep } from '../../src/inspector/inspector-steps.js';
import type { RecordEntry } from '../../src/replay/record-entry.js';
import { readRecordFile } from '../../src/replay/record-file.js';

const RECORDS = ['initiator-rekeys-retransmit', 'responder-charon-rekeys', 'wrong-psk'].map((name) => `test/replay/records/${name}.jsonl`);

/** The record's inputs, each with the outs and states that followed, straight from the entries. */
function groups(entries: readonly RecordEntry[]): { outs: Buffer[]; states: { actor: string; value: unknown }[]; input: Extract<RecordEntry, { t: 'in' }> }[] {
  const out: ReturnType<typeof groups> = [];
  for (const e of entries) {
    if (e.t === 'in') out.push({ input: e, outs: [], states: [] });
    else if (e.t === 'out') out.at(-1)?.outs.push(Buffer.from(e.datagram.bytes));
    else if (e.t === 'state') out.at(-1)?.states.push({ actor: e.actor, value: e.value });
  }
  return out;
}

describe('steps of a record', () => {
  it.each(RECORDS)('%s: one step per input, with what followed from it', async (file) => {
    const entries = await readRecordFile(file);
    const steps = recordSteps(entries);
    const expected = groups(entries);
    expect(steps).toHaveLength(expected.length);
    steps.forEach((step, i) => {
      const g = expected[i]!;
      expect(step.index).toBe(i);
      expect(step.at).toBe(g.input.at);
      expect(step.input.kind).toBe(g.input.input.kind);
      expect(step.outputs.map((o) => o.octets)).toEqual(g.outs.map((b) => b.length));
      expect(step.states).toEqual(g.states);
    });
  });

  it('marks as repeats exactly the datagrams whose octets went the same way before', async () => {
    const entries = await readRecordFile(RECORDS[0]!);
    const steps = recordSteps(entries);
    const seen = new Set<string>();
    const expectedRepeats: boolean[] = [];
    for (const e of entries) {
      if (e.t === 'out' || (e.t === 'in' && e.input.kind === 'datagram')) {
        const key = `${e.t}:${Buffer.from(e.t === 'out' ? e.datagram.bytes : (e.input as { datagram: { bytes: Uint8Array } }).datagram.bytes).toString('hex')}`;
        expectedRepeats.push(seen.has(key));
        seen.add(key);
      }
    }
    const got = steps.flatMap((s) => [...(s.input.message === undefined ? [] : [s.input.message.repeat]), ...s.outputs.map((o) => o.repeat)]);
    expect(got).toEqual(expectedRepeats);
    // The record holds one retransmission: the rekey's CREATE_CHILD_SA request, sent again on its timer.
    const repeats = steps.flatMap((s) => s.outputs.filter((o) => o.repeat).map((o) => ({ o, s })));
    expect(repeats).toHaveLength(1);
    expect(repeats[0]!.s.input.text).toMatch(/^RETRANSMIT for ike-/);
    expect(repeats[0]!.o).toMatchObject({ direction: 'out', exchange: 'CREATE_CHILD_SA', response: false, payloads: ['SK'] });
  });

  it('decodes the header and the cleartext payloads; a protected message shows only SK', async () => {
    const steps = recordSteps(await readRecordFile(RECORDS[0]!));
    const init = steps[0]!.outputs[0]!;
    expect(init).toMatchObject({ direction: 'out', exchange: 'IKE_SA_INIT', response: false, initiator: true, messageId: 0, spiR: '0000000000000000' });
    expect(init.payloads.slice(0, 3)).toEqual(['SA', 'KE', 'Nonce']);
    const auth = steps.flatMap((s) => s.outputs).find((o) => o.exchange === 'IKE_AUTH')!;
    expect(auth.payloads).toEqual(['SK']);
    expect(steps[1]!.input).toMatchObject({ kind: 'datagram', text: 'IKE_SA_INIT response #0 in' });
  });

  it('carries no random draw: no nonce or DH value of the record appears in the steps', async () => {
    const entries = await readRecordFile(RECORDS[1]!);
    const json = JSON.stringify(recordSteps(entries));
    const draws = entries.flatMap((e) => (e.t === 'draw' && e.bytes.length >= 16 ? [e.bytes.toString('hex')] : []));
    expect(draws.length).toBeGreaterThan(0);
    for (const d of draws) expect(json).not.toContain(d);
  });

  it('a datagram that is not IKE is still a step, said to be undecodable', () => {
    const steps: InspectorStep[] = [];
    const builder = new InspectorStepBuilder((s) => steps.push(s));
    const endpoint = { address: '192.0.2.1', port: 500 };
    builder.push({ t: 'in', at: 1000, input: { kind: 'datagram', datagram: { local: endpoint, remote: endpoint, bytes: Buffer.from('not an IKE message at all, but 28+ octets long') } } });
    builder.push({ t: 'in', at: 1001, input: { kind: 'datagram', datagram: { local: endpoint, remote: endpoint, bytes: Buffer.from([1, 2, 3]) } } });
    builder.flush();
    expect(steps).toHaveLength(2);
    expect(steps[0]!.input.message?.undecodable).toBeTruthy();
    expect(steps[1]!.input.message).toMatchObject({ exchange: 'not IKE', payloads: [] });
  });

  it("a live stream's entries before its first input make a step of their own", () => {
    const steps: InspectorStep[] = [];
    const builder = new InspectorStepBuilder((s) => steps.push(s));
    builder.push({ t: 'state', actor: 'ike-0102030405060708', value: 'ikeSaInit' });
    builder.push({ t: 'in', at: 5, input: { kind: 'command', command: { name: 'refuseNewSas' } } });
    builder.flush();
    builder.push({ t: 'state', actor: 'ike-0102030405060708', value: 'closed' });
    builder.flush();
    expect(steps.map((s) => s.input.text)).toEqual(['the state of each actor when the inspector joined', 'command refuseNewSas', 'more that followed from the input before']);
    expect(steps.map((s) => s.index)).toEqual([0, 1, 2]);
  });
});
