/**
 * Records of the daemon's negotiations with strongSwan (test/replay/records/, made by
 * record-fixtures.ts as root with charon), replayed on every run: the machines must still send
 * every datagram byte for byte and take every state as they did. A change in behaviour shows
 * here as the first divergence, named; an intended one is recorded again.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { readRecordFile } from '../../src/replay/record-file.js';
import { replayRecord } from '../../src/replay/replay.js';
import { describeDivergence } from '../../src/cli/replay-command.js';
import type { RecordEntry } from '../../src/replay/record-entry.js';
import { ExchangeType } from '../../src/wire/index.js';
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
