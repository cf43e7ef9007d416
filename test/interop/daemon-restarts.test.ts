/**
 * Restarts between the `ikekm daemon` process (side a, 192.0.2.1) and strongSwan's charon (side
 * b): charon is killed (SIGKILL: no Delete, every SA forgotten) and a fresh charon started with a
 * clean state; ikekm's on-load connection finds the stale IKE SA dead (DPD, RFC 7296 2.4) and
 * initiates it again (dpdAction restart, the default for on-load), so the tunnel is back at the
 * new charon without anyone touching ikekm. Then charon deletes the IKE SA (swanctl --terminate):
 * closeAction start brings it back at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { DaemonStatus } from '../../src/control/daemon-status.js';
import { startCharon, type Charon } from './harness/charon.js';
import { REPO_ROOT } from './harness/ikekm.js';
import { createLab, IP, type Lab } from './harness/netns.js';
import { waitUntil } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';

const PSK = 'ikekm-restart-interop-psk';
const IKE = 'aes256gcm16-prfsha384-ecp384';
const ESP = 'aes128gcm16';
const IKEKM = join(REPO_ROOT, 'bin/ikekm.js');
/** DPD every 2 s, the peer dead after 6 s without an answer. */
const DPD = { interval: 2, timeout: 6 };

function ikekmYaml(lab: Lab, control: string): string {
  return `${[
    'daemon:',
    `  listen: [${lab.a.outer4}]`,
    '  ports: { ike: 500, natt: 4500 }',
    `  control: ${JSON.stringify(control)}`,
    '  kernel: memory',
    'ikePolicies:',
    `  lab-ike: { version: 2, auth: psk, proposals: [${IKE}], lifetime: 24h, dpd: { interval: ${DPD.interval}s, timeout: ${DPD.timeout}s }, retransmit: { timeout: 1s, base: 1.5, tries: 3 } }`,
    'dataPolicies:',
    `  lab-data: { protocol: esp, mode: tunnel, proposals: [${ESP}], lifetime: 60m }`,
    'connections:',
    '  lab:',
    '    ikePolicy: lab-ike',
    '    dataPolicy: lab-data',
    `    local: { address: ${lab.a.outer4}, id: ${lab.a.outer4}, psk: ${JSON.stringify(PSK)} }`,
    `    remote: { address: ${lab.b.outer4}, id: ${lab.b.outer4} }`,
    `    traffic: { local: [${lab.a.inner4}/32], remote: [${lab.b.inner4}/32] }`,
    '    start: on-load',
  ].join('\n')}\n`;
}

describeInterop('restarts between the ikekm daemon and strongSwan', () => {
  let lab: Lab;
  let charon: Charon | undefined;
  let charons = 0;
  let daemon: ChildProcess | undefined;
  const logLines: Record<string, unknown>[] = [];
  let dir: string;
  let socket: string;

  const cli = (args: readonly string[]) => lab.exec('a', process.execPath, [IKEKM, ...args, '--socket', socket], { timeoutMs: 30_000 });
  const ikekmStatus = async (): Promise<DaemonStatus> => JSON.parse((await cli(['status', '--json'])).stdout) as DaemonStatus;
  /** A charon with a state of its own (its own directory: nothing of the previous one). */
  const freshCharon = async (): Promise<Charon> =>
    startCharon(lab.b.ns, { dir: join(lab.dir, `b${++charons}`), conf: labPskConf(lab, 'b', { psk: PSK, proposals: IKE, espProposals: ESP }) });
  const charonUp = (c: Charon, what: string, timeoutMs = 15_000) =>
    c.waitForSas(what, (sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && sas[0]?.childSas[0]?.state === 'INSTALLED', { timeoutMs });

  beforeAll(async () => {
    lab = await createLab({ ipv6: false });
    dir = join(lab.dir, 'ikekm-daemon');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const configFile = join(dir, 'ikekm.yaml');
    socket = join(dir, 'run', 'ikekm.sock');
    writeFileSync(configFile, ikekmYaml(lab, socket), { mode: 0o600 });
    charon = await freshCharon();
    daemon = spawn(IP, ['netns', 'exec', lab.a.ns, process.execPath, IKEKM, 'daemon', '--config', configFile, '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: daemon.stdout! }).on('line', (line) => logLines.push(JSON.parse(line) as Record<string, unknown>));
    await waitUntil('the ikekm daemon to start', async () => (logLines.some((l) => l.msg === 'ikekm daemon started') ? true : undefined), { timeoutMs: 30_000 });
  }, 90_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') {
      lab.keepArtifacts();
      writeFileSync(join(dir, 'ikekm.log'), logLines.map((l) => JSON.stringify(l)).join('\n'));
    }
  });

  afterAll(async () => {
    if (daemon !== undefined && daemon.exitCode === null) daemon.kill('SIGKILL');
    await charon?.stop();
    await lab?.destroy();
  }, 60_000);

  it('charon killed and started afresh: the on-load connection is found dead and re-established at the new charon', async () => {
    const [first] = await charonUp(charon!, 'the on-load connection at charon');
    const killed = charon!;
    process.kill(killed.pid ?? 0, 'SIGKILL');
    await killed.stop();
    charon = await freshCharon();
    expect(await charon.listSas()).toEqual([]);

    // DPD (2 s, then 6 s unanswered) finds the old SA dead; the restart policy initiates at once.
    const [second] = await charonUp(charon, 'the connection back at the new charon', 30_000);
    expect(second?.spiI).not.toBe(first?.spiI);
    expect(second?.initiator).toBe(false);
    await waitUntil('ikekm to list the new SA alone', async () => {
      const status = await ikekmStatus();
      return status.ikeSas.length === 1 && status.ikeSas[0]?.spiI === second?.spiI && status.ikeSas[0]?.state === 'ESTABLISHED' ? true : undefined;
    }, { timeoutMs: 10_000 });
    expect(logLines.find((l) => l.msg === 'IKE SA closed' && l.spiI === first?.spiI)).toMatchObject({ reason: expect.stringMatching(/^peer not responding/) });
    // One attempt brought it back: no storm.
    expect(logLines.filter((l) => l.msg === 'initiating connection again (restart policy)')).toHaveLength(1);
  }, 90_000);

  it("charon deletes the IKE SA (swanctl --terminate): ikekm initiates it again at once (closeAction start)", async () => {
    const [before] = await charonUp(charon!, 'the connection at charon');
    const terminate = await charon!.swanctl(['--terminate', '--ike', 'lab']);
    expect(terminate.ok).toBe(true);
    const [after] = await charon!.waitForSas(
      'a new IKE SA from ikekm',
      (sas) => sas.length === 1 && sas[0]?.spiI !== before?.spiI && sas[0]?.state === 'ESTABLISHED' && sas[0]?.childSas[0]?.state === 'INSTALLED',
      { timeoutMs: 15_000 },
    );
    expect(after?.initiator).toBe(false);
    expect(logLines.find((l) => l.msg === 'IKE SA closed' && l.spiI === before?.spiI)).toMatchObject({ reason: 'deleted by the peer' });
  }, 60_000);
});
