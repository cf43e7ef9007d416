/**
 * What recording costs (`ikekm daemon --record`): two engines in virtual time set up N IKE SAs
 * (IKE_SA_INIT, IKE_AUTH, the first Child SA) with and without a journal on both sides that
 * encodes every entry to its line (as the daemon's record file does, without the disk), in
 * alternating rounds. Prints handshakes per second for each and the difference. Figures, not
 * assertions. BENCH_SAS (default 300) IKE SAs per round, BENCH_ROUNDS (default 3).
 *
 *   npx tsx bench/record.bench.ts
 */
import { performance } from 'node:perf_hooks';
import { renderTable } from '../src/control/text-table.js';
import { encodeRecordLine } from '../src/replay/record-entry.js';
import { recordJournal } from '../src/replay/record-journal.js';
import { connectionPair } from '../test/engine/fixtures.js';
import { Lab } from '../test/engine/lab.js';

const SAS = Number(process.env.BENCH_SAS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Handshakes per second for SAS IKE SAs, each on a connection of its own, and the process's CPU
 * time (user + system) per handshake: steadier than the wall clock on a shared machine, whose
 * speed varies by a fifth from one round to the next.
 */
async function handshakesPerSecond(recording: boolean): Promise<{ rate: number; cpuMs: number; lines: number; bytes: number }> {
  const pairs = Array.from({ length: SAS }, (_, i) => connectionPair({ ike: ['aes128gcm16-prfsha256-x25519'], name: `c${i}`, idA: `a${i}.example`, idB: `b${i}.example` }));
  let lines = 0;
  let bytes = 0;
  const sink = (entry: Parameters<typeof encodeRecordLine>[0]) => {
    lines++;
    bytes += encodeRecordLine(entry).length + 1;
  };
  const lab = new Lab({
    silent: true,
    connections: { a: pairs.map((p) => p.a), b: pairs.map((p) => p.b) },
    // One initiator address opening hundreds of IKE SAs at once: no COOKIEs, blocks or rate.
    settingsB: { cookieThreshold: 0, cookieThresholdPerAddress: 0, blockThresholdPerAddress: 0, ikeSaInitPerSecond: 1_000_000 },
    ...(recording ? { journal: (_side: 'a' | 'b', start: Parameters<typeof recordJournal>[1]) => recordJournal(sink, start) } : {}),
  });
  const start = performance.now();
  const cpu = process.cpuUsage();
  for (const p of pairs) lab.a.engine.initiate(p.a.name);
  const up = await lab.runUntil(() => lab.b.engine.status().filter((s) => s.state === 'established').length === SAS, 600_000);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  if (!up) throw new Error('not every IKE SA came up');
  return { rate: SAS / seconds, cpuMs: (used.user + used.system) / 1000 / SAS, lines, bytes };
}

/**
 * BENCH_ONLY=plain|recorded: one variant, one round after the warm-up, and no table: what
 * `bench/record-instructions.sh` runs under valgrind, which counts the instructions of each.
 */
const only = process.env.BENCH_ONLY;
if (only === 'plain' || only === 'recorded') {
  await handshakesPerSecond(false); // warm-up: the same JIT state for both variants
  const r = await handshakesPerSecond(only === 'recorded');
  console.log(`${only}: ${SAS} IKE SAs, ${r.lines} record lines`);
  process.exit(0);
}

const plain: { rate: number; cpuMs: number }[] = [];
const recorded: { rate: number; cpuMs: number }[] = [];
let last = { lines: 0, bytes: 0 };
await handshakesPerSecond(false); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  plain.push(await handshakesPerSecond(false));
  const r = await handshakesPerSecond(true);
  recorded.push(r);
  last = r;
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const [p, r] = [median(plain.map((x) => x.rate)), median(recorded.map((x) => x.rate))];
const [pc, rc] = [median(plain.map((x) => x.cpuMs)), median(recorded.map((x) => x.cpuMs))];
console.log(`${SAS} IKE SAs per round (x25519, AES-GCM), both engines in this process, ${ROUNDS} rounds, medians; Node ${process.version}\n`);
console.log(
  renderTable(
    ['', 'handshakes/s', 'CPU ms per handshake', 'record lines', 'record bytes'],
    [
      ['without a record', p.toFixed(0), pc.toFixed(2), '', ''],
      ['recording both sides', r.toFixed(0), rc.toFixed(2), last.lines.toLocaleString('en-US'), last.bytes.toLocaleString('en-US')],
    ],
  ),
);
console.log(`\nrecording costs ${(((rc - pc) / pc) * 100).toFixed(1)} % more CPU per handshake (${(((p - r) / p) * 100).toFixed(1)} % of the wall-clock rate)`);
