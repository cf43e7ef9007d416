/**
 * The exchanges the fuzzer's seeds are recorded from: two ikekm engines in the lab (virtual time,
 * memory kernels, deterministic randomness) running IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA (new
 * Child SA, Child SA rekey, IKE SA rekey), INFORMATIONAL (liveness checks, Deletes) and, with a
 * small datagram size, fragmented messages (RFC 7383).
 *
 * Each scenario names a target side. Only the other side is driven by commands after the start,
 * so the target's behaviour depends on nothing but the datagrams it receives and the time: a
 * fresh engine for the target, built with the same seed and fed the recorded datagrams at their
 * recorded times, does exactly what it did in the recording (replay.ts). A mutated datagram
 * slipped into that replay therefore meets an engine deep in a real exchange, with the keys that
 * make the following datagrams valid.
 */
import type { PairOptions } from '../engine/fixtures.js';
import type { Lab, LabSide } from '../engine/lab.js';

export interface SeedScenario {
  readonly name: string;
  readonly description: string;
  /** The side whose received datagrams are replayed; `a` also initiates at time 0. */
  readonly target: 'a' | 'b';
  readonly labSeed: number;
  readonly pair: PairOptions;
  /** Drives the exchange (commands only on the side that is not the target, after a's initiate). */
  readonly drive: (lab: Lab) => Promise<void>;
}

const idOf = (side: LabSide): string => {
  const sa = side.engine.status().find((s) => s.state === 'established');
  if (sa === undefined) throw new Error(`side ${side.name} has no established IKE SA`);
  return sa.id;
};

const established = (lab: Lab) => () => lab.established(lab.a) && lab.established(lab.b);

/** Everything a peer can ask of the target, in one run. */
async function everyExchange(lab: Lab, actor: 'a' | 'b'): Promise<void> {
  const side = () => (actor === 'a' ? lab.a : lab.b);
  if (!(await lab.runUntil(established(lab), 60_000))) throw new Error('not established');
  await lab.run(2_000);
  side().engine.rekeyChildSa(idOf(side()));
  await lab.run(5_000);
  side().engine.createChildSa(idOf(side()));
  await lab.run(5_000);
  // Silence long enough for a liveness check (dpd below) from both sides.
  await lab.run(25_000);
  side().engine.rekeyIkeSa(idOf(side()));
  await lab.run(5_000);
  const sa = side().engine.status().find((s) => s.state === 'established' && s.children.length > 0);
  if (sa !== undefined) side().engine.deleteChildSa(sa.id, sa.children[0]!.inboundSpi);
  await lab.run(5_000);
  side().engine.terminate({ id: idOf(side()) });
  await lab.run(5_000);
}

/** Large enough with a 576-octet datagram size that IKE_AUTH and CREATE_CHILD_SA fragment. */
const manySelectors = {
  local: Array.from({ length: 10 }, (_, i) => `2001:db8:${i}::/48`),
  remote: Array.from({ length: 10 }, (_, i) => `2001:db8:1${i}::/48`),
};

const dpd = { intervalSeconds: 20, timeoutSeconds: 60 };

export const SEED_SCENARIOS: readonly SeedScenario[] = [
  {
    name: 'responder-gcm-x25519',
    description: 'b answers a: IKE_SA_INIT, IKE_AUTH, Child SA rekey, new Child SA, liveness checks, IKE SA rekey, Child SA Delete, IKE SA Delete',
    target: 'b',
    labSeed: 11,
    pair: { ike: ['aes128gcm16-prfsha256-x25519'], esp: ['aes128gcm16'], dpd },
    drive: (lab) => everyExchange(lab, 'a'),
  },
  {
    name: 'initiator-gcm-x25519',
    description: 'a initiates, then b rekeys, creates, checks liveness, rekeys the IKE SA, deletes a Child SA and the IKE SA',
    target: 'a',
    labSeed: 12,
    pair: { ike: ['aes128gcm16-prfsha256-x25519'], esp: ['aes128gcm16'], dpd },
    drive: (lab) => everyExchange(lab, 'b'),
  },
  {
    name: 'responder-cbc-modp2048-fragments',
    description: 'as responder-gcm-x25519 with AES-CBC/HMAC-SHA-256 and MODP-2048, many selectors and a 576-octet datagram size: IKE_AUTH and CREATE_CHILD_SA fragmented (RFC 7383)',
    target: 'b',
    labSeed: 13,
    pair: {
      ike: ['aes128-sha256-modp2048'],
      esp: ['aes128-sha256-modp2048'],
      trafficA: manySelectors,
      fragmentation: { enabled: true, maxDatagramSize: 576 },
      dpd,
    },
    drive: (lab) => everyExchange(lab, 'a'),
  },
  {
    name: 'initiator-cbc-modp2048-fragments',
    description: 'as initiator-gcm-x25519 with AES-CBC/HMAC-SHA-256, MODP-2048 and fragmentation',
    target: 'a',
    labSeed: 14,
    pair: {
      ike: ['aes128-sha256-modp2048'],
      esp: ['aes128-sha256-modp2048'],
      trafficA: manySelectors,
      fragmentation: { enabled: true, maxDatagramSize: 576 },
      dpd,
    },
    drive: (lab) => everyExchange(lab, 'b'),
  },
];
