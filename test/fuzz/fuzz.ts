/**
 * npm run fuzz -- [--seed N] [--inputs M] [--mode raw|sk|both] [--seconds S] [--out DIR] [--save-slow S]
 * npm run fuzz -- --replay FILE [--culprit]
 *
 * Feeds mutated datagrams into ikekm engines (see fuzz-run.ts, raw-mode.ts, sk-mode.ts) and
 * reports inputs per second, crashes (each saved to a file whose path is printed), the process's
 * RSS at the start, the end and its peak, and the five slowest episodes (those over --save-slow
 * seconds, default 5, saved too, for --replay). Exits 1 when something crashed.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { replaySavedEpisode, runFuzz, type FuzzMode, type SavedEpisode } from './fuzz-run.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    inputs: { type: 'string', default: '100000' },
    seconds: { type: 'string' },
    mode: { type: 'string', default: 'both' },
    out: { type: 'string', default: 'fuzz-crashes' },
    replay: { type: 'string' },
    culprit: { type: 'boolean', default: false },
    'save-slow': { type: 'string', default: '5' },
  },
});

if (values.replay !== undefined) {
  const saved = JSON.parse(readFileSync(values.replay, 'utf8')) as SavedEpisode;
  const t0 = performance.now();
  const crashes = await replaySavedEpisode(saved, values.culprit);
  console.log(`replayed in ${((performance.now() - t0) / 1000).toFixed(1)} s; heap ${Math.round(process.memoryUsage().heapUsed / 1048576)} MB after it`);
  for (const c of crashes) console.log(`${c.kind}: ${c.message}${c.stack === undefined ? '' : `\n${c.stack}`}`);
  console.log(crashes.length === 0 ? 'no crash' : `${crashes.length} crash reports`);
  process.exit(crashes.length === 0 ? 0 : 1);
}

const mode = values.mode as FuzzMode;
if (!['raw', 'sk', 'both'].includes(mode)) throw new Error(`--mode must be raw, sk or both, not ${mode}`);
const summary = await runFuzz({
  seed: Number(values.seed),
  inputs: Number(values.inputs),
  ...(values.seconds === undefined ? {} : { maxSeconds: Number(values.seconds) }),
  mode,
  crashDir: values.out,
  saveSlowSeconds: Number(values['save-slow']),
  progress: (line) => console.log(line),
});
for (const c of summary.crashes) console.log(`CRASH in episode ${c.episode}: ${c.crashes.map((r) => `${r.kind}: ${r.message}`).join('; ')}\n  saved: ${c.file}`);
console.log(
  `fuzz seed ${summary.seed} mode ${summary.mode}: ${summary.inputs} inputs in ${summary.seconds.toFixed(1)} s (${Math.round(summary.inputsPerSecond)} inputs/s), ` +
    `episodes raw ${summary.episodes.raw} sk ${summary.episodes.sk}, ${summary.crashes.length} crashing episodes; ` +
    `RSS start ${summary.rssStartMb} MB, end ${summary.rssEndMb} MB, peak ${summary.rssMaxMb} MB`,
);
for (const e of summary.slowest) {
  console.log(`slow: ${e.mode} episode ${e.episode} took ${e.seconds.toFixed(1)} s, heap ${e.heapMb} MB after it${e.file === undefined ? '' : `; saved: ${e.file}`}`);
}
process.exit(summary.crashes.length === 0 ? 0 : 1);
