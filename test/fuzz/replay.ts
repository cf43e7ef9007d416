/**
 * Replays a recorded seed into a fresh target engine (see seed-scenarios.ts): the same lab seed
 * gives the target the same SPIs, nonces and DH keys, so the recorded datagrams verify and the
 * exchange runs to its end. The other side is detached: the target's datagrams go nowhere.
 *
 * `inject` slips extra datagrams in just before recorded datagram `at` (at its time), which is
 * how the raw mode puts mutated inputs in front of an engine in the middle of a real exchange.
 */
import type { Datagram } from '../../src/ports.js';
import { Lab, type LabSide } from '../engine/lab.js';
import type { CrashOracle } from './crash-oracle.js';
import type { Seed } from './seed-fixtures.js';

export interface Replay {
  readonly lab: Lab;
  readonly target: LabSide;
}

export interface Injection {
  /** Index of the recorded datagram the inputs go in front of (datagrams.length: after the last). */
  readonly at: number;
  readonly inputs: readonly Datagram[];
  /** Called after each input with its index; returning false stops the rest. */
  readonly after?: (index: number) => boolean;
}

export function startReplay(seed: Seed, oracle: CrashOracle): Replay {
  const { scenario } = seed;
  const lab = new Lab({ seed: scenario.labSeed, pair: scenario.pair, silent: true,
    inspect: (side, e) => side === scenario.target && oracle.inspect(e),
    onEvent: (side, e) => side === scenario.target && oracle.onEvent(e),
  });
  const other = scenario.target === 'a' ? lab.b : lab.a;
  for (const port of [500, 4500]) lab.network.detach({ address: other.address, port });
  const target = scenario.target === 'a' ? lab.a : lab.b;
  if (scenario.target === 'a') target.engine.initiate('lab');
  return { lab, target };
}

/** Schedules the recorded datagrams (and the injection) and runs virtual time past the last one. */
export async function replay(seed: Seed, oracle: CrashOracle, injection?: Injection): Promise<Replay> {
  const r = startReplay(seed, oracle);
  const { lab, target } = r;
  const recorded = seed.fixture.datagrams;
  const deliver = (d: Datagram) => oracle.guard(() => target.engine.receive(d));
  recorded.forEach((d, i) => {
    const datagram: Datagram = { local: d.local, remote: d.remote, bytes: seed.datagrams[i]! };
    lab.scheduler.schedule(() => {
      if (injection?.at === i) inject(injection, deliver);
      deliver(datagram);
    }, d.atMs);
  });
  const endMs = (recorded[recorded.length - 1]?.atMs ?? 0) + 1;
  if (injection !== undefined && injection.at >= recorded.length) lab.scheduler.schedule(() => inject(injection, deliver), endMs);
  await lab.run(endMs + 100);
  return r;
}

function inject(injection: Injection, deliver: (d: Datagram) => void): void {
  for (let i = 0; i < injection.inputs.length; i++) {
    deliver(injection.inputs[i]!);
    if (injection.after?.(i) === false) return;
  }
}
