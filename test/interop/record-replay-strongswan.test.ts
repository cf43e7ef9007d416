/**
 * A record of a real negotiation with strongSwan replays identically: `ikekm daemon --record`
 * (side a) sets up a tunnel with charon (side b), rekeys the Child SA while nftables drops what
 * ikekm sends (so its CREATE_CHILD_SA request is retransmitted, RFC 7296 2.1), rekeys the IKE SA
 * and deletes it; stopped, its record replays through `ikekm replay` with every datagram out
 * byte for byte and every state as recorded.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { replayCommand } from '../../src/cli/replay-command.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { readRecordFile } from '../../src/replay/record-file.js';
import { replayRecord } from '../../src/replay/replay.js';
import { ExchangeType } from '../../src/wire/index.js';
import { startCharon, type Charon } from './harness/charon.js';
import { labDaemonYaml, startLabDaemon, type LabDaemon } from './harness/daemon-process.js';
import { createLab, type Lab } from './harness/netns.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';

const PSK = 'ikekm-record-replay-psk';
const IKE = 'aes128gcm16-prfsha256-x25519';
const ESP = 'aes128gcm16';

/** Drops every packet ikekm's namespace sends on its veth. */
const DROP_OUTBOUND = `table inet ikekm_drop {
  chain out { type filter hook output priority 0; policy accept; oifname "veth-a" drop; }
}
`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeInterop(
  'a record of a negotiation with strongSwan replays identically',
  () => {
    let lab: Lab;
    let charon: Charon | undefined;
    let daemon: LabDaemon | undefined;
    let record: string;

    beforeAll(async () => {
      lab = await createLab({ ipv6: false });
      charon = await startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { psk: PSK, proposals: IKE, espProposals: ESP }) });
      const dir = join(lab.dir, 'ikekm-daemon');
      record = join(dir, 'record.jsonl');
      daemon = await startLabDaemon(lab, {
        dir,
        daemonArgs: ['--record', record],
        yaml: (control) =>
          labDaemonYaml(lab, {
            control,
            ikeProposals: IKE,
            espProposals: ESP,
            ikePolicyExtras: 'retransmit: { timeout: 500ms, base: 1.4, tries: 5 }',
            connections: [{ name: 'lab', start: 'listen', psk: JSON.stringify(PSK) }],
          }),
      });
    }, 90_000);

    afterAll(async () => {
      await lab?.exec('a', 'nft', ['delete', 'table', 'inet', 'ikekm_drop']);
      daemon?.kill();
      await charon?.stop();
      await lab?.destroy();
    }, 60_000);

    it('up, a Child SA rekey retransmitted, an IKE SA rekey, down, SIGTERM: the record replays as recorded', async () => {
      const cli = (args: readonly string[]) => daemon!.cli(args);
      expect((await cli(['up', 'lab'])).stderr).toBe('');
      await charon!.waitForSas('charon to list the SA', (sas) => sas.length === 1 && sas[0]?.childSas[0]?.state === 'INSTALLED');

      expect((await lab.exec('a', 'nft', ['-f', '-'], { input: DROP_OUTBOUND })).ok).toBe(true);
      const rekey = cli(['rekey', 'lab']);
      await sleep(700);
      expect((await lab.exec('a', 'nft', ['delete', 'table', 'inet', 'ikekm_drop'])).ok).toBe(true);
      expect((await rekey).stderr).toBe('');
      expect((await cli(['rekey', 'lab', '--ike'])).stderr).toBe('');
      expect((await cli(['down', 'lab'])).stderr).toBe('');
      const exited = new Promise<number | null>((resolve) => daemon!.process.once('exit', (code) => resolve(code)));
      daemon!.process.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(daemon!.logLines.some((l) => l.msg === 'recording every input of the negotiations for ikekm replay: the record holds key material (DH private values, nonces), 0600')).toBe(true);

      expect(statSync(record).mode & 0o777).toBe(0o600);
      expect(readFileSync(record, 'utf8')).not.toContain(PSK);
      const entries = await readRecordFile(record);
      // The retransmission is in it: the timer's event as an input, the rekey request out twice or
      // more, then the IKE SA rekey's request (the record holds the message, without the non-ESP marker).
      expect(entries.some((e) => e.t === 'in' && e.input.kind === 'deliver' && e.input.event.type === 'RETRANSMIT')).toBe(true);
      const createChild = entries.filter((e) => e.t === 'out' && e.datagram.bytes[18] === ExchangeType.CREATE_CHILD_SA);
      expect(createChild.length).toBeGreaterThanOrEqual(3);

      const loaded = await loadConfigFile(daemon!.configFile);
      expect(loaded.ok).toBe(true);
      if (!loaded.ok) return;
      const outcome = await replayRecord(entries, { registry: cryptoRegistry, secrets: loaded.value.engine });
      expect(outcome).toMatchObject({ ok: true });

      let printed = '';
      const write = process.stdout.write;
      process.stdout.write = ((chunk: string | Uint8Array) => {
        printed += chunk.toString();
        return true;
      }) as typeof process.stdout.write;
      try {
        expect(await replayCommand([record, '--config', daemon!.configFile])).toBe(0);
      } finally {
        process.stdout.write = write;
      }
      expect(printed).toMatch(/as recorded/);
    }, 120_000);
  },
  { nft: true },
);
