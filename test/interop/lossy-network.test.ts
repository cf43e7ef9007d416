/**
 * ikekm against a real strongSwan over a bad network: nftables drops 30 % of the UDP datagrams in
 * each direction (`numgen random mod 10 < 3`; this kernel has no sch_netem) and a UDP relay
 * between the two holds back 30 % of the rest for 20–2500 ms, so later datagrams overtake them:
 * a request's retransmission (after 1 s) arrives before the request, a response after the
 * retransmission it answers, the other side's next request before it.
 *
 *   ikekm 192.0.2.1 ──lo── relay 192.0.2.3 ══veth (30 % loss each way)══ charon 192.0.2.2
 *
 * Each peer is configured with the relay's address as the other's. Every negotiation and rekey
 * must complete, in both roles, with no failure reported: ikekm initiates (IKE_SA_INIT, IKE_AUTH),
 * each side rekeys the Child SA and the IKE SA, ikekm deletes, then charon initiates and ikekm
 * answers IKE_SA_INIT and IKE_AUTH, and each side rekeys the Child SA of that SA. Retransmission
 * (RFC 7296 2.1) is what carries them: both sides retransmit from 1 s (×1.4, at most 8 s, 12
 * tries), so an exchange fails only if twelve attempts in a row lose a datagram (0.51^12).
 * At the end the impairment is shown to have happened: nftables' drop counters and the relay's
 * overtaken datagrams.
 *
 * Slow by nature: charon forgets an IKE SA as soon as it answers its Delete, so when that answer
 * is lost ikekm retransmits the Delete to an SA that no longer exists until its schedule runs out
 * (about 70 s here), after an IKE SA rekey and after `terminate`.
 */
import { expect, it } from 'vitest';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { labIkekmConnection } from './harness/ikekm.js';
import type { Lab } from './harness/netns.js';
import { describeInterop } from './harness/requirements.js';
import { pskSwanctlConf } from './harness/swanctl-conf.js';
import { IDS, IKE_CASES, ESP_CASES, PSK, charonInstalled } from './support/ikekm-expect.js';
import { useIkekmCharonLab, type ChildUp } from './support/ikekm-charon-lab.js';
import { startRelay, type Relay } from './support/reordering-relay.js';

const RELAY = '192.0.2.3';
const ike = IKE_CASES.cbc;
const esp = ESP_CASES.cbcModp2048;
/** Per step: a few exchanges, each retransmitted up to 12 times (about 70 s in the worst case). */
const STEP_MS = 150_000;

const LOSS = `
table inet ikekm_lossy {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "veth-a" meta l4proto udp numgen random mod 10 < 3 counter drop
  }
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "veth-a" meta l4proto udp numgen random mod 10 < 3 counter drop
  }
}
`;

type IkeUp = Extract<SaEvent, { kind: 'ike-sa-up' }>;
type Rekeyed = Extract<SaEvent, { kind: 'ike-sa-rekeyed' }>;

describeInterop(
  'ikekm and strongSwan over 30 % loss and reordering: every negotiation and rekey completes',
  () => {
    let relay: Relay | undefined;
    let ikeId = '';

    const env = useIkekmCharonLab({
      charon: (lab) =>
        pskSwanctlConf({
          localAddrs: lab.b.outer4,
          remoteAddrs: RELAY,
          localId: IDS.b,
          remoteId: IDS.a,
          psk: PSK,
          proposals: ike.proposal,
          espProposals: esp.proposal,
          localTs: `${lab.b.inner4}/32`,
          remoteTs: `${lab.a.inner4}/32`,
        }),
      charonSettings: '  retransmit_timeout = 1\n  retransmit_base = 1.4\n  retransmit_tries = 12\n  retransmit_limit = 8',
      ikekm: (lab) => [
        {
          ...labIkekmConnection(lab, 'a', { ids: IDS, ike: [ike.proposal], esp: [esp.proposal], extra: { retransmit: { initialMs: 1000, factor: 1.4, tries: 12, limitMs: 8000 } } }),
          remote: { address: RELAY, id: IDS.b },
        },
      ],
      afterStart: async ({ lab }) => {
        const address = await lab.exec('a', 'ip', ['addr', 'add', `${RELAY}/24`, 'dev', lab.a.iface]);
        expect(address.ok, address.stderr).toBe(true);
        relay = await startRelay(lab.a.ns, lab.dir, { listen: RELAY, ports: [500, 4500], a: lab.a.outer4, b: lab.b.outer4, holdProbability: 0.3, minDelayMs: 20, maxDelayMs: 2500, seed: 4242 });
        const loss = await lab.exec('a', 'nft', ['-f', '-'], { input: LOSS });
        expect(loss.ok, loss.stderr).toBe(true);
      },
      // The Deletes of the shutdown go out unimpaired.
      beforeStop: async (lab: Lab | undefined) => {
        await lab?.exec('a', 'nft', ['delete', 'table', 'inet', 'ikekm_lossy']);
        await relay?.stop();
      },
    });
    const { peers } = env;

    const noFailures = (): void => {
      expect(peers().ikekm.events().filter((e) => e.kind === 'ike-sa-failed' || e.kind === 'child-sa-failed')).toEqual([]);
    };

    /** Both sides hold one IKE SA whose one installed Child SA is `inbound` (ours). */
    const settled = async (inbound: string): Promise<void> => {
      const { charon, ikekm } = peers();
      await ikekm.waitForStatus(
        'ikekm: one live IKE SA with only that Child SA',
        (sas) => {
          const live = sas.filter((s) => s.state !== 'lingering');
          return live.length === 1 && live[0]?.state === 'established' && live[0].children.length === 1 && live[0].children[0]?.inboundSpi === inbound;
        },
        STEP_MS,
      );
      await charon.waitForSas(
        'charon: one IKE SA with that Child SA installed',
        (sas) => sas.length === 1 && sas[0]?.state === 'ESTABLISHED' && charonInstalled(sas[0]).length === 1 && charonInstalled(sas[0])[0]?.spiOut === inbound,
        { timeoutMs: STEP_MS },
      );
    };

    const currentChild = async (): Promise<string> => (await peers().ikekm.status()).find((s) => s.id === ikeId)?.children[0]?.inboundSpi ?? '';

    const childRekeyed = async (old: string, since: number): Promise<void> => {
      const { ikekm } = peers();
      const up = await ikekm.waitForEvent<ChildUp>((e) => e.kind === 'child-sa-up' && e.rekeyOf === old, STEP_MS, { since, what: `the Child SA replacing ${old}` });
      await ikekm.waitForEvent((e) => e.kind === 'child-sa-down' && e.inboundSpi === old, STEP_MS, { since, what: `child-sa-down of ${old}` });
      await settled(up.inboundSpi);
    };

    /** `child`: the Child SA before the rekey (taken first: the rekey may be done before a status read). */
    const ikeRekeyed = async (since: number, child: string, role: 'initiator' | 'responder'): Promise<void> => {
      const { ikekm } = peers();
      const old = ikeId;
      const rekeyed = await ikekm.waitForEvent<Rekeyed>((e) => e.kind === 'ike-sa-rekeyed' && e.id === old, STEP_MS, { since, what: 'ike-sa-rekeyed' });
      ikeId = rekeyed.newId;
      const up = await ikekm.waitForEvent<IkeUp>((e) => e.kind === 'ike-sa-up' && e.id === ikeId, STEP_MS, { since, what: 'the new IKE SA' });
      expect(up).toMatchObject({ rekeyed: true, role });
      await settled(child);
    };

    it('ikekm initiates: IKE_SA_INIT and IKE_AUTH complete', async () => {
      const { ikekm } = peers();
      ikeId = await ikekm.initiate('lab');
      const up = await ikekm.waitForEvent<ChildUp>((e) => e.kind === 'child-sa-up' && e.ikeSa === ikeId, STEP_MS, { what: 'the first Child SA' });
      await settled(up.inboundSpi);
      noFailures();
    }, STEP_MS * 2);

    it('ikekm rekeys the Child SA', async () => {
      const since = peers().ikekm.events().length;
      const old = await currentChild();
      await peers().ikekm.rekeyChild(ikeId, old);
      await childRekeyed(old, since);
      noFailures();
    }, STEP_MS * 3);

    it('charon rekeys the Child SA', async () => {
      const since = peers().ikekm.events().length;
      const old = await currentChild();
      await peers().charon.rekey({ child: 'net' }, { wait: false });
      await childRekeyed(old, since);
      noFailures();
    }, STEP_MS * 3);

    it('ikekm rekeys the IKE SA', async () => {
      const since = peers().ikekm.events().length;
      const child = await currentChild();
      await peers().ikekm.rekeyIke(ikeId);
      await ikeRekeyed(since, child, 'initiator');
      noFailures();
    }, STEP_MS * 3);

    it('charon rekeys the IKE SA', async () => {
      const since = peers().ikekm.events().length;
      const child = await currentChild();
      await peers().charon.rekey({ ike: 'lab' }, { wait: false });
      await ikeRekeyed(since, child, 'responder');
      noFailures();
    }, STEP_MS * 3);

    it('ikekm deletes; charon initiates and ikekm answers IKE_SA_INIT and IKE_AUTH', async () => {
      const { ikekm, charon } = peers();
      const since = ikekm.events().length;
      await ikekm.terminate({ ike: ikeId });
      await ikekm.waitForEvent((e) => e.kind === 'ike-sa-down' && e.id === ikeId, STEP_MS, { since, what: 'ike-sa-down' });
      await charon.waitForSas('charon: no SA', (sas) => sas.length === 0, { timeoutMs: STEP_MS });
      await charon.initiate('net', { timeoutS: STEP_MS / 1000 });
      const up = await ikekm.waitForEvent<IkeUp>((e) => e.kind === 'ike-sa-up' && e.role === 'responder', STEP_MS, { since, what: 'the IKE SA charon initiated' });
      ikeId = up.id;
      const child = await ikekm.waitForEvent<ChildUp>((e) => e.kind === 'child-sa-up' && e.ikeSa === ikeId, STEP_MS, { since, what: 'its Child SA' });
      await settled(child.inboundSpi);
      noFailures();
    }, STEP_MS * 4);

    it('on the SA charon initiated, each side rekeys the Child SA', async () => {
      let since = peers().ikekm.events().length;
      let old = await currentChild();
      await peers().ikekm.rekeyChild(ikeId, old);
      await childRekeyed(old, since);
      since = peers().ikekm.events().length;
      old = await currentChild();
      await peers().charon.rekey({ child: 'net' }, { wait: false });
      await childRekeyed(old, since);
      noFailures();
    }, STEP_MS * 5);

    it('the network really lost and reordered datagrams', async () => {
      const { lab } = peers();
      const listed = await lab.exec('a', 'nft', ['list', 'table', 'inet', 'ikekm_lossy']);
      const drops = [...listed.stdout.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
      const stats = await relay!.stats();
      console.log(`lossy network: nftables dropped ${drops.join(' out, ')} in; relay forwarded ${stats.forwarded} (${stats.fromA} from ikekm, ${stats.fromB} from charon), held ${stats.held}, ${stats.overtaken} overtaken`);
      expect(drops).toHaveLength(2);
      expect(drops.every((n) => n > 0)).toBe(true);
      expect(stats.overtaken).toBeGreaterThan(0);
    });
  },
  { nft: true },
);
