/**
 * node --expose-gc --max-old-space-size=12288 --import tsx bench/scale.bench.ts (at 100 000 SAs the
 * two engines hold over 4 GB, Node's default heap limit): N IKE SAs, each with one Child SA, between
 * two ikekm engines in one process (test/engine/lab.ts: in-memory network, memory kernels, one
 * virtual clock), then:
 *
 * 1. memory per established SA: heap (with Buffers' external memory) and RSS after a full GC,
 *    per IKE SA with its Child SA on one engine (the process holds both engines, so the growth
 *    is halved; it includes each engine's memory kernel and timers);
 * 2. the status of `ikekm status --json` on one engine, timed as the daemon builds it
 *    (Daemon.status: engine.statusWithUsage() then statusSnapshot()), serialised as the control
 *    socket sends it, and parsed and pretty-printed as the CLI prints it;
 * 3. a day of virtual time (IKE SA rekey 24 h, Child SA rekey 60 min, with strongSwan's 10 %
 *    margin and jitter): SAs at the start and the end (none lost, none duplicated), rekeys
 *    done, heap before and after, and the busiest second's datagrams;
 * 4. a rekey storm: STORM Child SAs set up within one second with equal lifetimes; the jitter
 *    spreads their first rekeys; how far, how many per second at most, none lost or doubled.
 *
 * No pass/fail: the figures are the result (goals: status under 1 s at 100 000 SAs, RSS per SA
 * at most 14 KB, strongSwan's, aiming at 4 KiB; heap flat over the day).
 *
 * Environment: IKEKM_SCALE_N (SAs, default 100000; IKEKM_SCALE_QUICK=1 makes it 2000 and the
 * storm 1000), IKEKM_SCALE_STORM (storm SAs, default 10000), IKEKM_SCALE_HOURS (virtual hours,
 * default 24), IKEKM_SCALE_CHILD_REKEY and IKEKM_SCALE_IKE_REKEY (seconds; default 3600, 86400),
 * IKEKM_SCALE_PHASES (comma list of memory,status,day,storm; default all), IKEKM_SCALE_JSON (a
 * path: the figures as JSON too), IKEKM_SCALE_CPU_PROFILE (a directory: a V8 CPU profile of the
 * status, the day and the storm each, for Chrome's DevTools).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { lifetimeFromRekeySeconds } from '../src/config/model.js';
import { statusSnapshot } from '../src/daemon/status-snapshot.js';
import type { Lab } from '../test/engine/lab.js';
import { MessageRate, SaEventTally, census, establish, kernelsPair, runUntilQuiet, scaleLab, type SideCensus } from '../test/engine/scale-lab.js';

const QUICK = process.env.IKEKM_SCALE_QUICK === '1';
const N = Number(process.env.IKEKM_SCALE_N ?? (QUICK ? 2_000 : 100_000));
const STORM = Number(process.env.IKEKM_SCALE_STORM ?? (QUICK ? 1_000 : 10_000));
const HOURS = Number(process.env.IKEKM_SCALE_HOURS ?? 24);
const CHILD_REKEY_S = Number(process.env.IKEKM_SCALE_CHILD_REKEY ?? 3_600);
const IKE_REKEY_S = Number(process.env.IKEKM_SCALE_IKE_REKEY ?? 86_400);
const PHASES = new Set((process.env.IKEKM_SCALE_PHASES ?? 'memory,status,day,storm').split(','));
const JSON_PATH = process.env.IKEKM_SCALE_JSON;
const PROFILE_DIR = process.env.IKEKM_SCALE_CPU_PROFILE;

/** Runs `work` under the V8 CPU profiler when IKEKM_SCALE_CPU_PROFILE names a directory. */
async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  if (PROFILE_DIR === undefined) return work();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await work();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with --expose-gc: node --expose-gc --max-old-space-size=12288 --import tsx bench/scale.bench.ts');
  process.exit(2);
}

interface Memory {
  readonly heap: number;
  readonly rss: number;
}
function memory(): Memory {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external, rss: m.rss };
}
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(2)} KiB`;
const mib = (bytes: number): string => `${(bytes / 1048576).toFixed(1)} MiB`;
const ms = (t: number): string => `${t.toFixed(0)} ms`;
const wallSince = (start: number): number => performance.now() - start;

const figures: Record<string, unknown> = { n: N, storm: STORM, node: process.version };
const rows: [string, string][] = [];
const row = (name: string, value: string): void => {
  rows.push([name, value]);
  console.log(`  ${name}: ${value}`);
};

function sameCensus(c: SideCensus, count: number): string {
  const one = c.childrenPerIkeSa[1] ?? 0;
  return `${c.establishedIkeSas} IKE SAs, ${one} with exactly one Child SA, ${c.kernelSas} ESP SAs` + (c.ikeSas === count && one === count && c.kernelSas === 2 * count ? '' : ' (MISMATCH)');
}

async function setUp(count: number, tally: SaEventTally, lab: Lab, label: string): Promise<number> {
  const started = performance.now();
  const up = await establish(lab, count, tally.childUps);
  const wall = wallSince(started);
  if (!up) throw new Error(`${label}: not every SA came up (${tally.childUps.a} + ${tally.childUps.b} Child SAs up)`);
  return wall;
}

async function main(): Promise<void> {
  console.log(`ikekm scale bench: ${N} IKE SAs + ${N} Child SAs between two engines; storm ${STORM}; day ${HOURS} h (Child SA rekey ${CHILD_REKEY_S} s, IKE SA ${IKE_REKEY_S} s)`);
  if (PHASES.has('memory') || PHASES.has('status') || PHASES.has('day')) await bigLab();
  if (PHASES.has('storm')) await profiled('storm', storm);
  console.log('\n| figure | value |\n|---|---|');
  for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
  if (JSON_PATH !== undefined) writeFileSync(JSON_PATH, `${JSON.stringify(figures, null, 2)}\n`);
}

async function bigLab(): Promise<void> {
  const before = memory();
  const tally = new SaEventTally();
  const lab = scaleLab({ ikeLifetime: lifetimeFromRekeySeconds(IKE_REKEY_S), childLifetime: lifetimeFromRekeySeconds(CHILD_REKEY_S), onEvent: tally.onEvent });
  console.log(`\nsetting up ${N} SAs …`);
  const setupWall = await setUp(N, tally, lab, 'setup');
  await runUntilQuiet(lab);
  const established = memory();
  const perSa = { heap: (established.heap - before.heap) / (2 * N), rss: (established.rss - before.rss) / (2 * N) };
  figures['setup'] = { wallMs: setupWall, virtualMs: lab.scheduler.now() };
  figures['memoryPerSa'] = { heapBytes: perSa.heap, rssBytes: perSa.rss, heapTotal: established.heap, rssTotal: established.rss };
  row('setup (wall)', `${(setupWall / 1000).toFixed(1)} s (${((2 * N) / (setupWall / 1000)).toFixed(0)} negotiations/s, both sides on one thread)`);
  row('heap per IKE SA + Child SA, one engine', kib(perSa.heap));
  row('RSS per IKE SA + Child SA, one engine', kib(perSa.rss));
  row('heap / RSS, whole process', `${mib(established.heap)} / ${mib(established.rss)}`);

  if (PHASES.has('status')) await profiled('status', () => status(lab));
  if (PHASES.has('day')) await profiled('day', () => day(lab, tally));
}

/** The daemon's status path (Daemon.status, the control socket's reply line, the CLI's --json print), three times. */
async function status(lab: Lab): Promise<void> {
  const runs: { engineMs: number; snapshotMs: number; serialiseMs: number; bytes: number; cliMs: number; printedBytes: number; sas: number }[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const sas = await lab.a.engine.statusWithUsage();
    const t1 = performance.now();
    const snapshot = statusSnapshot(sas, { nowMs: lab.scheduler.now() });
    const t2 = performance.now();
    const line = `${JSON.stringify({ id: 1, ok: true, result: { ...snapshot, traps: [], restarts: [] } })}\n`;
    const t3 = performance.now();
    const printed = JSON.stringify((JSON.parse(line) as { result: unknown }).result, null, 2);
    const t4 = performance.now();
    runs.push({ engineMs: t1 - t0, snapshotMs: t2 - t1, serialiseMs: t3 - t2, bytes: line.length, cliMs: t4 - t3, printedBytes: printed.length, sas: snapshot.ikeSas.length });
  }
  const best = runs.reduce((a, b) => (a.engineMs + a.snapshotMs + a.serialiseMs <= b.engineMs + b.snapshotMs + b.serialiseMs ? a : b));
  figures['status'] = { runs, best };
  const daemonMs = best.engineMs + best.snapshotMs + best.serialiseMs;
  row(
    `status --json of ${best.sas} IKE SAs, daemon side (best of 3)`,
    `${ms(daemonMs)} (engine ${ms(best.engineMs)}, snapshot ${ms(best.snapshotMs)}, JSON ${ms(best.serialiseMs)}; ${mib(best.bytes)})`,
  );
  row('status --json, CLI parse + print', ms(best.cliMs));
}

async function day(lab: Lab, tally: SaEventTally): Promise<void> {
  const start = { a: census(lab.a), b: census(lab.b), pair: kernelsPair(lab) };
  const rekeysBefore = { child: tally.childRekeys.a + tally.childRekeys.b, ike: tally.ikeRekeys.a + tally.ikeRekeys.b };
  const rate = new MessageRate(lab);
  const heapBefore = memory();
  console.log(`\nrunning ${HOURS} virtual hours …`);
  const started = performance.now();
  const samples: { hour: number; wallS: number; heap: number; childRekeys: number }[] = [];
  for (let hour = 1; hour <= HOURS; hour++) {
    await lab.run(3_600_000);
    const m = hour % 6 === 0 || hour === HOURS ? memory() : undefined;
    const sample = { hour, wallS: wallSince(started) / 1000, heap: m?.heap ?? Number.NaN, childRekeys: tally.childRekeys.a };
    samples.push(sample);
    console.log(`  hour ${hour}: ${sample.wallS.toFixed(0)} s wall, ${tally.childRekeys.a} Child SA rekeys, ${tally.ikeRekeys.a} IKE SA rekeys${m === undefined ? '' : `, heap ${mib(m.heap)}`}`);
  }
  const quiet = await runUntilQuiet(lab);
  const wall = wallSince(started);
  const heapAfter = memory();
  const end = { a: census(lab.a), b: census(lab.b), pair: kernelsPair(lab) };
  const childRekeys = tally.childRekeys.a + tally.childRekeys.b - rekeysBefore.child;
  const ikeRekeys = tally.ikeRekeys.a + tally.ikeRekeys.b - rekeysBefore.ike;
  figures['day'] = {
    hours: HOURS,
    wallMs: wall,
    quietAtEnd: quiet,
    start,
    end,
    childRekeysBothSides: childRekeys,
    ikeRekeysBothSides: ikeRekeys,
    childRekeysSideA: tally.childRekeys.a,
    downs: Object.fromEntries(tally.downs),
    failures: tally.failures.length,
    messages: rate.total,
    peakMessagesPerSecond: rate.peakPerSecond,
    peakAtSecond: rate.peakAtSecond,
    heapBefore: heapBefore.heap,
    heapAfter: heapAfter.heap,
    rssBefore: heapBefore.rss,
    rssAfter: heapAfter.rss,
    samples,
  };
  row(`day of ${HOURS} h (wall)`, `${(wall / 1000).toFixed(0)} s`);
  row('SAs at start, engine A', sameCensus(start.a, N));
  row('SAs at end, engine A', sameCensus(end.a, N));
  row('SAs at end, engine B', sameCensus(end.b, N));
  row('ESP SAs pair up at end (A out = B in, B out = A in)', String(end.pair));
  row('rekeys (A initiated or answered; each counted once per side)', `${tally.childRekeys.a} Child SA, ${tally.ikeRekeys.a} IKE SA; failures ${tally.failures.length}`);
  row('SAs gone', [...tally.downs].map(([k, v]) => `${k} ×${v}`).join(', ') || 'none');
  row('datagrams', `${rate.total}, busiest second ${rate.peakPerSecond} (at ${rate.peakAtSecond ?? '-'} s)`);
  row('heap before / after the day', `${mib(heapBefore.heap)} / ${mib(heapAfter.heap)} (${heapAfter.heap >= heapBefore.heap ? '+' : ''}${mib(heapAfter.heap - heapBefore.heap)}); RSS ${mib(heapBefore.rss)} / ${mib(heapAfter.rss)}`);
  row('timers pending before / after, engine A', `${start.a.timersPending} / ${end.a.timersPending}`);
}

/** STORM SAs set up within one virtual second, equal lifetimes; their first rekeys, spread by the jitter. */
async function storm(): Promise<void> {
  const rekeyS = 600;
  const lifetime = lifetimeFromRekeySeconds(rekeyS);
  const tally = new SaEventTally({ keepRekeys: true });
  const lab = scaleLab({ childLifetime: lifetime, onEvent: tally.onEvent });
  console.log(`\nrekey storm: ${STORM} SAs within one second, Child SA rekey ${rekeyS} s, jitter up to ${lifetime.jitterSeconds} s …`);
  const started = performance.now();
  const up = await establish(lab, STORM, tally.childUps, { batch: Math.ceil(STORM / 20), spacingMs: 50 });
  if (!up) throw new Error('storm: not every SA came up');
  const setUpByMs = lab.scheduler.now();
  await runUntilQuiet(lab);
  const rate = new MessageRate(lab);
  // Through the first round: rekey deadline minus at most the jitter, plus the hard lifetime's margin.
  await lab.run(lifetime.lifetimeSeconds * 1000);
  await runUntilQuiet(lab);
  const wall = wallSince(started);
  const times = tally.rekeyTimes.a.map((t) => t / 1000);
  const first = Math.min(...times);
  const last = Math.max(...times);
  const perSecond = new Map<number, number>();
  for (const t of times) perSecond.set(Math.floor(t), (perSecond.get(Math.floor(t)) ?? 0) + 1);
  const peakRekeys = Math.max(...perSecond.values());
  const endA = census(lab.a);
  const endB = census(lab.b);
  figures['storm'] = {
    sas: STORM,
    setUpWithinMs: setUpByMs,
    rekeySeconds: rekeyS,
    jitterSeconds: lifetime.jitterSeconds,
    rekeysSideA: tally.childRekeys.a,
    rekeysSideB: tally.childRekeys.b,
    duplicateRekeys: tally.duplicateRekeys,
    firstRekeyS: first,
    lastRekeyS: last,
    spreadS: last - first,
    secondsWithRekeys: perSecond.size,
    peakRekeysPerSecond: peakRekeys,
    peakMessagesPerSecond: rate.peakPerSecond,
    messages: rate.total,
    failures: tally.failures.length,
    end: { a: endA, b: endB, pair: kernelsPair(lab) },
    wallMs: wall,
  };
  row(`storm: ${STORM} SAs set up within`, `${setUpByMs} ms virtual`);
  row('storm: first rekeys', `${tally.childRekeys.a} (A), spread ${(last - first).toFixed(1)} s from ${first.toFixed(1)} s to ${last.toFixed(1)} s over ${perSecond.size} s; repeated ${tally.duplicateRekeys}`);
  row('storm: peak rekeys / datagrams per second', `${peakRekeys} / ${rate.peakPerSecond} (${rate.total} datagrams)`);
  row('storm: SAs at end', `${sameCensus(endA, STORM)}; B: ${sameCensus(endB, STORM)}; failures ${tally.failures.length}`);
}

await main();
