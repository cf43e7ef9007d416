/**
 * A binary PSK written as strongSwan writes it copies across: charon's swanctl.conf has
 * `secret = 0x…`, and the ikekm daemon's YAML the same `0x…`, then the same key as `0s…` (base64)
 * and as a raw PSK file (SIGHUP between them). Each `ikekm up` reaches AUTH at charon, which it
 * only passes when both sides hold the same bytes (RFC 7296 2.15). The key has a NUL, bytes that
 * are not UTF-8 and a final 0x0a: none of them may be lost on the way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startCharon, type Charon } from './harness/charon.js';
import { REPO_ROOT } from './harness/ikekm.js';
import { createLab, IP, type Lab } from './harness/netns.js';
import { waitUntil } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';

const KEY = Buffer.from('00ff10e2808041c3286162636465666768696a6b6c6d6e6f707172737475760a', 'hex');
const IKE = 'aes256gcm16-prfsha384-ecp384';
const ESP = 'aes128gcm16';
const IKEKM = join(REPO_ROOT, 'bin/ikekm.js');

function ikekmYaml(lab: Lab, control: string, psk: string): string {
  return [
    'daemon:',
    `  listen: [${lab.a.outer4}]`,
    '  ports: { ike: 500, natt: 4500 }',
    `  control: ${JSON.stringify(control)}`,
    '  kernel: memory',
    'ikePolicies:',
    `  lab-ike: { version: 2, auth: psk, proposals: [${IKE}], lifetime: 24h }`,
    'dataPolicies:',
    `  lab-data: { protocol: esp, mode: tunnel, proposals: [${ESP}], lifetime: 60m }`,
    'connections:',
    '  lab:',
    '    ikePolicy: lab-ike',
    '    dataPolicy: lab-data',
    `    local: { address: ${lab.a.outer4}, id: ${lab.a.outer4}, psk: ${psk} }`,
    `    remote: { address: ${lab.b.outer4}, id: ${lab.b.outer4} }`,
    `    traffic: { local: [${lab.a.inner4}/32], remote: [${lab.b.inner4}/32] }`,
    '    start: listen',
    '',
  ].join('\n');
}

describeInterop('a binary PSK between the ikekm daemon and strongSwan', () => {
  let lab: Lab;
  let charon: Charon | undefined;
  let daemon: ChildProcess | undefined;
  const logLines: Record<string, unknown>[] = [];
  let dir: string;
  let configFile: string;
  let socket: string;

  const cli = (args: readonly string[]) => lab.exec('a', process.execPath, [IKEKM, ...args, '--socket', socket], { timeoutMs: 30_000 });

  beforeAll(async () => {
    lab = await createLab({ ipv6: false });
    dir = join(lab.dir, 'ikekm-daemon');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    configFile = join(dir, 'ikekm.yaml');
    socket = join(dir, 'run', 'ikekm.sock');
    writeFileSync(configFile, ikekmYaml(lab, socket, `"0x${KEY.toString('hex')}"`), { mode: 0o600 });
    charon = await startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { psk: `0x${KEY.toString('hex')}`, proposals: IKE, espProposals: ESP }) });
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

  const upAndDown = async (): Promise<void> => {
    const up = await cli(['up', 'lab']);
    expect(up.stderr).toBe('');
    expect(up.stdout).toMatch(/^lab up: IKE SA /);
    await charon!.waitForSas('charon to hold the SA', (sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED');
    await cli(['down', 'lab']);
    await charon!.waitForSas('charon to drop the SA', (sas) => sas.length === 0);
  };

  const reloadWith = async (psk: string): Promise<void> => {
    const before = logLines.filter((l) => l.msg === 'configuration reloaded').length;
    writeFileSync(configFile, ikekmYaml(lab, socket, psk), { mode: 0o600 });
    daemon!.kill('SIGHUP');
    await waitUntil('the reload', async () => (logLines.filter((l) => l.msg === 'configuration reloaded').length > before ? true : undefined), { timeoutMs: 10_000 });
  };

  it('0x hex on both sides', async () => {
    await upAndDown();
  }, 60_000);

  it('0s base64 in ikekm, 0x hex in charon', async () => {
    await reloadWith(`"0s${KEY.toString('base64')}"`);
    await upAndDown();
  }, 60_000);

  it('a raw PSK file in ikekm, byte for byte', async () => {
    const keyFile = join(dir, 'lab.psk');
    writeFileSync(keyFile, KEY, { mode: 0o600 });
    await reloadWith(`{ file: ${JSON.stringify(keyFile)} }`);
    await upAndDown();
  }, 60_000);
});
