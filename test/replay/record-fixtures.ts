/**
 * Records the daemon's negotiations with strongSwan into test/replay/records/, which
 * test/replay/recorded-negotiations.test.ts replays on every `npm test` (no root, no strongSwan
 * needed there): a behaviour change of the machines shows as a named divergence in them. After
 * an intended change, record them again (as root, with strongSwan as for test/interop):
 *
 *     npx tsx test/replay/record-fixtures.ts
 *
 * Each scenario writes NAME.jsonl (the record) and NAME.yaml (the configuration it ran under,
 * with its PSK: a test fixture, not a secret).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/control/control-client.js';
import { startCharon, type Charon } from '../interop/harness/charon.js';
import { labDaemonYaml, startLabDaemon, type LabDaemon } from '../interop/harness/daemon-process.js';
import { createLab, type Lab } from '../interop/harness/netns.js';
import { waitUntil } from '../interop/harness/process.js';
import { interopAvailable } from '../interop/harness/requirements.js';
import { labPskConf } from '../interop/harness/swanctl-conf.js';

export const RECORDS_DIR = fileURLToPath(new URL('./records/', import.meta.url));
const PSK = 'ikekm-recorded-fixture-psk';
const IKE = 'aes128gcm16-prfsha256-x25519';
const ESP = 'aes128gcm16';
const DROP_OUTBOUND = `table inet ikekm_drop {
  chain out { type filter hook output priority 0; policy accept; oifname "veth-a" drop; }
}
`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Scenario {
  readonly name: string;
  readonly what: string;
  readonly charonPsk?: string;
  run(lab: Lab, daemon: LabDaemon, charon: Charon): Promise<void>;
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'initiator-rekeys-retransmit',
    what: 'ikekm initiates; its Child SA rekey request is dropped once and retransmitted; it rekeys the IKE SA; it deletes',
    async run(lab, daemon, charon) {
      await daemon.cli(['up', 'lab']);
      await charon.waitForSas('charon to list the SA', (sas) => sas.length === 1 && sas[0]?.childSas[0]?.state === 'INSTALLED');
      await lab.exec('a', 'nft', ['-f', '-'], { input: DROP_OUTBOUND });
      const rekey = daemon.cli(['rekey', 'lab']);
      await sleep(700);
      await lab.exec('a', 'nft', ['delete', 'table', 'inet', 'ikekm_drop']);
      await rekey;
      await daemon.cli(['rekey', 'lab', '--ike']);
      await daemon.cli(['down', 'lab']);
    },
  },
  {
    name: 'responder-charon-rekeys',
    what: 'strongSwan initiates; it rekeys the Child SA and the IKE SA; it deletes',
    async run(_lab, daemon, charon) {
      await charon.initiate('net');
      await charon.rekey({ child: 'net' });
      await charon.rekey({ ike: 'lab' });
      await charon.terminate({ ike: 'lab' });
      await waitUntil('ikekm to have no SA', async () => ((await daemon.status()).ikeSas.length === 0 ? true : undefined), { timeoutMs: 10_000 });
    },
  },
  {
    name: 'child-rekey-collision',
    what: 'ikekm and strongSwan rekey the same Child SA at once (RFC 7296 2.8.1): each gets the other\'s request while its own is out; one new Child SA stays',
    async run(lab, daemon, charon) {
      await daemon.cli(['up', 'lab']);
      await charon.waitForSas('charon to list the SA', (sas) => sas.length === 1 && sas[0]?.childSas[0]?.state === 'INSTALLED');
      // ikekm's request is dropped until charon's has arrived: each side sees the other's while its own is outstanding.
      await lab.exec('a', 'nft', ['-f', '-'], { input: DROP_OUTBOUND });
      // Straight to the control socket: the CLI's start-up would let charon's rekey finish first.
      const rekey = controlRequest(daemon.socket, { cmd: 'rekey', name: 'lab' });
      await sleep(100);
      await charon.rekey({ child: 'net' }, { wait: false });
      await sleep(600);
      await lab.exec('a', 'nft', ['delete', 'table', 'inet', 'ikekm_drop']);
      await rekey;
      await charon.waitForLog(/detected CHILD_REKEY collision with CHILD_REKEY/);
      await waitUntil('one Child SA left at ikekm', async () => ((await daemon.status()).ikeSas[0]?.childSas.length === 1 ? true : undefined), { timeoutMs: 10_000 });
      await daemon.cli(['down', 'lab']);
    },
  },
  {
    name: 'wrong-psk',
    what: 'ikekm initiates with a PSK strongSwan does not have: AUTHENTICATION_FAILED',
    charonPsk: 'not-the-same-psk',
    async run(_lab, daemon) {
      await daemon.cli(['up', 'lab']);
    },
  },
];

/**
 * Runs `scenario` with `ikekm daemon --record` against charon in a fresh lab; the record and the
 * configuration end up in `outDir` as NAME.jsonl and NAME.yaml. Returns the daemon's log lines.
 */
export async function recordScenario(scenario: Scenario, outDir: string = RECORDS_DIR): Promise<{ record: string; config: string; logLines: Record<string, unknown>[] }> {
  const lab = await createLab({ ipv6: false });
  let charon: Charon | undefined;
  let daemon: LabDaemon | undefined;
  try {
    charon = await startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { psk: scenario.charonPsk ?? PSK, proposals: IKE, espProposals: ESP }) });
    const dir = join(lab.dir, 'ikekm-daemon');
    const file = join(dir, 'record.jsonl');
    daemon = await startLabDaemon(lab, {
      dir,
      daemonArgs: ['--record', file],
      yaml: (control) =>
        labDaemonYaml(lab, {
          control,
          ikeProposals: IKE,
          espProposals: ESP,
          ikePolicyExtras: 'retransmit: { timeout: 500ms, base: 1.4, tries: 5 }',
          connections: [{ name: 'lab', start: 'listen', psk: JSON.stringify(PSK) }],
        }),
    });
    await scenario.run(lab, daemon, charon);
    const exited = new Promise<void>((resolve) => daemon!.process.once('exit', () => resolve()));
    daemon.process.kill('SIGTERM');
    await exited;
    mkdirSync(outDir, { recursive: true });
    const out = { record: join(outDir, `${scenario.name}.jsonl`), config: join(outDir, `${scenario.name}.yaml`), logLines: daemon.logLines };
    copyFileSync(file, out.record);
    copyFileSync(daemon.configFile, out.config);
    return out;
  } finally {
    daemon?.kill();
    await charon?.stop();
    await lab.destroy();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const availability = interopAvailable();
  if (!availability.available) {
    console.error(`recording needs the interop lab; missing:\n  - ${availability.missing.join('\n  - ')}`);
    process.exit(1);
  }
  // `npx tsx test/replay/record-fixtures.ts [NAME…]`: those scenarios only (default: all).
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !SCENARIOS.some((s) => s.name === name));
  if (unknown.length > 0) {
    console.error(`no such scenario: ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  for (const scenario of SCENARIOS.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
    await recordScenario(scenario);
    console.log(`${scenario.name}: ${scenario.what}`);
  }
}
