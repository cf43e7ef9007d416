/**
 * `ikekm daemon --config FILE` as a process in the lab namespace (side a, 192.0.2.1, UDP
 * 500/4500) against strongSwan's charon (side b): the CLI through `--socket` brings the
 * connection up, `status --json` shows the SA with the negotiated algorithms (and the NAT
 * kernel-libipsec pretends), `down` deletes it at charon too, SIGHUP reloads the file (a new
 * on-load connection comes up), SIGTERM deletes every SA at charon and exits 0.
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

const PSK = 'ikekm-daemon-interop-psk';
const IKE = 'aes256gcm16-prfsha384-ecp384';
const ESP = 'aes128gcm16';
const IKEKM = join(REPO_ROOT, 'bin/ikekm.js');

/** ikekm's YAML for side a; `extra` is a second connection with the same peer and selectors. */
function ikekmYaml(lab: Lab, control: string, connections: readonly { name: string; start: string }[]): string {
  const lines = [
    'daemon:',
    `  listen: [${lab.a.outer4}]`,
    '  ports: { ike: 500, natt: 4500 }',
    `  control: ${JSON.stringify(control)}`,
    // strongSwan carries the traffic here (kernel-libipsec); ikekm on XFRM is test/kernel-vm's.
    '  kernel: memory',
    'ikePolicies:',
    `  lab-ike: { version: 2, auth: psk, proposals: [${IKE}], lifetime: 24h }`,
    'dataPolicies:',
    `  lab-data: { protocol: esp, mode: tunnel, proposals: [${ESP}], lifetime: 60m }`,
    'connections:',
  ];
  for (const c of connections) {
    lines.push(
      `  ${c.name}:`,
      '    ikePolicy: lab-ike',
      '    dataPolicy: lab-data',
      `    local: { address: ${lab.a.outer4}, id: ${lab.a.outer4}, psk: ${JSON.stringify(PSK)} }`,
      `    remote: { address: ${lab.b.outer4}, id: ${lab.b.outer4} }`,
      `    traffic: { local: [${lab.a.inner4}/32], remote: [${lab.b.inner4}/32] }`,
      `    start: ${c.start}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

describeInterop('the ikekm daemon process with strongSwan', () => {
  let lab: Lab;
  let charon: Charon | undefined;
  let daemon: ChildProcess | undefined;
  const logLines: Record<string, unknown>[] = [];
  let dir: string;
  let configFile: string;
  let socket: string;

  /** `ikekm ARGS --socket S` inside side a's namespace. */
  const cli = (args: readonly string[]) => lab.exec('a', process.execPath, [IKEKM, ...args, '--socket', socket], { timeoutMs: 30_000 });
  const charonSas = async () => (charon === undefined ? [] : charon.listSas());

  beforeAll(async () => {
    lab = await createLab({ ipv6: false });
    dir = join(lab.dir, 'ikekm-daemon');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    configFile = join(dir, 'ikekm.yaml');
    socket = join(dir, 'run', 'ikekm.sock');
    writeFileSync(configFile, ikekmYaml(lab, socket, [{ name: 'lab', start: 'listen' }]), { mode: 0o600 });
    charon = await startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { psk: PSK, proposals: IKE, espProposals: ESP }) });
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

  it('ikekm up, status --json with the negotiated algorithms, ikekm down deletes at strongSwan too', async () => {
    const up = await cli(['up', 'lab']);
    expect(up.stderr).toBe('');
    expect(up.stdout).toMatch(/^lab up: IKE SA [0-9a-f]{16}_i [0-9a-f]{16}_r, Child SA [0-9a-f]{8}_i [0-9a-f]{8}_o\n$/);

    const [theirs] = await charon!.waitForSas('charon to list the SA', (sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && sas[0]?.childSas[0]?.state === 'INSTALLED');
    const status = JSON.parse((await cli(['status', '--json'])).stdout) as DaemonStatus;
    expect(status.ikeSas).toHaveLength(1);
    const [ours] = status.ikeSas;
    expect(ours).toMatchObject({
      connection: 'lab',
      state: 'ESTABLISHED',
      role: 'initiator',
      peer: { address: lab.b.outer4, port: 4500, id: lab.b.outer4 },
      spiI: theirs?.spiI,
      spiR: theirs?.spiR,
      algorithms: { encryption: 'aes256gcm16', prf: 'prfsha384', dh: 'ecp384' },
      natDetected: true,
    });
    expect(ours?.childSas).toHaveLength(1);
    expect(ours?.childSas[0]).toMatchObject({
      state: 'INSTALLED',
      mode: 'tunnel',
      spiIn: theirs?.childSas[0]?.spiOut,
      spiOut: theirs?.childSas[0]?.spiIn,
      algorithms: { encryption: 'aes128gcm16', esn: false },
      localTs: [`${lab.a.inner4}/32`],
      remoteTs: [`${lab.b.inner4}/32`],
    });
    // charon agrees on the algorithms.
    expect(theirs).toMatchObject({ encrAlg: 'AES_GCM_16', encrKeysize: 256, prfAlg: 'PRF_HMAC_SHA2_384', dhGroup: 'ECP_384' });

    const down = await cli(['down', 'lab']);
    expect(down.stdout).toBe('lab down: 1 IKE SA(s) deleted at the peer\n');
    await charon!.waitForSas('charon to drop the SA', (sas) => sas.length === 0);
    expect(JSON.parse((await cli(['status', '--json'])).stdout)).toEqual({ ikeSas: [], traps: [], restarts: [] });
  }, 60_000);

  it('SIGHUP reloads the file: a new on-load connection comes up at strongSwan', async () => {
    writeFileSync(configFile, ikekmYaml(lab, socket, [{ name: 'lab', start: 'listen' }, { name: 'extra', start: 'on-load' }]), { mode: 0o600 });
    daemon!.kill('SIGHUP');
    await charon!.waitForSas('the new connection at charon', (sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && sas[0]?.childSas.length === 1);
    expect(logLines.find((l) => l.msg === 'configuration reloaded')).toMatchObject({ added: ['extra'], unchanged: ['lab'] });
    await waitUntil('ikekm to list extra', async () => {
      const status = JSON.parse((await cli(['status', '--json'])).stdout) as DaemonStatus;
      return status.ikeSas.some((sa) => sa.connection === 'extra' && sa.state === 'ESTABLISHED') ? true : undefined;
    }, { timeoutMs: 10_000 });
  }, 60_000);

  it('SIGTERM deletes every SA at strongSwan and exits 0', async () => {
    expect(await charonSas()).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => daemon!.once('exit', (code) => resolve(code)));
    daemon!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await charonSas()).toEqual([]);
    expect(logLines.some((l) => l.msg === 'ikekm daemon stopped' && l.unanswered === 0)).toBe(true);
  }, 30_000);
});
