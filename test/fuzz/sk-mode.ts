/**
 * SK mode: valid SK payloads with corrupted inner payloads from an authenticated peer. Two
 * engines establish two IKE SAs (connections `lab` and `healthy`); the fuzzer takes a's keys of
 * the `lab` SA (engine.ikeSaContext) and sends b requests sealed with them under the Message ID
 * b expects next (RFC 7296 2.1), and answers to b's own outstanding requests, whose inner
 * payload chains are recorded chains (seeds) mutated. The ICV verifies, so every input reaches
 * the payload decoders and the exchange handlers behind the encryption. Some go as SKF
 * fragments (RFC 7383), some with a Message ID or exchange type b does not expect.
 *
 * Afterwards the invariants: nothing crashed; the fuzzed SA, if b still has it established,
 * answers a liveness check (an empty INFORMATIONAL, 1.4); the `healthy` SA still rekeys a Child
 * SA and the IKE SA; and after three hours of virtual time b's SA table, SPI allocations and
 * kernel SAs agree with what is left established.
 */
import { cryptoRegistry } from '../../src/crypto/registry.js';
import { sealSkBody, skBodyLength } from '../../src/crypto/sk-payload.js';
import { headerFor, protectionOf, type IkeSaSecurity } from '../../src/ikev2/ike-sa-session.js';
import type { Datagram } from '../../src/ports.js';
import { ExchangeType, encodeSkfPrefix, encodeSkPrefix, type IkeHeader } from '../../src/wire/index.js';
import { connectionPair } from '../engine/fixtures.js';
import { Lab } from '../engine/lab.js';
import { CrashOracle } from './crash-oracle.js';
import { mutateChain, segmentsOf, type Chain, type Segment } from './mutators.js';
import { createPrng, type Prng } from './prng.js';
import type { Seed } from './seed-fixtures.js';

/** One forged message: what it answers or asks, its inner chain, and how it is framed. */
export interface SkInput {
  /** A request under b's expected Message ID (+ offset), or an answer to what b is made to ask. */
  readonly kind: 'request' | 'response';
  /** For a response: the command that makes b send a request first. */
  readonly provoke?: 'rekey-child' | 'rekey-ike' | 'create-child' | 'delete-child';
  readonly exchangeType: number;
  readonly messageIdOffset: number;
  readonly firstType: number;
  readonly innerHex: string;
  /** Split into this many SKF fragments (1: a plain SK payload). */
  readonly fragments: number;
  /** Fragment Number / Total Fragments edits (RFC 7383 2.5), when fragmented. */
  readonly fragmentEdit?: { readonly index: number; readonly number: number; readonly total: number };
  /** Virtual ms to run after it. */
  readonly pauseMs: number;
}

export interface SkEpisode {
  readonly mode: 'sk';
  readonly labSeed: number;
  readonly ike: string;
  readonly inputs: readonly SkInput[];
}

export interface InnerSeed extends Chain {
  readonly exchangeType: number;
  readonly response: boolean;
}

export function innerSeeds(seeds: readonly Seed[]): InnerSeed[] {
  return seeds.flatMap((s) =>
    s.fixture.inner.map((i) => ({ exchangeType: i.exchangeType, response: i.response, firstType: i.firstType, bytes: Buffer.from(i.hex, 'hex') })),
  );
}

export function innerDonors(inner: readonly InnerSeed[]): Segment[] {
  return inner.flatMap((i) => segmentsOf(i.bytes, i.firstType));
}

/** Room for the IKE header, the SK payload header, IV, padding and ICV within one datagram. */
const MAX_INNER = 65_000;

const EXCHANGES = [ExchangeType.IKE_AUTH, ExchangeType.CREATE_CHILD_SA, ExchangeType.INFORMATIONAL];
const PROPOSALS = ['aes128gcm16-prfsha256-x25519', 'aes128-sha256-x25519'];

export function generateSkEpisode(rng: Prng, inner: readonly InnerSeed[], donors: readonly Segment[], batch: number): SkEpisode {
  const inputs: SkInput[] = [];
  for (let i = 0; i < batch; i++) {
    const kind = rng.chance(0.2) ? 'response' : 'request';
    const candidates = inner.filter((s) => s.response === (kind === 'response'));
    const base = rng.pick(candidates.length > 0 ? candidates : inner);
    let chain: Chain = base;
    if (!rng.chance(0.1)) for (let n = 1 + (rng.chance(0.3) ? rng.int(4) : 0); n > 0; n--) chain = mutateChain(rng, chain, donors);
    // A UDP datagram holds at most 65 507 octets and the SK payload's Length field 65 535: cut
    // longer plaintexts (repeated splices grow them) so the message can be built at all.
    if (chain.bytes.length > MAX_INNER) chain = { firstType: chain.firstType, bytes: chain.bytes.subarray(0, MAX_INNER) };
    const fragments = rng.chance(0.15) ? 2 + rng.int(3) : 1;
    inputs.push({
      kind,
      ...(kind === 'response' ? { provoke: rng.pick(['rekey-child', 'rekey-ike', 'create-child', 'delete-child'] as const) } : {}),
      exchangeType: rng.chance(0.85) ? base.exchangeType : rng.chance(0.7) ? rng.pick(EXCHANGES) : rng.int(256),
      messageIdOffset: rng.chance(0.9) ? 0 : rng.pick([-1, 1, 2, 1000]),
      firstType: chain.firstType,
      innerHex: chain.bytes.toString('hex'),
      fragments,
      ...(fragments > 1 && rng.chance(0.3) ? { fragmentEdit: { index: rng.int(fragments), number: rng.int(6), total: rng.int(6) } } : {}),
      pauseMs: rng.pick([0, 1, 10, 100]),
    });
  }
  return { mode: 'sk', labSeed: 21 + rng.int(4), ike: rng.pick(PROPOSALS), inputs };
}

/** header + SK{chain}, or the SKF fragments of it, sealed with the sender's keys. */
export function sealForged(security: IkeSaSecurity, header: IkeHeader, chain: Chain, input: Pick<SkInput, 'fragments' | 'fragmentEdit'>, random: (n: number) => Buffer): Buffer[] {
  const protection = protectionOf(security, security.role, cryptoRegistry);
  if (input.fragments <= 1) {
    const prefix = encodeSkPrefix(header, [], skBodyLength(protection, chain.bytes.length), chain.firstType);
    return [Buffer.concat([prefix, sealSkBody(protection, prefix, chain.bytes, random)])];
  }
  const size = Math.max(1, Math.ceil(chain.bytes.length / input.fragments));
  const out: Buffer[] = [];
  for (let i = 0; i < input.fragments; i++) {
    const part = chain.bytes.subarray(i * size, (i + 1) * size);
    const edit = input.fragmentEdit?.index === i ? input.fragmentEdit : undefined;
    const prefix = encodeSkfPrefix(header, [], {
      firstInnerPayload: i === 0 ? chain.firstType : 0,
      fragmentNumber: edit?.number ?? i + 1,
      totalFragments: edit?.total ?? input.fragments,
      bodyLength: skBodyLength(protection, part.length),
    });
    out.push(Buffer.concat([prefix, sealSkBody(protection, prefix, part, random)]));
  }
  return out;
}

const installed = (lab: Lab, side: 'a' | 'b', connection: string) =>
  (side === 'a' ? lab.a : lab.b).engine.status().find((s) => s.connection === connection && s.state === 'established' && s.children.some((c) => c.state === 'installed'));

export function skLab(episode: Pick<SkEpisode, 'labSeed' | 'ike'>, oracle: CrashOracle): Lab {
  const fuzzed = connectionPair({ ike: [episode.ike] });
  const healthy = connectionPair({ ike: [episode.ike], name: 'healthy', idA: 'healthy.example', idB: 'hq2.example.net' });
  return new Lab({ seed: episode.labSeed, connections: { a: [fuzzed.a, healthy.a], b: [fuzzed.b, healthy.b] }, silent: true, inspect: (_side, e) => oracle.inspect(e), onEvent: (_side, e) => oracle.onEvent(e) });
}

/** Runs one episode; the oracle holds its crashes. Returns how many inputs were delivered. */
export async function runSkEpisode(episode: SkEpisode, oracle: CrashOracle): Promise<number> {
  const lab = skLab(episode, oracle);
  lab.a.engine.initiate('healthy');
  // IVs: drawn from a stream of the episode's own, so a saved episode replays byte for byte.
  const ivs = createPrng(episode.labSeed * 7919 + episode.inputs.length);
  const random = (n: number) => ivs.bytes(n);
  const deliver = (bytes: Buffer): void => {
    const d: Datagram = { local: { address: lab.b.address, port: 500 }, remote: { address: lab.a.address, port: 500 }, bytes };
    oracle.guard(() => lab.b.engine.receive(d));
  };
  /** A fresh `lab` IKE SA from a (its INITIAL_CONTACT clears what is left of the last one at b). */
  const establish = async (): Promise<{ idB: string; security: IkeSaSecurity } | undefined> => {
    const idA = lab.a.engine.initiate('lab');
    const up = await lab.runUntil(() => lab.a.engine.status().some((s) => s.id === idA && s.state === 'established' && s.children.length > 0) && installed(lab, 'b', 'healthy') !== undefined, 60_000);
    const idB = lab.b.engine.status().find((s) => s.connection === 'lab' && s.state === 'established' && s.spiI === lab.a.engine.status().find((x) => x.id === idA)?.spiI)?.id;
    const security = lab.a.engine.ikeSaContext(idA)?.security;
    oracle.invariant(up && idB !== undefined && security !== undefined, 'a new IKE SA could not be established with b after fuzzing');
    return up && idB !== undefined && security !== undefined ? { idB, security } : undefined;
  };
  let sa = await establish();
  if (sa === undefined) return 0;
  let { idB, security } = sa;
  let delivered = 0;
  for (const input of episode.inputs) {
    let ctx = lab.b.engine.ikeSaContext(idB);
    if (ctx === undefined || lab.b.engine.status().find((s) => s.id === idB)?.state !== 'established') {
      // The forged messages ended it (a Delete, a failed exchange): fuzz a new one.
      await lab.run(1_000);
      sa = await establish();
      if (sa === undefined) break;
      ({ idB, security } = sa);
      ctx = lab.b.engine.ikeSaContext(idB)!;
    }
    let messageId = ctx.expectedRequestId;
    if (input.kind === 'response') {
      const b = lab.b.engine;
      const child = lab.b.engine.status().find((s) => s.id === idB)?.children[0];
      oracle.guard(() => {
        if (input.provoke === 'rekey-child') b.rekeyChildSa(idB);
        else if (input.provoke === 'rekey-ike') b.rekeyIkeSa(idB);
        else if (input.provoke === 'create-child') b.createChildSa(idB);
        else if (child !== undefined) b.deleteChildSa(idB, child.inboundSpi);
      });
      messageId = lab.b.engine.ikeSaContext(idB)?.request?.messageId ?? ctx.nextRequestId;
    }
    messageId = (messageId + input.messageIdOffset) >>> 0;
    const header = headerFor(security, input.exchangeType, messageId, input.kind === 'response');
    for (const bytes of sealForged(security, header, { firstType: input.firstType, bytes: Buffer.from(input.innerHex, 'hex') }, input, random)) deliver(bytes);
    delivered++;
    await lab.run(input.pauseMs);
    if (oracle.crashed) break;
  }
  await lab.run(1_000);

  // The fuzzed SA, if b still has it, answers a liveness check (RFC 7296 1.4).
  const ctx = lab.b.engine.ikeSaContext(idB);
  if (ctx !== undefined && ctx.answering === undefined && lab.b.engine.status().find((s) => s.id === idB)?.state === 'established') {
    const expected = ctx.expectedRequestId;
    for (const bytes of sealForged(security, headerFor(security, ExchangeType.INFORMATIONAL, expected, false), { firstType: 0, bytes: Buffer.alloc(0) }, { fragments: 1 }, random)) deliver(bytes);
    await lab.run(1_000);
    const after = lab.b.engine.ikeSaContext(idB);
    if (after !== undefined) oracle.invariant(after.lastResponse?.messageId === expected, `the fuzzed IKE SA no longer answers a liveness check (Message ID ${expected})`);
  }

  // The other IKE SA between the same engines still rekeys, from either side.
  const healthyA = installed(lab, 'a', 'healthy');
  const healthyB = installed(lab, 'b', 'healthy');
  oracle.invariant(healthyA !== undefined && healthyB !== undefined, 'the healthy IKE SA is gone');
  if (healthyA !== undefined && healthyB !== undefined) {
    const before = lab.a.events.filter((e) => e.kind === 'child-sa-up' && e.rekeyOf !== undefined).length;
    lab.a.engine.rekeyChildSa(healthyA.id);
    await lab.runUntil(() => lab.a.events.filter((e) => e.kind === 'child-sa-up' && e.rekeyOf !== undefined).length > before, 60_000);
    oracle.invariant(lab.a.events.filter((e) => e.kind === 'child-sa-up' && e.rekeyOf !== undefined).length > before, 'the healthy IKE SA did not rekey its Child SA');
    lab.b.engine.rekeyIkeSa(healthyB.id);
    await lab.runUntil(() => lab.b.events.some((e) => e.kind === 'ike-sa-rekeyed' && e.id === healthyB.id), 60_000);
    oracle.invariant(lab.b.events.some((e) => e.kind === 'ike-sa-rekeyed' && e.id === healthyB.id), 'the healthy IKE SA did not rekey');
  }

  // Hours later b's tables agree with what is established: nothing half-done is left behind.
  // (Checked again a minute later before it counts: an hourly Child SA rekey may be in flight.)
  await lab.run(3 * 3600_000);
  let problems = tableProblems(lab);
  if (problems.length > 0) {
    await lab.run(60_000);
    problems = tableProblems(lab);
  }
  for (const p of problems) oracle.invariant(false, p);
  lab.a.engine.stop();
  lab.b.engine.stop();
  lab.a.timers.dispose();
  lab.b.timers.dispose();
  return delivered;
}

function tableProblems(lab: Lab): string[] {
  const b = lab.b;
  const status = b.engine.status();
  const children = status.flatMap((s) => s.children);
  const out: string[] = [];
  if (!status.every((s) => s.state === 'established')) out.push(`IKE SAs left in passing states after 3 h: ${JSON.stringify(status.map((s) => [s.id, s.state]))}`);
  if (b.engine.size() !== status.length) out.push(`engine.size() ${b.engine.size()} but ${status.length} IKE SAs in status`);
  if (status.length > 3) out.push(`${status.length} IKE SAs after 3 h (2 expected at most, 1 more if a forged rekey was accepted)`);
  if (b.engine.childSpisInUse() !== children.length) out.push(`${b.engine.childSpisInUse()} Child SA SPIs allocated for ${children.length} Child SAs`);
  const installedChildren = children.filter((c) => c.state === 'installed').length;
  if (b.kernel.sas().length !== 2 * installedChildren) out.push(`${b.kernel.sas().length} kernel SAs for ${installedChildren} installed Child SAs`);
  return out;
}
