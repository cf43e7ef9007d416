/**
 * Raw mode: mutated datagrams into an engine in the middle of a recorded exchange. Each episode
 * replays one seed into a fresh target engine and, in front of one recorded datagram, delivers
 * a batch of mutations of it (or of another seed's datagram), some from another source address
 * or port. Afterwards the invariants: nothing crashed, and once the peer is gone and three hours
 * of virtual time have passed, the target holds no IKE SA, no Child SA SPI and no kernel SA (a
 * leak anywhere shows up there).
 */
import type { Datagram } from '../../src/ports.js';
import { CrashOracle } from './crash-oracle.js';
import { chainOfMessage, mutateMessage, segmentsOf, type Segment } from './mutators.js';
import type { Prng } from './prng.js';
import { replay } from './replay.js';
import type { Seed } from './seed-fixtures.js';

export interface RawEpisode {
  readonly mode: 'raw';
  readonly scenario: string;
  readonly at: number;
  readonly inputs: readonly Datagram[];
}

/** The top-level payloads of every recorded datagram: what splicing draws from. */
export function rawDonors(seeds: readonly Seed[]): Segment[] {
  return seeds.flatMap((s) => s.datagrams.flatMap((d) => (d.length > 28 ? segmentsOf(chainOfMessage(d).bytes, chainOfMessage(d).firstType) : [])));
}

/** x25519 seeds replay in ~20 ms, MODP-2048 ones in ~500 ms: the slow ones get 1 episode in 8. */
function pickSeed(rng: Prng, seeds: readonly Seed[]): Seed {
  const fast = seeds.filter((s) => !s.scenario.name.includes('modp'));
  const slow = seeds.filter((s) => s.scenario.name.includes('modp'));
  return rng.chance(0.125) && slow.length > 0 ? rng.pick(slow) : rng.pick(fast.length > 0 ? fast : seeds);
}

export function generateRawEpisode(rng: Prng, seeds: readonly Seed[], donors: readonly Segment[], batch: number): RawEpisode {
  const seed = pickSeed(rng, seeds);
  const recorded = seed.fixture.datagrams;
  const at = rng.int(recorded.length + 1);
  const near = recorded[Math.min(at, recorded.length - 1)]!;
  const inputs: Datagram[] = [];
  for (let i = 0; i < batch; i++) {
    const other = rng.chance(0.25) ? rng.pick(seeds) : seed;
    const index = other === seed && rng.chance(0.8) ? Math.min(at, recorded.length - 1) : rng.int(other.datagrams.length);
    const bytes = mutateMessage(rng, other.datagrams[index]!, donors);
    let remote = near.remote;
    let local = near.local;
    if (rng.chance(0.1)) {
      // Another source (a spoofer, a NAT rebinding) or the NAT-T port (RFC 7296 2.23).
      if (rng.chance(0.5)) remote = { address: `192.0.2.${1 + rng.int(250)}`, port: rng.pick([500, 4500, 1 + rng.int(65535)]) };
      else local = { address: local.address, port: local.port === 500 ? 4500 : 500 };
    }
    inputs.push({ local, remote, bytes });
  }
  return { mode: 'raw', scenario: seed.scenario.name, at, inputs };
}

/** Runs one episode; the oracle holds its crashes. Returns how many inputs were delivered. */
export async function runRawEpisode(episode: RawEpisode, seeds: readonly Seed[], oracle: CrashOracle): Promise<number> {
  const seed = seeds.find((s) => s.scenario.name === episode.scenario);
  if (seed === undefined) throw new Error(`no seed ${episode.scenario}`);
  let delivered = 0;
  const { lab, target } = await replay(seed, oracle, {
    at: episode.at,
    inputs: episode.inputs,
    after: () => {
      delivered++;
      return !oracle.crashed;
    },
  });
  await lab.run(3 * 3600_000);
  const e = target.engine;
  oracle.invariant(e.size() === 0, `${e.size()} IKE SAs left 3 h after the peer went: ${JSON.stringify(e.status().map((s) => [s.id, s.state]))}`);
  oracle.invariant(e.childSpisInUse() === 0, `${e.childSpisInUse()} Child SA SPIs still allocated 3 h after the peer went`);
  oracle.invariant(target.kernel.sas().length === 0, `${target.kernel.sas().length} kernel SAs left 3 h after the peer went`);
  e.stop();
  target.timers.dispose();
  return delivered;
}

/** Replays `episode` with each input alone; returns the first that crashes by itself, if any. */
export async function isolateRawCulprit(episode: RawEpisode, seeds: readonly Seed[]): Promise<number | undefined> {
  for (let i = 0; i < episode.inputs.length; i++) {
    const oracle = new CrashOracle();
    await runRawEpisode({ ...episode, inputs: [episode.inputs[i]!] }, seeds, oracle);
    if (oracle.crashed) return i;
  }
  return undefined;
}
