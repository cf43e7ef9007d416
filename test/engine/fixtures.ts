/**
 * Test fixtures: a deterministic RandomPort, and pairs of connection configurations that match
 * each other (A's local is B's remote), built from strongSwan proposal strings.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_FRAGMENTATION,
  DEFAULT_RETRANSMIT,
  lifetimeFromRekeySeconds,
  parseIdentityConfig,
  secretBytes,
  type ConnectionConfig,
  type DataPolicy,
  type DpdPolicy,
  type FragmentationPolicy,
  type IkePolicy,
  type Lifetime,
  type RetransmitPolicy,
} from '../../src/config/model.js';
import type { RandomPort } from '../../src/crypto/types.js';
import { parseProposal, type AlgorithmSet, type ProposalProtocol } from '../../src/policy/proposal-syntax.js';

/** SHA-256 in counter mode over a seed: the same draws every run, different per seed. */
export function seededRandom(seed: string | number): RandomPort & { draws: number } {
  let counter = 0;
  let pool = Buffer.alloc(0);
  const key = Buffer.from(String(seed));
  const random = ((n: number): Buffer => {
    random.draws++;
    while (pool.length < n) {
      const block = createHash('sha256').update(key).update(String(counter++)).digest();
      pool = Buffer.concat([pool, block]);
    }
    const out = Buffer.from(pool.subarray(0, n));
    pool = pool.subarray(n);
    return out;
  }) as RandomPort & { draws: number };
  random.draws = 0;
  return random;
}

export function sets(proposals: readonly string[], protocol: ProposalProtocol): AlgorithmSet[] {
  return proposals.map((p) => {
    const r = parseProposal(p, protocol);
    if (!r.ok) throw r.error;
    return r.value;
  });
}

export interface PairOptions {
  readonly ike?: readonly string[];
  readonly esp?: readonly string[];
  /** B's proposals when they should differ from A's. */
  readonly ikeB?: readonly string[];
  readonly espB?: readonly string[];
  readonly mode?: 'tunnel' | 'transport';
  readonly modeB?: 'tunnel' | 'transport';
  readonly psk?: string;
  readonly pskB?: string;
  readonly idA?: string;
  readonly idB?: string;
  readonly addressA?: string;
  readonly addressB?: string;
  readonly port?: number;
  readonly trafficA?: { local: string[]; remote: string[] };
  readonly trafficB?: { local: string[]; remote: string[] };
  readonly ikeLifetime?: Lifetime;
  readonly childLifetime?: Lifetime;
  readonly dpd?: DpdPolicy;
  readonly retransmit?: RetransmitPolicy;
  readonly fragmentation?: FragmentationPolicy;
  readonly name?: string;
}

function ikePolicy(name: string, proposals: readonly string[], o: PairOptions): IkePolicy {
  return {
    name,
    version: 2,
    auth: 'psk',
    proposals,
    proposalSets: sets(proposals, 'ike'),
    lifetime: o.ikeLifetime ?? lifetimeFromRekeySeconds(24 * 3600),
    ...(o.dpd === undefined ? {} : { dpd: o.dpd }),
    retransmit: o.retransmit ?? DEFAULT_RETRANSMIT,
    fragmentation: o.fragmentation ?? DEFAULT_FRAGMENTATION,
  };
}

function dataPolicy(name: string, proposals: readonly string[], mode: 'tunnel' | 'transport', o: PairOptions): DataPolicy {
  return {
    name,
    protocol: 'esp',
    mode,
    proposals,
    proposalSets: sets(proposals, 'esp'),
    lifetime: o.childLifetime ?? lifetimeFromRekeySeconds(3600),
  };
}

/** Two connections that fit each other: A (192.0.2.1) and B (192.0.2.2) by default. */
export function connectionPair(o: PairOptions = {}): { a: ConnectionConfig; b: ConnectionConfig } {
  const name = o.name ?? 'lab';
  const ike = o.ike ?? ['aes128-sha256-modp2048'];
  const esp = o.esp ?? ['aes128gcm16'];
  const addressA = o.addressA ?? '192.0.2.1';
  const addressB = o.addressB ?? '192.0.2.2';
  const port = o.port ?? 500;
  const idA = parseIdentityConfig(o.idA ?? addressA);
  const idB = parseIdentityConfig(o.idB ?? 'hq.example.net');
  const trafficA = o.trafficA ?? { local: ['198.51.100.0/24'], remote: ['203.0.113.0/24'] };
  const trafficB = o.trafficB ?? { local: trafficA.remote, remote: trafficA.local };
  const a: ConnectionConfig = {
    name,
    ikePolicy: ikePolicy(`${name}-ike`, ike, o),
    dataPolicy: dataPolicy(`${name}-data`, esp, o.mode ?? 'tunnel', o),
    local: { address: addressA, port, id: idA, psk: secretBytes(o.psk ?? 'correct horse battery staple') },
    remote: { address: addressB, port, id: idB },
    traffic: trafficA,
    start: 'on-demand',
  };
  const b: ConnectionConfig = {
    name,
    ikePolicy: ikePolicy(`${name}-ike`, o.ikeB ?? ike, o),
    dataPolicy: dataPolicy(`${name}-data`, o.espB ?? esp, o.modeB ?? o.mode ?? 'tunnel', o),
    local: { address: addressB, port, id: idB, psk: secretBytes(o.pskB ?? o.psk ?? 'correct horse battery staple') },
    remote: { address: addressA, port, id: idA },
    traffic: trafficB,
    start: 'listen',
  };
  return { a, b };
}
