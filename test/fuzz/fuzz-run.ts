/**
 * The fuzzing loop shared by `npm run fuzz` (fuzz.ts) and the short run in `npm test`
 * (fuzz.test.ts): episodes of the raw and/or SK mode drawn from one seeded PRNG, so a run is
 * reproduced by its seed; each crashing episode is saved as JSON (with the single input that
 * crashes by itself, when there is one) and can be replayed with `--replay FILE`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Datagram } from '../../src/ports.js';
import { CrashOracle, withProcessTraps, type CrashReport } from './crash-oracle.js';
import { createPrng } from './prng.js';
import { generateRawEpisode, isolateRawCulprit, rawDonors, runRawEpisode, type RawEpisode } from './raw-mode.js';
import { loadSeeds } from './seed-fixtures.js';
import { generateSkEpisode, innerDonors, innerSeeds, runSkEpisode, type SkEpisode } from './sk-mode.js';

export type FuzzMode = 'raw' | 'sk' | 'both';

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this many inputs... */
  readonly inputs: number;
  /** ...or this much wall-clock time, whichever comes first. */
  readonly maxSeconds?: number;
  readonly mode: FuzzMode;
  /** Where crashing episodes are written. */
  readonly crashDir: string;
  /** Inputs per episode (raw: per replay; sk: per established lab). */
  readonly rawBatch?: number;
  readonly skBatch?: number;
  /** Progress lines (every `progressSeconds`). */
  readonly progress?: (line: string) => void;
  readonly progressSeconds?: number;
  /**
   * An episode that takes longer than this (wall clock) is saved too (`slow-…json`), beside the
   * crashes: an episode that runs for seconds is where memory and time go (default 5 s).
   */
  readonly saveSlowSeconds?: number;
}

/** An episode that took long, with the heap it left behind before any collection. */
export interface SlowEpisode {
  readonly episode: number;
  readonly mode: 'raw' | 'sk';
  readonly seconds: number;
  readonly heapMb: number;
  readonly file: string | undefined;
}

export interface FoundCrash {
  readonly episode: number;
  readonly file: string;
  readonly crashes: readonly CrashReport[];
}

export interface FuzzSummary {
  readonly seed: number;
  readonly mode: FuzzMode;
  readonly inputs: number;
  readonly episodes: { readonly raw: number; readonly sk: number };
  readonly seconds: number;
  readonly inputsPerSecond: number;
  readonly rssStartMb: number;
  readonly rssEndMb: number;
  readonly rssMaxMb: number;
  readonly crashes: readonly FoundCrash[];
  /** The slowest episodes, slowest first (at most 5). */
  readonly slowest: readonly SlowEpisode[];
}

export type SavedEpisode = (RawEpisode | SkEpisode) & { readonly seed: number; readonly episode: number; readonly culprit?: number; readonly crashes: readonly CrashReport[] };

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

export async function runFuzz(options: FuzzOptions): Promise<FuzzSummary> {
  const seeds = loadSeeds();
  const raw = rawDonors(seeds);
  const inner = innerSeeds(seeds);
  const skDonors = innerDonors(inner);
  const rng = createPrng(options.seed);
  const started = performance.now();
  const deadline = options.maxSeconds === undefined ? Infinity : started + options.maxSeconds * 1000;
  const rssStart = process.memoryUsage().rss;
  let rssMax = rssStart;
  let inputs = 0;
  const episodes = { raw: 0, sk: 0 };
  const crashes: FoundCrash[] = [];
  let current: CrashOracle | undefined;
  let lastProgress = started;
  const slowest: SlowEpisode[] = [];
  const saveSlowMs = (options.saveSlowSeconds ?? 5) * 1000;

  await withProcessTraps(
    () => current,
    async () => {
      for (let episode = 0; inputs < options.inputs && performance.now() < deadline; episode++) {
        const left = options.inputs - inputs;
        // Raw episodes are cheap per input, SK episodes cost more: 3 raw to 1 SK in `both`.
        const useSk = options.mode === 'sk' || (options.mode === 'both' && episode % 4 === 3);
        const oracle = new CrashOracle();
        current = oracle;
        const episodeStarted = performance.now();
        let saved: SavedEpisode;
        if (useSk) {
          const e = generateSkEpisode(rng, inner, skDonors, Math.min(options.skBatch ?? 64, left));
          inputs += await runSkEpisode(e, oracle);
          episodes.sk++;
          saved = { ...e, seed: options.seed, episode, crashes: oracle.crashes };
        } else {
          const e = generateRawEpisode(rng, seeds, raw, Math.min(options.rawBatch ?? 1024, left));
          inputs += await runRawEpisode(e, seeds, oracle);
          episodes.raw++;
          saved = { ...e, seed: options.seed, episode, crashes: oracle.crashes };
          if (oracle.crashed) {
            current = new CrashOracle();
            const culprit = await isolateRawCulprit(e, seeds);
            if (culprit !== undefined) saved = { ...saved, culprit };
          }
        }
        // Let a late uncaught error of this episode (XState rethrows on a timer) land in its oracle.
        await new Promise((r) => setTimeout(r, 0));
        current = undefined;
        if (oracle.crashed) crashes.push({ episode, file: saveEpisode(options.crashDir, { ...saved, crashes: oracle.crashes }), crashes: oracle.crashes });
        const episodeMs = performance.now() - episodeStarted;
        if (slowest.length < 5 || episodeMs / 1000 > slowest[slowest.length - 1]!.seconds) {
          const file = episodeMs >= saveSlowMs ? saveEpisode(options.crashDir, saved, 'slow') : undefined;
          slowest.push({ episode, mode: useSk ? 'sk' : 'raw', seconds: episodeMs / 1000, heapMb: mb(process.memoryUsage().heapUsed), file });
          slowest.sort((x, y) => y.seconds - x.seconds);
          slowest.length = Math.min(slowest.length, 5);
        }
        const rss = process.memoryUsage().rss;
        if (rss > rssMax) rssMax = rss;
        const now = performance.now();
        if (options.progress !== undefined && now - lastProgress >= (options.progressSeconds ?? 10) * 1000) {
          lastProgress = now;
          const seconds = (now - started) / 1000;
          options.progress(
            `${inputs} inputs in ${seconds.toFixed(0)} s (${Math.round(inputs / seconds)}/s), episodes raw ${episodes.raw} sk ${episodes.sk}, crashes ${crashes.length}, rss ${mb(rss)} MB (heap ${mb(process.memoryUsage().heapUsed)} MB)`,
          );
        }
      }
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const rssEnd = process.memoryUsage().rss;
  return {
    seed: options.seed,
    mode: options.mode,
    inputs,
    episodes,
    seconds,
    inputsPerSecond: inputs / seconds,
    rssStartMb: mb(rssStart),
    rssEndMb: mb(rssEnd),
    rssMaxMb: mb(Math.max(rssMax, rssEnd)),
    crashes,
    slowest,
  };
}

function saveEpisode(dir: string, episode: SavedEpisode, kind: 'crash' | 'slow' = 'crash'): string {
  mkdirSync(dir, { recursive: true });
  const file = resolve(join(dir, `${kind}-${episode.mode}-seed${episode.seed}-episode${episode.episode}.json`));
  // Datagram bytes as hex (a Buffer would serialise as an array of numbers).
  const portable = episode.mode === 'raw' ? { ...episode, inputs: episode.inputs.map((d) => ({ local: d.local, remote: d.remote, hex: Buffer.from(d.bytes).toString('hex') })) } : episode;
  const json = JSON.stringify(portable, null, 1);
  writeFileSync(file, `${json}\n`);
  return file;
}

/** Replays a saved episode; returns its crashes (none once the bug is fixed). */
export async function replaySavedEpisode(saved: SavedEpisode, onlyCulprit = false): Promise<CrashReport[]> {
  const oracle = new CrashOracle();
  await withProcessTraps(
    () => oracle,
    async () => {
      if (saved.mode === 'sk') {
        await runSkEpisode(saved, oracle);
        return;
      }
      const seeds = loadSeeds();
      const inputs = (saved.inputs as unknown as { local: Datagram['local']; remote: Datagram['remote']; hex: string }[]).map((d) => ({ local: d.local, remote: d.remote, bytes: Buffer.from(d.hex, 'hex') }));
      const picked = onlyCulprit && saved.culprit !== undefined ? [inputs[saved.culprit]!] : inputs;
      await runRawEpisode({ ...saved, inputs: picked }, seeds, oracle);
      await new Promise((r) => setTimeout(r, 0));
    },
  );
  return oracle.crashes;
}
