/**
 * strongSwan initiates to ikekm (ikekm responds) in the netns lab: ikekm on side a, charon on
 * side b. charon's IKE_SA_INIT reaches ikekm on 500, its IKE_AUTH on 4500 (kernel-libipsec fakes
 * NAT): ikekm must answer there. For each IKE proposal and ESP with and without PFS both sides
 * agree and the keys match; charon's Deletes (of the IKE SA, of the Child SA alone) are honoured
 * by ikekm; a Child SA charon adds with CREATE_CHILD_SA (a KE payload when the ESP proposal names
 * a group) has matching keys too. tshark decrypts every IKE_AUTH with ikekm's tables.
 */
import { expect, it } from 'vitest';
import { labIkekmConnection } from './harness/ikekm.js';
import { describeInterop } from './harness/requirements.js';
import {
  ESP_CASES,
  IDS,
  IKE_CASES,
  PSK,
  charonChildKeys,
  charonInstalled,
  dissectWithIkekmKeys,
  expectChildKeysMatch,
  expectIkeAuthDecrypted,
  expectNoMalformed,
  expectNoSecretsInIkekmLog,
  expectKernelEmpty,
  expectKernelMatchesStatus,
  expectSameSa,
  first,
  ikekmHasNoLiveSa,
  ikekmSa,
  ikekmKeyTables,
  installedChildren,
  type EspCase,
  type IkeCase,
} from './support/ikekm-expect.js';
import { expectFreshKeysMatch, useIkekmCharonLab } from './support/ikekm-charon-lab.js';

const CASES: readonly { readonly ike: IkeCase; readonly esp: EspCase }[] = [
  { ike: IKE_CASES.cbc, esp: ESP_CASES.cbcModp2048 },
  { ike: IKE_CASES.gcm384, esp: ESP_CASES.gcm },
  { ike: IKE_CASES.gcmX25519, esp: ESP_CASES.gcmEcp256 },
];

describeInterop(
  'strongSwan initiates to ikekm',
  () => {
    const env = useIkekmCharonLab({
      capture: true,
      ikekm: (lab) => [labIkekmConnection(lab, 'a', { ids: IDS, extra: { start: 'listen' } })],
    });
    const { peers } = env;

    const configure = (ike: IkeCase, esp: EspCase): Promise<void> => env.configureCase(ike, esp, { extra: { start: 'listen' } });

    /** charon initiates; resolves once both sides have the IKE SA and its Child SA. */
    const charonInitiates = async (ike: IkeCase, esp: EspCase): Promise<string> => {
      const p = peers();
      const { lab, charon, ikekm } = p;
      const since = ikekm.events().length;
      await charon.initiate('net', { timeoutS: 10 });
      const up = await ikekm.waitForEvent((e) => e.kind === 'child-sa-up' || e.kind === 'ike-sa-failed', 10_000, { since, what: 'the Child SA' });
      expect(up.kind).toBe('child-sa-up');
      const ikeUp = ikekm.events().slice(since).find((e) => e.kind === 'ike-sa-up');
      expect(ikeUp).toMatchObject({ kind: 'ike-sa-up', role: 'responder', rekeyed: false });
      const [theirs] = await charon.listSas();
      const status = await ikekm.status();
      const ours = ikekmSa(status, theirs?.spiI, theirs?.spiR);
      expectSameSa(lab, ours, theirs, { ike, esp, ikekmIsInitiator: false });
      expect(ours?.children).toHaveLength(1);
      expect(status.filter((s) => s.state !== 'lingering')).toHaveLength(1);
      await expectKernelMatchesStatus(lab, ikekm);

      await expectFreshKeysMatch(p, theirs, { ike, esp, initiator: 'charon' });
      return ours?.id ?? '';
    };

    for (const { ike, esp } of CASES) {
      it(`IKE ${ike.proposal}, ESP ${esp.proposal}: both sides agree, the keys match, charon's Delete clears ikekm`, async () => {
        const { charon, ikekm } = peers();
        await configure(ike, esp);
        const id = await charonInitiates(ike, esp);

        const [before] = (await ikekm.status()).filter((s) => s.id === id);
        const since = ikekm.events().length;
        await charon.terminate({ ike: 'lab' });
        expect(await charon.listSas()).toEqual([]);
        const down = await ikekm.waitForEvent((e) => e.kind === 'child-sa-down', 10_000, { since, what: 'child-sa-down' });
        expect(down).toMatchObject({ ikeSa: id, inboundSpi: before?.children[0]?.inboundSpi, reason: 'deleted by the peer' });
        await ikekm.waitForStatus('ikekm: no live SA after charon deleted it', ikekmHasNoLiveSa);
        await expectKernelEmpty(ikekm);
        // ikekm answered the Delete (charon's terminate returned because it did).
        expect(charon.log()).toMatch(/parsed INFORMATIONAL response \d+ \[ \]/);
      });
    }

    it("charon deletes the Child SA alone (ikekm keeps the IKE SA), then adds one with CREATE_CHILD_SA and PFS: keys match", async () => {
      const { lab, charon, ikekm } = peers();
      const ike = IKE_CASES.cbc;
      const esp = ESP_CASES.gcmEcp256;
      await configure(ike, esp);
      const id = await charonInitiates(ike, esp);
      const first0 = (await ikekm.status()).find((s) => s.id === id);
      const firstChild = first0?.children[0];

      let since = ikekm.events().length;
      await charon.terminate({ child: 'net' });
      const childDown = await ikekm.waitForEvent((e) => e.kind === 'child-sa-down', 10_000, { since, what: 'child-sa-down' });
      expect(childDown).toMatchObject({ ikeSa: id, inboundSpi: firstChild?.inboundSpi, outboundSpi: firstChild?.outboundSpi });
      const afterDelete = (await ikekm.waitForStatus('ikekm: IKE SA without Child SAs', (sas) => sas.find((s) => s.id === id)?.children.length === 0)).find((s) => s.id === id);
      expect(afterDelete?.state).toBe('established');
      await expectKernelEmpty(ikekm);
      expect(ikekm.events().slice(since).some((e) => e.kind === 'ike-sa-down')).toBe(false);

      // swanctl --initiate --child reuses the established IKE SA: CREATE_CHILD_SA, KE for ECP-256.
      since = ikekm.events().length;
      await charon.initiate('net', { timeoutS: 10 });
      const up = await ikekm.waitForEvent((e) => e.kind === 'child-sa-up' || e.kind === 'child-sa-failed', 10_000, { since, what: 'the new Child SA' });
      expect(up).toMatchObject({ kind: 'child-sa-up', ikeSa: id });
      const [theirs] = await charon.listSas();
      const ours = (await ikekm.status()).find((s) => s.id === id);
      expect(ours?.spiI).toBe(theirs?.spiI);
      await expectKernelMatchesStatus(lab, ikekm);
      expectSameSa(lab, ours, theirs, { ike, esp, pfs: true, ikekmIsInitiator: false });
      expect(installedChildren(ours)).toHaveLength(1);
      expect(charonInstalled(theirs)).toHaveLength(1);
      expect(charon.log()).toMatch(/generating CREATE_CHILD_SA request \d+ \[ SA No KE TSi TSr \]/);
      const tables = await ikekmKeyTables(ikekm);
      expectChildKeysMatch(lab, tables.esp, charonChildKeys(charon.derivedKeys(), theirs?.childSas[0]?.spiIn ?? ''), { esp, initiator: 'charon' });

      since = ikekm.events().length;
      await charon.terminate({ ike: 'lab' });
      await ikekm.waitForEvent((e) => e.kind === 'child-sa-down', 10_000, { since, what: 'child-sa-down' });
      await ikekm.waitForStatus('ikekm: no live SA', ikekmHasNoLiveSa);
      await expectKernelEmpty(ikekm);
    });

    it('tshark decrypts every IKE_AUTH (and the CREATE_CHILD_SA) with nothing but ikekm\'s key tables', async () => {
      const { lab, ikekm } = peers();
      const capture = env.capture();
      await capture?.stop();
      const packets = await dissectWithIkekmKeys(capture?.file ?? '', ikekm);
      expect(expectIkeAuthDecrypted(lab, packets, IDS.b, IDS.a)).toBe(CASES.length + 1);
      const create = packets.filter((p) => first(p, 'isakmp.exchangetype') === '36');
      expect(create).toHaveLength(2);
      for (const p of create) expect(p['isakmp.typepayload']).toEqual(expect.arrayContaining(['46', '33', '40', '34', '44', '45']));
      expectNoMalformed(packets);
    });

    // After the capture stopped: the tshark test above counts the IKE_AUTHs before it.
    it("charon's Delete of the IKE SA: ikekm reports ike-sa-down at once", async () => {
      const { charon, ikekm } = peers();
      await configure(IKE_CASES.cbc, ESP_CASES.gcm);
      const id = await charonInitiates(IKE_CASES.cbc, ESP_CASES.gcm);
      const since = ikekm.events().length;
      await charon.terminate({ ike: 'lab' });
      await ikekm.waitForEvent((e) => e.kind === 'ike-sa-down' && e.id === id, 5_000, { since, what: 'ike-sa-down' });
    });

    it("ikekm's log holds no PSK and no key", async () => {
      const { ikekm, charon } = peers();
      expect(await expectNoSecretsInIkekmLog(ikekm, [PSK], [charon.derivedKeys()])).toBeGreaterThan(CASES.length * 4);
    });
  },
  { capture: true, tshark: true },
);
