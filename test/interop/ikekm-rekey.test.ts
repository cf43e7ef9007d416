/**
 * Rekeying between ikekm and a real strongSwan, each side in turn (RFC 7296 1.3.3, 2.8, 2.18):
 * ikekm (side a) sets up the IKE SA (aes256gcm16-prfsha384-ecp384) and a Child SA whose ESP
 * proposal names a PFS group (aes256-sha256-modp2048), then
 *   ikekm rekeys the Child SA → charon rekeys it → ikekm rekeys the IKE SA → charon rekeys it →
 *   ikekm rekeys the Child SA again (keys now from the rekeyed IKE SA's SK_d) → ikekm deletes.
 * After each step both sides hold exactly one IKE SA and one Child SA that agree, the old SA is
 * gone from both, and every key ikekm derived equals charon's. tshark then decrypts every
 * CREATE_CHILD_SA and INFORMATIONAL exchange with ikekm's key tables.
 */
import { expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { labIkekmConnection } from './harness/ikekm.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';
import type { IkeSaInfo } from './harness/vici.js';
import {
  ESP_CASES,
  EXCHANGE,
  IDS,
  IKE_CASES,
  PAYLOAD,
  PSK,
  charonChildKeys,
  charonIkeKeys,
  charonInstalled,
  dissectWithIkekmKeys,
  expectChildKeysMatch,
  expectIkeKeysMatch,
  expectKernelMatchesStatus,
  expectNoMalformed,
  expectNoSecretsInIkekmLog,
  expectSameSa,
  first,
  ikekmKeyTables,
  ikekmSa,
} from './support/ikekm-expect.js';
import { CHARON_READY, ikekmInitiates, nothingLeft, useIkekmCharonLab, type ChildUp } from './support/ikekm-charon-lab.js';

const ike = IKE_CASES.gcm384;
const esp = ESP_CASES.cbcModp2048;

type IkeUp = Extract<SaEvent, { kind: 'ike-sa-up' }>;

describeInterop(
  'rekeying between ikekm and strongSwan, each side in turn',
  () => {
    /** ikekm's current IKE SA id. */
    let ikeId = '';

    const env = useIkekmCharonLab({
      capture: true,
      charon: (lab) => labPskConf(lab, 'b', { ids: IDS, proposals: ike.proposal, espProposals: esp.proposal }),
      ikekm: (lab) => [labIkekmConnection(lab, 'a', { ids: IDS, ike: [ike.proposal], esp: [esp.proposal] })],
      afterStart: async (p) => {
        ({ id: ikeId } = await ikekmInitiates(p, { what: 'the first Child SA', charonReady: CHARON_READY.oneInstalled }));
      },
    });
    const { peers } = env;

    /**
     * Both sides settle on exactly one IKE SA with one installed Child SA (the old ones deleted
     * on both) and agree on it; ikekm's kernel holds only that Child SA. Returns charon's view.
     */
    const settled = async (expected: { readonly ikekmIsInitiator: boolean; readonly pfs: boolean; readonly childInbound: string }): Promise<IkeSaInfo | undefined> => {
      const { lab, charon, ikekm } = peers();
      // charon keeps a rekeyed Child SA's inbound SA for delete_rekeyed_delay (5 s) in state
      // DELETED, after the Delete exchange: that is gone as far as the protocol is concerned.
      const [theirs] = await charon.waitForSas('one IKE SA with one installed Child SA, the old ones deleted', (sas) => {
        const installed = charonInstalled(sas[0]);
        return (
          sas.length === 1 &&
          sas[0]?.state === 'ESTABLISHED' &&
          installed.length === 1 &&
          installed[0]?.spiOut === expected.childInbound &&
          sas[0].childSas.every((c) => c.state === 'INSTALLED' || c.state === 'DELETED')
        );
      });
      const status = await ikekm.waitForStatus('ikekm: one live IKE SA with only the new Child SA', (sas) => {
        const live = sas.filter((s) => s.state !== 'lingering');
        return live.length === 1 && live[0]?.children.length === 1 && live[0].children[0]?.inboundSpi === expected.childInbound;
      });
      const ours = ikekmSa(status, theirs?.spiI, theirs?.spiR);
      expect(ours?.id).toBe(ikeId);
      expectSameSa(lab, ours, theirs, { ike, esp, pfs: expected.pfs, ikekmIsInitiator: expected.ikekmIsInitiator });
      await expectKernelMatchesStatus(lab, ikekm);
      return theirs;
    };

    const childKeysMatch = async (theirs: IkeSaInfo | undefined, initiator: 'ikekm' | 'charon'): Promise<void> => {
      const { lab, charon, ikekm } = peers();
      const tables = await ikekmKeyTables(ikekm);
      expectChildKeysMatch(lab, tables.esp, charonChildKeys(charon.derivedKeys(), charonInstalled(theirs)[0]?.spiIn ?? ''), { esp, initiator });
    };

    const ikeKeysMatch = async (theirs: IkeSaInfo | undefined): Promise<void> => {
      const { charon, ikekm } = peers();
      await ikekm.waitForIkeKeylog(theirs?.spiI ?? '', theirs?.spiR ?? '');
      const tables = await ikekmKeyTables(ikekm);
      expectIkeKeysMatch(tables.ike, charonIkeKeys(charon.derivedKeys(), theirs?.spiI ?? '', theirs?.spiR ?? ''), ike);
    };

    const currentChild = async (): Promise<string> => {
      const status = await peers().ikekm.status();
      return status.find((s) => s.id === ikeId)?.children[0]?.inboundSpi ?? '';
    };

    /** ikekm reports the rekeyed Child SA up and the old one down. */
    const childRekeyed = async (old: string, since: number): Promise<ChildUp> => {
      const { ikekm } = peers();
      const up = await ikekm.waitForEvent<ChildUp>((e) => e.kind === 'child-sa-up' && e.rekeyOf === old, 10_000, { since, what: `the Child SA replacing ${old}` });
      await ikekm.waitForEvent((e) => e.kind === 'child-sa-down' && e.inboundSpi === old, 10_000, { since, what: `child-sa-down of ${old}` });
      expect(ikekm.events().slice(since).filter((e) => e.kind === 'child-sa-failed' || e.kind === 'ike-sa-failed')).toEqual([]);
      return up;
    };

    it('the first IKE SA and Child SA agree and their keys match', async () => {
      const theirs = await settled({ ikekmIsInitiator: true, pfs: false, childInbound: await currentChild() });
      await ikeKeysMatch(theirs);
      await childKeysMatch(theirs, 'ikekm');
    });

    it('ikekm rekeys the Child SA (CREATE_CHILD_SA with REKEY_SA and a MODP-2048 KE): keys match', async () => {
      const { ikekm, charon } = peers();
      const old = await currentChild();
      const since = ikekm.events().length;
      await ikekm.rekeyChild(ikeId, old);
      const up = await childRekeyed(old, since);
      const theirs = await settled({ ikekmIsInitiator: true, pfs: true, childInbound: up.inboundSpi });
      expect(charon.log()).toMatch(/parsed CREATE_CHILD_SA request \d+ \[ N\(REKEY_SA\) SA No KE TSi TSr \]/);
      await childKeysMatch(theirs, 'ikekm');
    });

    it('charon rekeys the Child SA: ikekm answers, keys match', async () => {
      const { ikekm, charon } = peers();
      const old = await currentChild();
      const since = ikekm.events().length;
      await charon.rekey({ child: 'net' });
      const up = await childRekeyed(old, since);
      const theirs = await settled({ ikekmIsInitiator: true, pfs: true, childInbound: up.inboundSpi });
      await childKeysMatch(theirs, 'charon');
    });

    it('ikekm rekeys the IKE SA: the Child SA moves to the new IKE SA, IKE keys match', async () => {
      const { ikekm } = peers();
      const child = await currentChild();
      const since = ikekm.events().length;
      const old = ikeId;
      await ikekm.rekeyIke(old);
      const rekeyed = await ikekm.waitForEvent<Extract<SaEvent, { kind: 'ike-sa-rekeyed' }>>((e) => e.kind === 'ike-sa-rekeyed' && e.id === old, 10_000, { since, what: 'ike-sa-rekeyed' });
      ikeId = rekeyed.newId;
      const up = await ikekm.waitForEvent<IkeUp>((e) => e.kind === 'ike-sa-up' && e.id === ikeId, 10_000, { since, what: 'the new IKE SA' });
      expect(up).toMatchObject({ role: 'initiator', rekeyed: true });
      await ikekm.waitForEvent((e) => e.kind === 'ike-sa-down' && e.id === old, 10_000, { since, what: 'the old IKE SA deleted' });
      const theirs = await settled({ ikekmIsInitiator: true, pfs: true, childInbound: child });
      expect(theirs?.uniqueId).toBeGreaterThan(1);
      // The Child SA moved, it was not recreated.
      expect(ikekm.events().slice(since).filter((e) => e.kind === 'child-sa-up' || e.kind === 'child-sa-down')).toEqual([]);
      await ikeKeysMatch(theirs);
      await childKeysMatch(theirs, 'charon');
    });

    it('charon rekeys the IKE SA: ikekm answers, takes the Child SA along, IKE keys match', async () => {
      const { ikekm, charon } = peers();
      const child = await currentChild();
      const since = ikekm.events().length;
      const old = ikeId;
      await charon.rekey({ ike: 'lab' });
      const rekeyed = await ikekm.waitForEvent<Extract<SaEvent, { kind: 'ike-sa-rekeyed' }>>((e) => e.kind === 'ike-sa-rekeyed' && e.id === old, 10_000, { since, what: 'ike-sa-rekeyed' });
      ikeId = rekeyed.newId;
      const up = await ikekm.waitForEvent<IkeUp>((e) => e.kind === 'ike-sa-up' && e.id === ikeId, 10_000, { since, what: 'the new IKE SA' });
      // The side that rekeyed is the new SA's original initiator (2.18).
      expect(up).toMatchObject({ role: 'responder', rekeyed: true });
      const theirs = await settled({ ikekmIsInitiator: false, pfs: true, childInbound: child });
      expect(ikekm.events().slice(since).filter((e) => e.kind === 'child-sa-up' || e.kind === 'child-sa-down')).toEqual([]);
      await ikeKeysMatch(theirs);
    });

    it('ikekm rekeys the Child SA on the rekeyed IKE SA (KEYMAT from the new SK_d): keys match', async () => {
      const { ikekm } = peers();
      const old = await currentChild();
      const since = ikekm.events().length;
      await ikekm.rekeyChild(ikeId);
      const up = await childRekeyed(old, since);
      expect(up.ikeSa).toBe(ikeId);
      const theirs = await settled({ ikekmIsInitiator: false, pfs: true, childInbound: up.inboundSpi });
      await childKeysMatch(theirs, 'ikekm');
    });

    it("ikekm deletes the IKE SA: nothing is left on either side; charon's whole key history matches ikekm's tables", async () => {
      const p = peers();
      const { ikekm, charon } = p;
      const since = ikekm.events().length;
      await ikekm.terminate({ ike: ikeId });
      await ikekm.waitForEvent((e) => e.kind === 'ike-sa-down' && e.id === ikeId, 10_000, { since, what: 'ike-sa-down' });
      await nothingLeft(p, { live: true });
      // 3 IKE SAs (initial + 2 rekeys) and 4 Child SAs (initial + 3 rekeys), every one in ikekm's tables.
      const keys = charon.derivedKeys();
      const tables = await ikekmKeyTables(ikekm);
      expect(keys.ike).toHaveLength(3);
      expect(tables.ike).toHaveLength(3);
      for (const k of keys.ike) expectIkeKeysMatch(tables.ike, k, ike);
      expect(keys.child).toHaveLength(4);
      expect(tables.esp).toHaveLength(8);
    });

    it("tshark decrypts every CREATE_CHILD_SA and INFORMATIONAL exchange with ikekm's key tables", async () => {
      const { ikekm } = peers();
      const capture = env.capture();
      await capture?.stop();
      const packets = await dissectWithIkekmKeys(capture?.file ?? '', ikekm);
      const create = packets.filter((p) => first(p, 'isakmp.exchangetype') === EXCHANGE.CREATE_CHILD_SA);
      expect(create).toHaveLength(2 * 5);
      for (const p of create) {
        // Decrypted: SA, Nonce and KE inside SK (the IKE SA rekeys have no TS, the Child SA rekeys do).
        expect(p['isakmp.typepayload'], `frame ${first(p, 'frame.number')}`).toEqual(expect.arrayContaining([PAYLOAD.SK, PAYLOAD.SA, PAYLOAD.Nonce, PAYLOAD.KE]));
      }
      expect(create.filter((p) => p['isakmp.typepayload']?.includes(PAYLOAD.TSi))).toHaveLength(2 * 3);
      const informational = packets.filter((p) => first(p, 'isakmp.exchangetype') === EXCHANGE.INFORMATIONAL);
      // Deletes of the 3 replaced Child SAs, 2 replaced IKE SAs and the final IKE SA.
      const requests = informational.filter((p) => first(p, 'isakmp.flag_r') !== 'True' && first(p, 'isakmp.flag_r') !== '1');
      expect(requests).toHaveLength(6);
      for (const p of requests) expect(p['isakmp.typepayload'], `frame ${first(p, 'frame.number')}`).toContain(PAYLOAD.Delete);
      expectNoMalformed(packets);
    });

    it("ikekm's log holds no PSK and no key", async () => {
      const { ikekm, charon } = peers();
      expect(await expectNoSecretsInIkekmLog(ikekm, [PSK], [charon.derivedKeys()])).toBeGreaterThan(20);
    });
  },
  { capture: true, tshark: true },
);
