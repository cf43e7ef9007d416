/**
 * `ikekm daemon --config FILE` as a process in the lab namespace (side a, 192.0.2.1, UDP
 * 500/4500) against strongSwan's charon (side b): the CLI through `--socket` brings the
 * connection up, `status --json` shows the SA with the negotiated algorithms (and the NAT
 * kernel-libipsec pretends), `down` deletes it at charon too, SIGHUP reloads the file (a new
 * on-load connection comes up), SIGTERM deletes every SA at charon and exits 0.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startCharon, type Charon } from './harness/charon.js';
import { labDaemonYaml, startLabDaemon, type LabDaemon } from './harness/daemon-process.js';
import { createLab, type Lab } from './harness/netns.js';
import { waitUntil } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';

const PSK = 'ikekm-daemon-interop-psk';
const IKE = 'aes256gcm16-prfsha384-ecp384';
const ESP = 'aes128gcm16';

/** ikekm's YAML for side a: connections with the same peer and selectors. */
const ikekmYaml = (lab: Lab, control: string, connections: readonly { name: string; start: 'listen' | 'on-load' }[]): string =>
  labDaemonYaml(lab, { control, ikeProposals: IKE, espProposals: ESP, connections: connections.map((c) => ({ ...c, psk: JSON.stringify(PSK) })) });

describeInterop('the ikekm daemon process with strongSwan', () => {
  let lab: Lab;
  let charon: Charon | undefined;
  let daemon: LabDaemon | undefined;

  const cli = (args: readonly string[]) => daemon!.cli(args);
  const charonSas = async () => (charon === undefined ? [] : charon.listSas());

  beforeAll(async () => {
    lab = await createLab({ ipv6: false });
    charon = await startCharon(lab.b.ns, { dir: join(lab.dir, 'b'), conf: labPskConf(lab, 'b', { psk: PSK, proposals: IKE, espProposals: ESP }) });
    daemon = await startLabDaemon(lab, { dir: join(lab.dir, 'ikekm-daemon'), yaml: (control) => ikekmYaml(lab, control, [{ name: 'lab', start: 'listen' }]) });
  }, 90_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') daemon?.saveLogOnFailure();
  });

  afterAll(async () => {
    daemon?.kill();
    await charon?.stop();
    await lab?.destroy();
  }, 60_000);

  it('ikekm up, status --json with the negotiated algorithms, ikekm down deletes at strongSwan too', async () => {
    const up = await cli(['up', 'lab']);
    expect(up.stderr).toBe('');
    expect(up.stdout).toMatch(/^lab up: IKE SA [0-9a-f]{16}_i [0-9a-f]{16}_r, Child SA [0-9a-f]{8}_i [0-9a-f]{8}_o\n$/);

    const [theirs] = await charon!.waitForSas('charon to list the SA', (sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && sas[0]?.childSas[0]?.state === 'INSTALLED');
    const status = await daemon!.status();
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
    expect(await daemon!.status()).toEqual({ ikeSas: [], traps: [], restarts: [] });
  }, 60_000);

  it('SIGHUP reloads the file: a new on-load connection comes up at strongSwan', async () => {
    daemon!.writeConfig(ikekmYaml(lab, daemon!.socket, [{ name: 'lab', start: 'listen' }, { name: 'extra', start: 'on-load' }]));
    daemon!.process.kill('SIGHUP');
    await charon!.waitForSas('the new connection at charon', (sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && sas[0]?.childSas.length === 1);
    expect(daemon!.logLines.find((l) => l.msg === 'configuration reloaded')).toMatchObject({ added: ['extra'], unchanged: ['lab'] });
    await waitUntil('ikekm to list extra', async () => {
      const status = await daemon!.status();
      return status.ikeSas.some((sa) => sa.connection === 'extra' && sa.state === 'ESTABLISHED') ? true : undefined;
    }, { timeoutMs: 10_000 });
  }, 60_000);

  it('SIGTERM deletes every SA at strongSwan and exits 0', async () => {
    expect(await charonSas()).toHaveLength(1);
    const exited = new Promise<number | null>((resolve) => daemon!.process.once('exit', (code) => resolve(code)));
    daemon!.process.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await charonSas()).toEqual([]);
    expect(daemon!.logLines.some((l) => l.msg === 'ikekm daemon stopped' && l.unanswered === 0)).toBe(true);
  }, 30_000);
});
