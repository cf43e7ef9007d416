/**
 * What recording costs, in instructions rather than seconds: `bench/record.bench.ts` (two
 * engines in one process setting up IKE SAs, x25519 and AES-GCM) run under valgrind's callgrind,
 * which counts every instruction the process executes, whatever else the machine does. Node runs
 * with --single-threaded --predictable, so that V8's background compiler and collector do not
 * make one run differ from the next (with them, the counts of one setup varied by 10 %).
 *
 * Each variant (without a record, recording both sides) runs at two sizes, SMALL and LARGE IKE
 * SAs after the same warm-up; the difference divided by LARGE − SMALL is the instructions per
 * handshake (start-up and warm-up cancel out). Figures, not assertions. Needs valgrind (Debian
 * package `valgrind`); about ten minutes.
 *
 *   npx tsx bench/record-instructions.ts            # BENCH_SMALL=20 BENCH_LARGE=80 BENCH_RUNS=2
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { renderTable } from '../src/control/text-table.js';

const SMALL = Number(process.env.BENCH_SMALL ?? 20);
const LARGE = Number(process.env.BENCH_LARGE ?? 80);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const BENCH = fileURLToPath(new URL('./record.bench.ts', import.meta.url));

/** The instructions callgrind counted for one variant at one size. */
function instructions(variant: 'plain' | 'recorded', sas: number): number {
  const run = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath, '--single-threaded', '--predictable', '--import', 'tsx', BENCH],
    { env: { ...process.env, BENCH_ONLY: variant, BENCH_SAS: String(sas) }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (run.error !== undefined) throw new Error(`valgrind did not run: ${run.error.message} (apt-get install valgrind)`);
  const collected = /Collected : (\d+)/.exec(run.stderr)?.[1];
  if (run.status !== 0 || collected === undefined) throw new Error(`${variant} ${sas}: exit ${run.status}\n${run.stderr.slice(-2000)}`);
  return Number(collected);
}

const perHandshake: Record<'plain' | 'recorded', number[]> = { plain: [], recorded: [] };
for (let run = 0; run < RUNS; run++) {
  for (const variant of ['plain', 'recorded'] as const) {
    const small = instructions(variant, SMALL);
    const large = instructions(variant, LARGE);
    perHandshake[variant].push((large - small) / (LARGE - SMALL));
    console.log(`run ${run + 1} ${variant}: ${SMALL} IKE SAs ${small.toLocaleString('en-US')}, ${LARGE} IKE SAs ${large.toLocaleString('en-US')} instructions`);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const millions = (x: number) => (x / 1e6).toFixed(1);
console.log(`\ninstructions per handshake (both sides), ${RUNS} runs; Node ${process.version} --single-threaded --predictable under callgrind\n`);
console.log(
  renderTable(
    ['', ...perHandshake.plain.map((_, i) => `run ${i + 1} (M)`), 'mean (M)'],
    [
      ['without a record', ...perHandshake.plain.map(millions), millions(mean(perHandshake.plain))],
      ['recording both sides', ...perHandshake.recorded.map(millions), millions(mean(perHandshake.recorded))],
    ],
  ),
);
const cost = perHandshake.recorded.map((r, i) => ((r - perHandshake.plain[i]!) / perHandshake.plain[i]!) * 100);
console.log(`\nrecording costs ${cost.map((c) => `${c.toFixed(1)} %`).join(', ')} more instructions per handshake (mean ${mean(cost).toFixed(1)} %)`);
