/**
 * Many SAs between the two engines of a Lab, for the scale benchmark (bench/scale.bench.ts) and
 * the virtual-day and rekey-storm tests: N IKE SAs of one connection, each with its first Child
 * SA, set up in batches on virtual time; a census of what each side holds (IKE SAs, Child SAs per
 * IKE SA, ESP SAs in the memory kernels, and whether the two sides' ESP SAs pair up); the
 * datagrams per virtual second; and the rekeys as the SA events report them.
 *
 * One connection initiated N times: both sides' flood defences are lifted (one address opens
 * every SA) and INITIAL_CONTACT is off (RFC 7296 2.4: it would make the responder drop the SAs
 * that came before, which all have the same peer).
 */
import { DEFAULT_ENGINE_SETTINGS, type EngineSettings, type Lifetime } from '../../src/config/model.js';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { ikeStateName } from '../../src/daemon/status-snapshot.js';
import { connectionPair } from './fixtures.js';
import { Lab, type LabOptions, type LabSide } from './lab.js';

/** Admission limits off: thousands of IKE_SA_INITs from one address in one second are the point. */
export const SCALE_SETTINGS: Partial<EngineSettings> = {
  cookieThreshold: 100_000_000,
  cookieThresholdPerAddress: 0,
  blockThresholdPerAddress: 0,
  maxHalfOpen: 100_000_000,
  halfOpenBudgetBytes: Number.MAX_SAFE_INTEGER,
  ikeSaInitPerSecond: 100_000_000,
  maxIkeSas: 100_000_000,
  maxNewChildSasPerMinute: DEFAULT_ENGINE_SETTINGS.maxNewChildSasPerMinute,
};

export interface ScaleLabOptions {
  readonly ikeLifetime?: Lifetime;
  readonly childLifetime?: Lifetime;
  readonly seed?: number;
  /** Each side's SA events as they happen (the lab keeps none: a day of 100 000 SAs is millions). */
  readonly onEvent?: (side: 'a' | 'b', event: SaEvent) => void;
}

/** A Lab of one connection (X25519, AES-GCM) that keeps no logs, SA events or key-log entries. */
export function scaleLab(options: ScaleLabOptions = {}): Lab {
  const { a, b } = connectionPair({
    ike: ['aes128gcm16-prfsha256-x25519'],
    esp: ['aes128gcm16'],
    ...(options.ikeLifetime === undefined ? {} : { ikeLifetime: options.ikeLifetime }),
    ...(options.childLifetime === undefined ? {} : { childLifetime: options.childLifetime }),
  });
  const labOptions: LabOptions = {
    silent: true,
    keepEvents: false,
    connections: { a: [{ ...a, initialContact: false }], b: [b] },
    settings: SCALE_SETTINGS,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
  };
  return new Lab(labOptions);
}

/**
 * Initiates `count` IKE SAs from side A, `batch` at a time every `spacingMs` of virtual time, and
 * runs until both sides report every Child SA up (counted by `childUps`, which the caller feeds
 * from the lab's onEvent). Returns false when they did not all come up within `maxMs`.
 */
export async function establish(
  lab: Lab,
  count: number,
  childUps: { a: number; b: number },
  options: { batch?: number; spacingMs?: number; maxMs?: number } = {},
): Promise<boolean> {
  const batch = options.batch ?? 500;
  const spacingMs = options.spacingMs ?? 50;
  const startA = childUps.a;
  const startB = childUps.b;
  for (let i = 0; i < count; i += batch) {
    for (let j = i; j < Math.min(count, i + batch); j++) lab.a.engine.initiate('lab');
    await lab.run(spacingMs);
  }
  return lab.runUntil(() => childUps.a - startA >= count && childUps.b - startB >= count, options.maxMs ?? 600_000);
}

/** What one side holds, from its engine's status and its memory kernel. */
export interface SideCensus {
  /** IKE SAs the user sees (status JSON): established, connecting or deleting; not lingering. */
  readonly ikeSas: number;
  readonly establishedIkeSas: number;
  /** Child SAs of those IKE SAs, by state (installed, rekeying, rekeyed, …). */
  readonly childSas: Readonly<Record<string, number>>;
  /** How many IKE SAs have 0, 1, 2 … Child SAs (a lost Child SA shows under 0, a duplicate under 2). */
  readonly childrenPerIkeSa: Readonly<Record<number, number>>;
  /** ESP SAs in the memory kernel (two per Child SA: in and out). */
  readonly kernelSas: number;
  readonly kernelPolicies: number;
  /** Inbound SPIs the engine drew and holds (one per live Child SA when idle). */
  readonly childSpisInUse: number;
  /** IKE SA entries in the supervisor's table (lingering ones included). */
  readonly tableSize: number;
  readonly timersPending: number;
}

export function census(side: LabSide): SideCensus {
  let ikeSas = 0;
  let establishedIkeSas = 0;
  const childSas: Record<string, number> = {};
  const childrenPerIkeSa: Record<number, number> = {};
  for (const sa of side.engine.status()) {
    const state = ikeStateName(sa.state);
    if (state === undefined) continue;
    ikeSas++;
    if (state === 'ESTABLISHED') establishedIkeSas++;
    childrenPerIkeSa[sa.children.length] = (childrenPerIkeSa[sa.children.length] ?? 0) + 1;
    for (const child of sa.children) childSas[child.state] = (childSas[child.state] ?? 0) + 1;
  }
  return {
    ikeSas,
    establishedIkeSas,
    childSas,
    childrenPerIkeSa,
    kernelSas: side.kernel.sas().length,
    kernelPolicies: side.kernel.policies().length,
    childSpisInUse: side.engine.childSpisInUse(),
    tableSize: side.engine.size(),
    timersPending: side.timers.pending(),
  };
}

/**
 * Whether every outbound ESP SA of one side is an inbound ESP SA of the other with the same key,
 * and the other way round: no Child SA is half there.
 */
export function kernelsPair(lab: Lab): boolean {
  const byKey = (side: LabSide, direction: 'in' | 'out') =>
    new Map(
      side.kernel
        .sas()
        .filter((s) => s.direction === direction)
        .map((s) => [s.spi, s.encryption.key.toString('hex')]),
    );
  const matches = (outs: Map<number, string>, ins: Map<number, string>) => outs.size === ins.size && [...outs].every(([spi, key]) => ins.get(spi) === key);
  return matches(byKey(lab.a, 'out'), byKey(lab.b, 'in')) && matches(byKey(lab.b, 'out'), byKey(lab.a, 'in'));
}

/**
 * Datagrams handed to the network per second of virtual time (both directions), through the
 * network's filter hook (it passes every datagram). Only the busiest second is kept besides the
 * current one, so a day costs nothing.
 */
export class MessageRate {
  total = 0;
  peakPerSecond = 0;
  peakAtSecond: number | undefined;
  #second = -1;
  #inSecond = 0;

  constructor(lab: Lab) {
    lab.network.filter = () => {
      this.#count(Math.floor(lab.scheduler.now() / 1000));
      return true;
    };
  }

  #count(second: number): void {
    this.total++;
    if (second !== this.#second) {
      this.#second = second;
      this.#inSecond = 0;
    }
    this.#inSecond++;
    if (this.#inSecond > this.peakPerSecond) {
      this.peakPerSecond = this.#inSecond;
      this.peakAtSecond = second;
    }
  }
}

/**
 * SA events of both sides, counted: Child SAs up (first ones and rekeys), IKE SA rekeys, what
 * went down and why, and every failure.
 */
export class SaEventTally {
  readonly childUps = { a: 0, b: 0 };
  readonly childRekeys = { a: 0, b: 0 };
  readonly ikeRekeys = { a: 0, b: 0 };
  /** `child-sa-down: <reason>` and `ike-sa-down: <cause>` → how many, both sides together. */
  readonly downs = new Map<string, number>();
  readonly failures: { side: 'a' | 'b'; event: SaEvent }[] = [];
  /** With `keepRekeys`: when each Child SA rekey completed (virtual ms), per side. */
  readonly rekeyTimes = { a: [] as number[], b: [] as number[] };
  /** With `keepRekeys`: rekeys of a Child SA (its inbound SPI) that had been rekeyed already. */
  duplicateRekeys = 0;
  readonly #rekeyed = { a: new Set<string>(), b: new Set<string>() };

  constructor(private readonly options: { readonly keepRekeys?: boolean } = {}) {}

  readonly onEvent = (side: 'a' | 'b', event: SaEvent): void => {
    switch (event.kind) {
      case 'child-sa-up':
        this.childUps[side]++;
        if (event.rekeyOf === undefined) return;
        this.childRekeys[side]++;
        if (this.options.keepRekeys === true) {
          this.rekeyTimes[side].push(event.atMs);
          if (this.#rekeyed[side].has(event.rekeyOf)) this.duplicateRekeys++;
          this.#rekeyed[side].add(event.rekeyOf);
        }
        return;
      case 'child-sa-down':
        this.#down(`child-sa-down: ${event.reason}`);
        return;
      case 'ike-sa-down':
        this.#down(`ike-sa-down: ${event.cause}`);
        return;
      case 'ike-sa-rekeyed':
        this.ikeRekeys[side]++;
        return;
      case 'ike-sa-failed':
      case 'child-sa-failed':
        this.failures.push({ side, event });
        return;
      case 'ike-sa-up':
        return;
    }
  };

  #down(key: string): void {
    this.downs.set(key, (this.downs.get(key) ?? 0) + 1);
  }
}

/** Runs virtual time until no datagram is on its way (every exchange answered) or `maxMs` passed. */
export function runUntilQuiet(lab: Lab, maxMs = 60_000): Promise<boolean> {
  return lab.runUntil(() => lab.network.inFlight === 0, maxMs);
}
