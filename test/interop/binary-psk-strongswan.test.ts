/**
 * A binary PSK written as strongSwan writes it copies across: charon's swanctl.conf has
 * `secret = 0x…`, and the ikekm daemon's YAML the same `0x…`, then the same key as `0s…` (base64)
 * and as a raw PSK file (SIGHUP between them). Each `ikekm up` reaches AUTH at charon, which it
 * only passes when both sides hold the same bytes (RFC 7296 2.15). The key has a NUL, bytes that
 * are not UTF-8 and a final 0x0a: none of them may be lost on the way.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startCharon, type Charon } from './harness/charon.js';
import { labDaemonYaml, startLabDaemon, type LabDaemon } from './harness/daemon-process.js';
import { createLab, type Lab } from './harness/netns.js';
import { waitUntil } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';

const KEY = Buffer.from('00ff10e2808041c3286162636465666768696a6b6c6d6e6f707172737475760a', 'hex');
const IKE = 'aes256gcm16-prfsha384-ecp384';
const ESP = 'aes128gcm16';

/** `psk` is the YAML scalar ikekm gets. */
const ikekmYaml = (lab: Lab, control: string, psk: string): string =>
  labDaemonYaml(lab, { control, ikeProposals: IKE, espProposals: ESP, connections: [{ name: 'lab', start: 'listen', psk }] });

describeInterop('a binary PSK between the ikekm daemon and strongSwan', () => {
  let lab: Lab;
  let charon: Charon | undefined;
  let daemon: LabDaemon | undefined;
  let dir: string;

  const cli = (args: readonly string[]) => daemon!.cli(args);

  beforeAll(async () => {
    lab = await createLab({ ipv6: false });
    dir = join(lab.dir, 'ikekm-daemon');
    charon = await startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { psk: `0x${KEY.toString('hex')}`, proposals: IKE, espProposals: ESP }) });
    daemon = await startLabDaemon(lab, { dir, yaml: (control) => ikekmYaml(lab, control, `"0x${KEY.toString('hex')}"`) });
  }, 90_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') daemon?.saveLogOnFailure();
  });

  afterAll(async () => {
    daemon?.kill();
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
    const before = daemon!.logLines.filter((l) => l.msg === 'configuration reloaded').length;
    daemon!.writeConfig(ikekmYaml(lab, daemon!.socket, psk));
    daemon!.process.kill('SIGHUP');
    await waitUntil('the reload', async () => (daemon!.logLines.filter((l) => l.msg === 'configuration reloaded').length > before ? true : undefined), { timeoutMs: 10_000 });
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
