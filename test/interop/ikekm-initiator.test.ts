/**
 * ikekm initiates to a real strongSwan (charon 5.9, kernel-libipsec) over UDP in the netns lab:
 * ikekm on side a (192.0.2.1), charon on side b (192.0.2.2), tunnel 198.51.100.1/32 ↔
 * 203.0.113.1/32. For each IKE proposal of IKE_CASES and ESP with and without a PFS group:
 * both sides agree on the SAs, the keys ikekm derived (its own key tables) equal charon's, ESP
 * charon sends through the tunnel reaches ikekm's UDP 4500, and ikekm's Delete clears both sides.
 * At the end tshark, given only ikekm's key tables, decrypts every IKE_AUTH on the wire and the
 * ESP charon sent. One more lab does the same over IPv6.
 */
import { expect, it } from 'vitest';
import { espSpiHex, parseEspSpiHex } from '../../src/wire/spi-text.js';
import type { DerivedKeys } from './harness/charon-log.js';
import { waitUntil } from './harness/process.js';
import { describeInterop } from './harness/requirements.js';
import { labPskConf } from './harness/swanctl-conf.js';
import { labIkekmConnection } from './harness/ikekm.js';
import {
  ESP_CASES,
  IDS,
  IKE_CASES,
  PSK,
  charonChildKeys,
  dissectWithIkekmKeys,
  expectChildKeysMatch,
  expectIkeAuthDecrypted,
  expectNoMalformed,
  expectNoSecretsInIkekmLog,
  expectKernelEmpty,
  expectKernelMatchesStatus,
  expectSameSa,
  first,
  ikekmKeyTables,
  pingFromCharonSide,
  type EspCase,
  type IkeCase,
} from './support/ikekm-expect.js';
import { CHARON_READY, expectFreshKeysMatch, ikekmInitiates, nothingLeft, useIkekmCharonLab, type ChildUp } from './support/ikekm-charon-lab.js';

const CASES: readonly { readonly ike: IkeCase; readonly esp: EspCase }[] = [
  { ike: IKE_CASES.cbc, esp: ESP_CASES.gcm },
  { ike: IKE_CASES.gcm384, esp: ESP_CASES.gcmEcp256 },
  { ike: IKE_CASES.gcmX25519, esp: ESP_CASES.cbcModp2048 },
  { ike: IKE_CASES.gcm384, esp: ESP_CASES.cbcModp2048 },
  { ike: IKE_CASES.gcmX25519, esp: ESP_CASES.gcm },
];

describeInterop(
  'ikekm initiates to strongSwan',
  () => {
    const env = useIkekmCharonLab({ capture: true });
    const { peers } = env;
    /** The inbound SPIs (ikekm's) of every Child SA the cases set up, for the ESP check. */
    const inboundSpis: string[] = [];

    for (const { ike, esp } of CASES) {
      it(`IKE ${ike.proposal}, ESP ${esp.proposal}: both sides agree, the keys match, ikekm's Delete clears both`, async () => {
        const p = peers();
        const { lab, charon, ikekm } = p;
        await env.configureCase(ike, esp);

        const since = ikekm.events().length;
        const {
          id,
          up,
          sas: [theirs],
        } = await ikekmInitiates(p, {
          since,
          thisSa: true,
          orFailed: true,
          charonReady: CHARON_READY.oneSaSomeChildInstalled,
          then: (_up, ikeSa) => {
            const ikeUp = ikekm.events().slice(since).find((e) => e.kind === 'ike-sa-up');
            expect(ikeUp).toMatchObject({ kind: 'ike-sa-up', id: ikeSa, role: 'initiator', rekeyed: false });
          },
        });
        const [ours] = await ikekm.status();
        expectSameSa(lab, ours, theirs, { ike, esp, ikekmIsInitiator: true });
        await expectKernelMatchesStatus(lab, ikekm);
        expect(ours?.children).toHaveLength(1);
        expect(theirs?.childSas).toHaveLength(1);
        if (up.kind === 'child-sa-up') expect(theirs?.childSas[0]?.spiIn).toBe(up.outboundSpi);

        // The keys match: ikekm's key tables against charon's level-4 log.
        await expectFreshKeysMatch(p, theirs, { ike, esp, initiator: 'ikekm' });

        // charon's side of the tunnel really carries traffic to ikekm: ESP in UDP to 4500,
        // which ikekm's transport counts (ikekm has no ESP datapath: MemoryKernel).
        const before = (await ikekm.transportStats()).espOnNatt;
        await pingFromCharonSide(lab, 2);
        await charon.waitForSas('charon sent 2 ESP packets', (sas) => (sas[0]?.childSas[0]?.packetsOut ?? 0) >= 2);
        await waitUntil('ikekm to receive the 2 ESP packets on 4500', async () => ((await ikekm.transportStats()).espOnNatt - before >= 2 ? true : undefined), {
          timeoutMs: 5_000,
          intervalMs: 50,
        });
        inboundSpis.push(ours?.children[0]?.inboundSpi ?? '');

        // Delete from ikekm's side: both sides are left with nothing.
        const beforeDelete = ikekm.events().length;
        await ikekm.terminate({ ike: id });
        await ikekm.waitForEvent((e) => e.kind === 'ike-sa-down' && e.id === id, 10_000, { since: beforeDelete, what: 'ike-sa-down' });
        const childDown = ikekm.events().slice(beforeDelete).filter((e) => e.kind === 'child-sa-down');
        expect(childDown).toHaveLength(1);
        await nothingLeft(p, { charonWhat: 'charon: no SA after ikekm deleted it' });
        expect(charon.log()).toMatch(new RegExp(`received DELETE for IKE_SA lab\\[\\d+\\]`));
      });
    }

    it('ikekm deletes the Child SA alone (the IKE SA stays on both sides), then adds one with CREATE_CHILD_SA and PFS: keys match', async () => {
      const p = peers();
      const { lab, charon, ikekm } = p;
      const ike = IKE_CASES.cbc;
      const esp = ESP_CASES.gcmEcp256;
      await env.configureCase(ike, esp);
      let since = ikekm.events().length;
      const { id, up } = await ikekmInitiates(p, { since, thisSa: true, charonReady: CHARON_READY.firstChildInstalled });
      const first = up as ChildUp;

      since = ikekm.events().length;
      await ikekm.deleteChild(id, first.inboundSpi);
      await ikekm.waitForEvent((e) => e.kind === 'child-sa-down' && e.inboundSpi === first.inboundSpi, 10_000, { since, what: 'child-sa-down' });
      // The Delete names the SPI ikekm receives on: charon's outbound SPI.
      await charon.waitForLog(new RegExp(`received DELETE for ESP CHILD_SA with SPI ${first.inboundSpi}`));
      const [alone] = await charon.waitForSas('charon: the IKE SA without Child SA', (sas) => sas.length === 1 && sas[0]?.childSas.length === 0);
      expect(alone?.state).toBe('ESTABLISHED');
      const [ourAlone] = await ikekm.status();
      expect(ourAlone).toMatchObject({ id, state: 'established', children: [] });
      await expectKernelEmpty(ikekm);
      expect(ikekm.events().slice(since).some((e) => e.kind === 'ike-sa-down')).toBe(false);

      since = ikekm.events().length;
      await ikekm.createChild(id);
      const second = await ikekm.waitForEvent<ChildUp>((e) => (e.kind === 'child-sa-up' && e.ikeSa === id) || e.kind === 'child-sa-failed', 10_000, { since, what: 'the new Child SA' });
      expect(second.kind).toBe('child-sa-up');
      const [theirs] = await charon.waitForSas('charon: the new Child SA INSTALLED', (sas) => sas[0]?.childSas[0]?.state === 'INSTALLED');
      expect(charon.log()).toMatch(/parsed CREATE_CHILD_SA request \d+ \[ SA No KE TSi TSr \]/);
      const [ours] = await ikekm.status();
      expectSameSa(lab, ours, theirs, { ike, esp, pfs: true, ikekmIsInitiator: true });
      await expectKernelMatchesStatus(lab, ikekm);
      const tables = await ikekmKeyTables(ikekm);
      expectChildKeysMatch(lab, tables.esp, charonChildKeys(charon.derivedKeys(), theirs?.childSas[0]?.spiIn ?? ''), { esp, initiator: 'ikekm' });

      await ikekm.terminate({ ike: id });
      await nothingLeft(p);
    });

    it("tshark decrypts every IKE_AUTH and charon's ESP with nothing but ikekm's key tables", async () => {
      const { lab, ikekm } = peers();
      const capture = env.capture();
      await capture?.stop();
      const packets = await dissectWithIkekmKeys(capture?.file ?? '', ikekm);
      // One IKE SA per case, and one for the Child SA delete/create test.
      const ikeSas = CASES.length + 1;
      expect(expectIkeAuthDecrypted(lab, packets, IDS.a, IDS.b)).toBe(ikeSas);
      // ikekm sent the first IKE_SA_INIT of each case from 500 and everything after from 4500.
      const init = packets.filter((p) => first(p, 'isakmp.exchangetype') === '34');
      expect(init).toHaveLength(ikeSas * 2);
      // ikekm's CREATE_CHILD_SA (SA, Nonce, KE for PFS, TS) decrypted, request and response.
      const create = packets.filter((p) => first(p, 'isakmp.exchangetype') === '36');
      expect(create).toHaveLength(2);
      for (const p of create) expect(p['isakmp.typepayload']).toEqual(expect.arrayContaining(['46', '33', '40', '34', '44', '45']));
      expect(init.every((p) => first(p, 'udp.dstport') === '500' || first(p, 'udp.srcport') === '500')).toBe(true);
      // The INFORMATIONAL exchanges (ikekm's Deletes) decrypt too: Delete payloads visible.
      const informational = packets.filter((p) => first(p, 'isakmp.exchangetype') === '37');
      expect(informational.filter((p) => p['isakmp.typepayload']?.includes('42')).length).toBeGreaterThanOrEqual(ikeSas + 1);
      // ESP from charon to ikekm, decrypted with ikekm's inbound keys, ICV checked: the pings.
      const esp = packets.filter((p) => p['esp.spi'] !== undefined);
      const toIkekm = esp.filter((p) => first(p, 'ip.src') === lab.b.outer4);
      expect(toIkekm.length).toBeGreaterThanOrEqual(CASES.length * 2);
      const spis = new Set(toIkekm.map((p) => espSpiHex(parseEspSpiHex(first(p, 'esp.spi') ?? ''))));
      expect([...spis].sort()).toEqual([...inboundSpis].sort());
      for (const p of toIkekm) {
        expect(p['icmp.type'], `frame ${first(p, 'frame.number')}`).toEqual(['8']);
        expect(p['esp.icv_good'] ?? ['(no ICV check)'], `frame ${first(p, 'frame.number')}`).toEqual(['1']);
      }
      expectNoMalformed(packets);
    });

    it("ikekm's log holds no PSK and no key", async () => {
      const { ikekm, charon } = peers();
      const keys: DerivedKeys = charon.derivedKeys();
      expect(await expectNoSecretsInIkekmLog(ikekm, [PSK], [keys])).toBeGreaterThan(CASES.length * 4);
    });
  },
  { capture: true, tshark: true, ping: true },
);

describeInterop('ikekm initiates to strongSwan over IPv6 (2001:db8::1 ↔ ::2, tunnel 2001:db8:1::1/128 ↔ 2001:db8:2::1/128)', () => {
  const ike = IKE_CASES.gcmX25519;
  const esp = ESP_CASES.cbcModp2048;
  const { peers } = useIkekmCharonLab({
    ipv6: true,
    charon: (lab) => labPskConf(lab, 'b', { ids: IDS, ipv6: true, proposals: ike.proposal, espProposals: esp.proposal }),
    ikekm: (lab) => [labIkekmConnection(lab, 'a', { ids: IDS, ipv6: true, ike: [ike.proposal], esp: [esp.proposal] })],
  });

  it("both sides agree, the keys match, ikekm's Delete clears both", async () => {
    const p = peers();
    const { lab, ikekm } = p;
    const {
      id,
      sas: [theirs],
    } = await ikekmInitiates(p, { orFailed: true, charonReady: CHARON_READY.oneSaFirstChildInstalled });
    const [ours] = await ikekm.status();
    expectSameSa(lab, ours, theirs, { ike, esp, ikekmIsInitiator: true, ipv6: true });
    await expectKernelMatchesStatus(lab, ikekm, { ipv6: true });

    const keys = await expectFreshKeysMatch(p, theirs, { ike, esp, initiator: 'ikekm', ipv6: true });

    await ikekm.terminate({ ike: id });
    await ikekm.waitForEvent((e) => e.kind === 'ike-sa-down' && e.id === id, 10_000, { what: 'ike-sa-down' });
    await nothingLeft(p);
    expect(await expectNoSecretsInIkekmLog(ikekm, [PSK], [keys])).toBeGreaterThan(4);
  });
});
