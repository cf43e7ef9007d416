/**
 * Rekeys driven by lifetimes on the real clock (RFC 7296 2.8), against a real strongSwan:
 * 1. ikekm's lifetimes are short (Child SA rekey after 2 s, IKE SA after 3 s; the 5-minute
 *    minimum is a config-validation rule the engine does not enforce), charon's are its long
 *    defaults: ikekm starts every rekey, charon answers.
 * 2. charon's are short (swanctl rekey_time 2 s / 3 s), ikekm's the long defaults: charon starts
 *    every rekey, ikekm answers.
 * Then the IKE SA is deleted and charon's whole key history is compared with ikekm's tables:
 * one IKE SA key set and one Child SA key set per SA either side ever made, all equal.
 */
import { expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { labIkekmConnection, type Ikekm } from './harness/ikekm.js';
import { waitUntil } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';
import {
  ESP_CASES,
  IDS,
  IKE_CASES,
  PSK,
  charonInstalled,
  expectChildKeysMatch,
  expectIkeKeysMatch,
  expectKernelEmpty,
  expectNoSecretsInIkekmLog,
  ikekmHasNoLiveSa,
  ikekmKeyTables,
} from './support/ikekm-expect.js';
import { nothingLeft, useIkekmCharonLab, type ChildUp } from './support/ikekm-charon-lab.js';

type IkeUp = Extract<SaEvent, { kind: 'ike-sa-up' }>;

const childRekeys = (events: readonly SaEvent[]): ChildUp[] => events.filter((e): e is ChildUp => e.kind === 'child-sa-up' && e.rekeyOf !== undefined);
const ikeRekeys = (events: readonly SaEvent[]): IkeUp[] => events.filter((e): e is IkeUp => e.kind === 'ike-sa-up' && e.rekeyed);

/** Waits (real time) until ikekm has seen at least this many rekeys of each kind. */
async function rekeysSeen(ikekm: Ikekm, child: number, ike: number, timeoutMs: number): Promise<void> {
  await waitUntil(
    `${child} Child SA and ${ike} IKE SA rekeys`,
    () => (childRekeys(ikekm.events()).length >= child && ikeRekeys(ikekm.events()).length >= ike ? true : undefined),
    { timeoutMs, intervalMs: 50 },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; events: ${JSON.stringify(ikekm.events().map((e) => e.kind))}\n${ikekm.diagnostics(20)}`);
  });
}

const ike = IKE_CASES.cbc;
const esp = ESP_CASES.gcmEcp256;

describeInterop("ikekm's short lifetimes: ikekm rekeys the Child SA and the IKE SA on its own, strongSwan answers", () => {
  const { peers } = useIkekmCharonLab({
    charon: (lab) => labPskConf(lab, 'b', { ids: IDS, proposals: ike.proposal, espProposals: esp.proposal }),
    ikekm: (lab) => [
      labIkekmConnection(lab, 'a', {
        ids: IDS,
        ike: [ike.proposal],
        esp: [esp.proposal],
        extra: {
          childLifetime: { rekeySeconds: 2, lifetimeSeconds: 30, jitterSeconds: 0 },
          ikeLifetime: { rekeySeconds: 3, lifetimeSeconds: 60, jitterSeconds: 0 },
        },
      }),
    ],
  });

  it('rekeys on time, with PFS, charon follows; after the Delete every key of every generation matches', async () => {
    const p = peers();
    const { lab, charon, ikekm } = p;
    const id = await ikekm.initiate('lab');
    const first = await ikekm.waitForEvent<ChildUp>((e) => e.kind === 'child-sa-up', 10_000, { what: 'the first Child SA' });
    await rekeysSeen(ikekm, 2, 1, 10_000);

    // The soft lifetime (2 s, no jitter) fired the first Child SA rekey, not before.
    const [firstRekey] = childRekeys(ikekm.events());
    expect(firstRekey?.rekeyOf).toBe(first.inboundSpi);
    expect((firstRekey?.atMs ?? 0) - first.atMs).toBeGreaterThanOrEqual(2_000);
    expect((firstRekey?.atMs ?? 0) - first.atMs).toBeLessThan(4_000);
    const [ikeRekey] = ikeRekeys(ikekm.events());
    expect(ikeRekey?.role).toBe('initiator');

    const since = ikekm.events().length;
    await ikekm.terminate({ connection: 'lab' });
    await ikekm.waitForEvent((e) => e.kind === 'ike-sa-down' && e.id !== id, 10_000, { since, what: 'the current IKE SA deleted' });
    await nothingLeft(p, { live: true });
    expect(ikekm.events().filter((e) => e.kind === 'ike-sa-failed' || e.kind === 'child-sa-failed')).toEqual([]);

    // charon only answered: it never started a CREATE_CHILD_SA.
    const log = charon.log();
    expect(log).not.toMatch(/generating CREATE_CHILD_SA request/);
    const childGenerations = childRekeys(ikekm.events()).length + 1;
    const ikeGenerations = ikeRekeys(ikekm.events()).length + 1;
    expect(log.match(/parsed CREATE_CHILD_SA request/g)).toHaveLength(childGenerations - 1 + ikeGenerations - 1);

    const keys = charon.derivedKeys();
    const tables = await ikekmKeyTables(ikekm);
    expect(keys.ike).toHaveLength(ikeGenerations);
    expect(tables.ike).toHaveLength(ikeGenerations);
    for (const k of keys.ike) expectIkeKeysMatch(tables.ike, k, ike);
    expect(keys.child).toHaveLength(childGenerations);
    expect(tables.esp).toHaveLength(2 * childGenerations);
    for (const c of keys.child) expectChildKeysMatch(lab, tables.esp, c, { esp, initiator: 'ikekm' });
  });

  it("ikekm's log holds no PSK and no key", async () => {
    const { charon, ikekm } = peers();
    expect(await expectNoSecretsInIkekmLog(ikekm, [PSK], [charon.derivedKeys()])).toBeGreaterThan(10);
  });
});

describeInterop("strongSwan's short lifetimes: charon rekeys the Child SA and the IKE SA on its own, ikekm answers", () => {
  const { peers } = useIkekmCharonLab({
    charon: (lab) =>
      labPskConf(lab, 'b', {
        ids: IDS,
        proposals: ike.proposal,
        espProposals: esp.proposal,
        connExtra: 'rekey_time = 3s\nover_time = 30s\nrand_time = 0s',
        childExtra: 'rekey_time = 2s\nlife_time = 30s\nrand_time = 0s',
      }),
    ikekm: (lab) => [labIkekmConnection(lab, 'a', { ids: IDS, ike: [ike.proposal], esp: [esp.proposal] })],
  });

  it('ikekm answers every rekey; after charon deletes the IKE SA every key of every generation matches', async () => {
    const { lab, charon, ikekm } = peers();
    await ikekm.initiate('lab');
    await ikekm.waitForEvent((e) => e.kind === 'child-sa-up', 10_000, { what: 'the first Child SA' });
    await rekeysSeen(ikekm, 2, 1, 10_000);
    for (const up of ikeRekeys(ikekm.events())) expect(up.role).toBe('responder');

    const [theirs] = await charon.listSas();
    expect(charonInstalled(theirs)).toHaveLength(1);
    const since = ikekm.events().length;
    await charon.terminate({ ike: 'lab' });
    await ikekm.waitForEvent((e) => e.kind === 'child-sa-down', 10_000, { since, what: 'child-sa-down' });
    await ikekm.waitForStatus('ikekm: no live SA', ikekmHasNoLiveSa);
    await expectKernelEmpty(ikekm);
    expect(await charon.listSas()).toEqual([]);
    expect(ikekm.events().filter((e) => e.kind === 'ike-sa-failed' || e.kind === 'child-sa-failed')).toEqual([]);

    // ikekm only answered: every rekey in charon's log is one charon generated.
    const log = charon.log();
    expect(log).not.toMatch(/parsed CREATE_CHILD_SA request/);
    const childGenerations = childRekeys(ikekm.events()).length + 1;
    const ikeGenerations = ikeRekeys(ikekm.events()).length + 1;
    expect(log.match(/generating CREATE_CHILD_SA request/g)).toHaveLength(childGenerations - 1 + ikeGenerations - 1);

    const keys = charon.derivedKeys();
    const tables = await ikekmKeyTables(ikekm);
    expect(keys.ike).toHaveLength(ikeGenerations);
    expect(tables.ike).toHaveLength(ikeGenerations);
    for (const k of keys.ike) expectIkeKeysMatch(tables.ike, k, ike);
    expect(keys.child).toHaveLength(childGenerations);
    expect(tables.esp).toHaveLength(2 * childGenerations);
    // ikekm initiated the first Child SA (IKE_AUTH), charon every rekey.
    keys.child.forEach((c, i) => expectChildKeysMatch(lab, tables.esp, c, { esp, initiator: i === 0 ? 'ikekm' : 'charon' }));
  });

  it("ikekm's log holds no PSK and no key", async () => {
    const { charon, ikekm } = peers();
    expect(await expectNoSecretsInIkekmLog(ikekm, [PSK], [charon.derivedKeys()])).toBeGreaterThan(10);
  });
});
