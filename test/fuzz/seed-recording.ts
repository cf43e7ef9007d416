/**
 * Records a seed scenario (seed-scenarios.ts) in the lab: every datagram the target received,
 * with its time, and the decrypted inner payload chain of every SK message either side received
 * (for the fuzzer's SK mode). The keys come from the IKE SA actors' snapshots (inspection); they
 * are the lab's, derived from its test PSK and seeded randomness, and are not stored.
 */
import type { InspectionEvent } from 'xstate';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { openMessage, type IkeSaSecurity } from '../../src/ikev2/ike-sa-session.js';
import { encodePayloadChain, ikeSpiHex } from '../../src/wire/index.js';
import { Lab } from '../engine/lab.js';
import type { SeedScenario } from './seed-scenarios.js';

export interface RecordedDatagram {
  /** Virtual ms since the start of the scenario at which the target received it. */
  readonly atMs: number;
  readonly local: { readonly address: string; readonly port: number };
  readonly remote: { readonly address: string; readonly port: number };
  readonly hex: string;
}

export interface RecordedInner {
  readonly exchangeType: number;
  readonly response: boolean;
  /** Who sent it, relative to the IKE SA's original initiator. */
  readonly sender: 'initiator' | 'responder';
  readonly firstType: number;
  readonly hex: string;
}

export interface SeedFixture {
  readonly scenario: string;
  readonly description: string;
  readonly target: 'a' | 'b';
  readonly datagrams: readonly RecordedDatagram[];
  readonly inner: readonly RecordedInner[];
}

export async function recordScenario(scenario: SeedScenario): Promise<SeedFixture> {
  const securities = new Map<string, IkeSaSecurity>();
  const inspect = (side: 'a' | 'b', e: InspectionEvent): void => {
    if (e.type !== '@xstate.snapshot') return;
    const security = (e.snapshot as { context?: { security?: IkeSaSecurity } }).context?.security;
    if (security?.keys !== undefined) securities.set(`${side}|${ikeSpiHex(security.spiI)}|${ikeSpiHex(security.spiR)}`, security);
  };
  const lab = new Lab({ seed: scenario.labSeed, pair: scenario.pair, silent: true, inspect });
  lab.network.traceEnabled = true;
  lab.a.engine.initiate('lab');
  await scenario.drive(lab);

  const targetAddress = scenario.target === 'a' ? lab.a.address : lab.b.address;
  const datagrams: RecordedDatagram[] = [];
  const inner: RecordedInner[] = [];
  for (const f of lab.network.fates) {
    if (f.fate !== 'delivered') continue;
    const d = f.datagram;
    const to = d.remote.address === lab.a.address ? 'a' : 'b';
    if (d.remote.address === targetAddress) {
      datagrams.push({ atMs: f.atMs, local: { ...d.remote }, remote: { ...d.local }, hex: Buffer.from(d.bytes).toString('hex') });
    }
    const bytes = Buffer.from(d.bytes);
    if (bytes.length < 28) continue;
    const security = securities.get(`${to}|${bytes.subarray(0, 8).toString('hex')}|${bytes.subarray(8, 16).toString('hex')}`);
    if (security === undefined) continue;
    const opened = openMessage(security, bytes, cryptoRegistry);
    if (!opened.ok) continue;
    const h = opened.value.message.header;
    const sk = opened.value.message.payloads[opened.value.message.payloads.length - 1] as { firstInnerPayload: number };
    // Re-encoding the decoded chain gives the received plaintext: the codec round-trips exactly (test/wire/fuzz.test.ts).
    inner.push({
      exchangeType: h.exchangeType,
      response: h.flags.response,
      sender: h.flags.initiator ? 'initiator' : 'responder',
      firstType: sk.firstInnerPayload,
      hex: encodePayloadChain(opened.value.inner).bytes.toString('hex'),
    });
  }
  return { scenario: scenario.name, description: scenario.description, target: scenario.target, datagrams, inner };
}

