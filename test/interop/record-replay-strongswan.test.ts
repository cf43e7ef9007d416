/**
 * A record of a real negotiation with strongSwan replays identically: `ikekm daemon --record`
 * (side a) sets up a tunnel with charon (side b), rekeys the Child SA while nftables drops what
 * ikekm sends (so its CREATE_CHILD_SA request is retransmitted, RFC 7296 2.1), rekeys the IKE SA
 * and deletes it (test/replay/record-fixtures.ts, the scenario the committed records come from,
 * run afresh here); stopped, its record replays through `ikekm replay` with every datagram out
 * byte for byte and every state as recorded.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { replayCommand } from '../../src/cli/replay-command.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { readRecordFile } from '../../src/replay/record-file.js';
import { replayRecord } from '../../src/replay/replay.js';
import { ExchangeType } from '../../src/wire/index.js';
import { recordScenario, SCENARIOS } from '../replay/record-fixtures.js';
import { commandOutput } from '../support/command-output.js';
import { describeInterop } from './harness/requirements.js';

describeInterop(
  'a record of a negotiation with strongSwan replays identically',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-record-interop-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('up, a Child SA rekey retransmitted, an IKE SA rekey, down, SIGTERM: the record replays as recorded', async () => {
      const scenario = SCENARIOS.find((s) => s.name === 'initiator-rekeys-retransmit')!;
      const { record, config, logLines } = await recordScenario(scenario, dir);
      expect(logLines.some((l) => l.msg === 'recording every input of the negotiations for ikekm replay: the record holds key material (DH private values, nonces), 0600')).toBe(true);

      // Copied with its mode: the daemon made it 0600.
      expect(statSync(record).mode & 0o777).toBe(0o600);
      const text = readFileSync(record, 'utf8');
      expect(text).not.toContain('ikekm-recorded-fixture-psk');
      const entries = await readRecordFile(record);
      // The retransmission is in it: the timer's event as an input, the rekey request out twice or
      // more, then the IKE SA rekey's request (the record holds the message, without the non-ESP marker).
      expect(entries.some((e) => e.t === 'in' && e.input.kind === 'deliver' && e.input.event.type === 'RETRANSMIT')).toBe(true);
      expect(entries.filter((e) => e.t === 'out' && e.datagram.bytes[18] === ExchangeType.CREATE_CHILD_SA).length).toBeGreaterThanOrEqual(3);

      const loaded = await loadConfigFile(config);
      expect(loaded.ok).toBe(true);
      if (!loaded.ok) return;
      expect(await replayRecord(entries, { registry: cryptoRegistry, secrets: loaded.value.engine })).toMatchObject({ ok: true });
      const cli = await commandOutput(() => replayCommand([record, '--config', config]));
      expect(cli.code).toBe(0);
      expect(cli.out).toMatch(/as recorded/);
    }, 120_000);
  },
  { nft: true },
);
