/**
 * Failures between ikekm (side a) and a real strongSwan (side b), each ending cleanly:
 * - a wrong PSK, ikekm initiating and charon initiating: AUTHENTICATION_FAILED, and no SA on
 *   either side (RFC 7296 2.15, 2.21.2);
 * - no common IKE proposal: NO_PROPOSAL_CHOSEN in IKE_SA_INIT, nothing left (2.7);
 * - no common ESP proposal: the IKE SA stays up without a Child SA on both sides (1.2, 2.21.3);
 * - dead-peer detection: while charon answers, ikekm's liveness checks keep the SA; once charon
 *   is SIGKILLed, ikekm declares the peer dead and removes every SA (2.4).
 */
import { expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { sleep } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { CHARON_READY, ikekmInitiates, nothingLeft as bothEmpty, useIkekmCharonLab } from './support/ikekm-charon-lab.js';
import { PSK, expectKernelEmpty, expectKernelMatchesStatus, expectNoSecretsInIkekmLog, ikekmHasNoLiveSa } from './support/ikekm-expect.js';

const IKEKM_PSK = 'the-psk-ikekm-was-given';
const CHARON_PSK = 'the-psk-charon-was-given';

type IkeFailed = Extract<SaEvent, { kind: 'ike-sa-failed' }>;
type ChildFailed = Extract<SaEvent, { kind: 'child-sa-failed' }>;

describeInterop('failures between ikekm and strongSwan end cleanly on both sides', () => {
  const { peers, configure } = useIkekmCharonLab();

  const nothingLeft = (): Promise<void> => bothEmpty(peers());

  it('wrong PSK, ikekm initiates: charon refuses the AUTH, ikekm reports AUTHENTICATION_FAILED, no SA anywhere', async () => {
    const { charon, ikekm } = peers();
    await configure({ psk: CHARON_PSK }, { psk: IKEKM_PSK });
    const since = ikekm.events().length;
    const id = await ikekm.initiate('lab');
    const failed = await ikekm.waitForEvent<IkeFailed>((e) => e.kind === 'ike-sa-failed' || e.kind === 'ike-sa-up', 10_000, { since, what: 'the outcome' });
    expect(failed).toMatchObject({ kind: 'ike-sa-failed', id, notify: 'AUTHENTICATION_FAILED' });
    await charon.waitForLog(/tried 1 shared key for 'b\.lab\.example' - 'a\.lab\.example', but MAC mismatched/);
    expect(charon.log()).toMatch(/generating IKE_AUTH response 1 \[ N\(AUTH_FAILED\) \]/);
    await nothingLeft();
    expect(ikekm.events().slice(since).filter((e) => e.kind === 'ike-sa-up' || e.kind === 'child-sa-up')).toEqual([]);
  });

  it("wrong PSK, charon initiates: ikekm refuses the AUTH with AUTHENTICATION_FAILED, no SA anywhere", async () => {
    const { charon, ikekm } = peers();
    await configure({ psk: CHARON_PSK }, { psk: IKEKM_PSK, extra: { start: 'listen' } });
    const since = ikekm.events().length;
    const result = await charon.initiate('net', { timeoutS: 10, allowFailure: true });
    expect(result.ok).toBe(false);
    expect(result.stdout).toMatch(/received AUTHENTICATION_FAILED notify error/);
    const failed = await ikekm.waitForEvent<IkeFailed>((e) => e.kind === 'ike-sa-failed', 10_000, { since, what: 'ike-sa-failed' });
    expect(failed.reason).toMatch(/auth/i);
    await nothingLeft();
    expect(ikekm.events().slice(since).filter((e) => e.kind === 'ike-sa-up' || e.kind === 'child-sa-up')).toEqual([]);
  });

  it('no common IKE proposal: NO_PROPOSAL_CHOSEN in IKE_SA_INIT, no SA anywhere', async () => {
    const { charon, ikekm } = peers();
    await configure({ psk: PSK, proposals: 'aes256gcm16-prfsha384-ecp384' }, { psk: PSK, ike: ['aes128-sha256-modp2048'] });
    const since = ikekm.events().length;
    const id = await ikekm.initiate('lab');
    const failed = await ikekm.waitForEvent<IkeFailed>((e) => e.kind === 'ike-sa-failed' || e.kind === 'ike-sa-up', 10_000, { since, what: 'the outcome' });
    expect(failed).toMatchObject({ kind: 'ike-sa-failed', id, notify: 'NO_PROPOSAL_CHOSEN' });
    expect(charon.log()).toMatch(/generating IKE_SA_INIT response 0 \[ N\(NO_PROP\) \]/);
    await nothingLeft();
  });

  it('no common ESP proposal: the IKE SA comes up on both sides without a Child SA', async () => {
    const { charon, ikekm } = peers();
    await configure({ psk: PSK, espProposals: 'aes256gcm16' }, { psk: PSK, esp: ['aes128-sha256'] });
    const since = ikekm.events().length;
    const id = await ikekm.initiate('lab');
    const failed = await ikekm.waitForEvent<ChildFailed>((e) => e.kind === 'child-sa-failed' || e.kind === 'child-sa-up', 10_000, { since, what: 'the Child SA outcome' });
    expect(failed).toMatchObject({ kind: 'child-sa-failed', ikeSa: id, notify: 'NO_PROPOSAL_CHOSEN' });
    await ikekm.waitForEvent((e) => e.kind === 'ike-sa-up' && e.id === id, 5_000, { since, what: 'ike-sa-up' });
    const [theirs] = await charon.waitForSas('charon: the IKE SA without Child SA', (sas) => sas[0]?.state === 'ESTABLISHED');
    expect(theirs?.childSas).toEqual([]);
    const [ours] = await ikekm.status();
    expect(ours).toMatchObject({ id, state: 'established', spiI: theirs?.spiI, spiR: theirs?.spiR, children: [] });
    await expectKernelEmpty(ikekm);
    await ikekm.terminate({ ike: id });
    await nothingLeft();
  });

  it('dead-peer detection: liveness checks keep the SA while charon answers; after SIGKILL ikekm removes every SA', async () => {
    const p = peers();
    const { lab, charon, ikekm } = p;
    await configure(
      { psk: PSK },
      { psk: PSK, extra: { dpd: { intervalSeconds: 1, timeoutSeconds: 3 }, retransmit: { initialMs: 500, factor: 1.5, tries: 3 } } },
    );
    const since = ikekm.events().length;
    const { id } = await ikekmInitiates(p, { since, charonWhat: 'charon: Child SA installed', charonReady: CHARON_READY.firstChildInstalled });

    // Idle for 2.5 intervals: ikekm checks liveness, charon answers, nothing goes down.
    await sleep(2_500);
    expect((charon.log().match(/parsed INFORMATIONAL request \d+ \[ \]/g) ?? []).length).toBeGreaterThanOrEqual(1);
    const [alive] = await ikekm.status();
    expect(alive).toMatchObject({ id, state: 'established' });
    await expectKernelMatchesStatus(lab, ikekm);
    expect(ikekm.events().slice(since).filter((e) => e.kind === 'ike-sa-down' || e.kind === 'child-sa-down')).toEqual([]);

    const killedAt = Date.now();
    process.kill(charon.pid ?? 0, 'SIGKILL');
    const down = await ikekm.waitForEvent<Extract<SaEvent, { kind: 'ike-sa-down' }>>((e) => e.kind === 'ike-sa-down' && e.id === id, 15_000, {
      since,
      what: 'ike-sa-down after the peer died',
    });
    const elapsed = Date.now() - killedAt;
    // At most one interval until the check starts, then the 3 s DPD timeout (plus scheduling slack).
    expect(elapsed).toBeLessThan(1_000 + 3_000 + 1_500);
    expect(down.reason).toMatch(/liveness unanswered/);
    expect(ikekm.events().slice(since).filter((e) => e.kind === 'child-sa-down')).toHaveLength(1);
    await ikekm.waitForStatus('ikekm: no SA', (sas) => sas.length === 0 || ikekmHasNoLiveSa(sas));
    expect(await ikekm.status()).toEqual([]);
    await expectKernelEmpty(ikekm);
  });

  it("ikekm's log holds none of the PSKs and no key", async () => {
    const { charon, ikekm } = peers();
    expect(await expectNoSecretsInIkekmLog(ikekm, [PSK, IKEKM_PSK, CHARON_PSK], [charon.derivedKeys()])).toBeGreaterThan(10);
  });
});
