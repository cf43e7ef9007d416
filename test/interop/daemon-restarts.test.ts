/**
 * Restarts between the `ikekm daemon` process (side a, 192.0.2.1) and strongSwan's charon (side
 * b): charon is killed (SIGKILL: no Delete, every SA forgotten) and a fresh charon started with a
 * clean state; ikekm's on-load connection finds the stale IKE SA dead (DPD, RFC 7296 2.4) and
 * initiates it again (dpdAction restart, the default for on-load), so the tunnel is back at the
 * new charon without anyone touching ikekm. Then charon deletes the IKE SA (swanctl --terminate):
 * closeAction start brings it back at once.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { startCharon, type Charon } from './harness/charon.js';
import { labDaemonYaml, startLabDaemon, type LabDaemon } from './harness/daemon-process.js';
import { createLab, type Lab } from './harness/netns.js';
import { waitUntil } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';

const PSK = 'ikekm-restart-interop-psk';
const IKE = 'aes256gcm16-prfsha384-ecp384';
const ESP = 'aes128gcm16';
/** DPD every 2 s, the peer dead after 6 s without an answer. */
const DPD = { interval: 2, timeout: 6 };

const ikekmYaml = (lab: Lab, control: string): string =>
  labDaemonYaml(lab, {
    control,
    ikeProposals: IKE,
    espProposals: ESP,
    ikePolicyExtras: `dpd: { interval: ${DPD.interval}s, timeout: ${DPD.timeout}s }, retransmit: { timeout: 1s, base: 1.5, tries: 3 }`,
    connections: [{ name: 'lab', start: 'on-load', psk: JSON.stringify(PSK) }],
  });

describeInterop('restarts between the ikekm daemon and strongSwan', () => {
  let lab: Lab;
  let charon: Charon | undefined;
  let charons = 0;
  let daemon: LabDaemon | undefined;

  const ikekmStatus = () => daemon!.status();
  /** A charon with a state of its own (its own directory: nothing of the previous one). */
  const freshCharon = async (): Promise<Charon> =>
    startCharon(lab.b.ns, { dir: join(lab.dir, `b${++charons}`), conf: labPskConf(lab, 'b', { psk: PSK, proposals: IKE, espProposals: ESP }) });
  const charonUp = (c: Charon, what: string, timeoutMs = 15_000) =>
    c.waitForSas(what, (sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && sas[0]?.childSas[0]?.state === 'INSTALLED', { timeoutMs });

  beforeAll(async () => {
    lab = await createLab({ ipv6: false });
    charon = await freshCharon();
    daemon = await startLabDaemon(lab, { dir: join(lab.dir, 'ikekm-daemon'), yaml: (control) => ikekmYaml(lab, control) });
  }, 90_000);

  afterEach((context) => {
    if (context.task.result?.state === 'fail') daemon?.saveLogOnFailure();
  });

  afterAll(async () => {
    daemon?.kill();
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
    expect(daemon!.logLines.find((l) => l.msg === 'IKE SA closed' && l.spiI === first?.spiI)).toMatchObject({ reason: expect.stringMatching(/^peer not responding/) });
    // One attempt brought it back: no storm.
    expect(daemon!.logLines.filter((l) => l.msg === 'initiating connection again (restart policy)')).toHaveLength(1);
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
    expect(daemon!.logLines.find((l) => l.msg === 'IKE SA closed' && l.spiI === before?.spiI)).toMatchObject({ reason: 'deleted by the peer' });
  }, 60_000);
});
