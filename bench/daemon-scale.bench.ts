/**
 * One ikekm daemon holding N IKE SAs, each with its first Child SA (default 100 000), set up over
 * the wire by `ikekm load`, and what a user does with them then (as root, as for test/interop/):
 *
 *   ns b: `ikekm load` (core 1)  ──veth──  ns a: `ikekm daemon`, memory kernel (core 0)
 *
 * 1. the handshakes: SAs per second, the daemon's CPU and RSS per established SA (from /proc);
 * 2. `ikekm status --json` for all of them: the control request alone (the daemon writes the
 *    JSON, the socket carries it, this process reads it), and the whole command as a user runs it
 *    (`node bin/ikekm.js status --json > file`: process start, TypeScript loading, request,
 *    printing), beside the same command against the daemon with no SA (the start-up alone);
 * 3. `ikekm status` (the table) for all of them.
 *
 * The daemon is the one `npm run bench` measures (bench/handshake-responders.ts: flood defences
 * out of the way, log level warn). Environment: BENCH_SAS (default 100000), BENCH_WINDOW (default
 * 100), BENCH_STATUS_RUNS (default 3), BENCH_OUT (default bench/results: daemon-scale.json). No
 * pass/fail: the figures are the result.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../src/control/control-client.js';
import { readProcessUsage } from '../src/load/process-usage.js';
import { IKEKM } from '../test/interop/harness/daemon-process.js';
import { REPO_ROOT } from '../test/interop/harness/ikekm.js';
import { createLab } from '../test/interop/harness/netns.js';
import { interopAvailable } from '../test/interop/harness/requirements.js';
import { runGenerator, startResponder } from './handshake-responders.js';

const SAS = Number(process.env.BENCH_SAS ?? 100_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 100);
const STATUS_RUNS = Number(process.env.BENCH_STATUS_RUNS ?? 3);
const OUT = process.env.BENCH_OUT ?? join(REPO_ROOT, 'bench/results');

/** `ikekm ARGS > file` as a user runs it: wall time and the size of what it printed. */
function timedCli(args: readonly string[], outFile: string): Promise<{ ms: number; bytes: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(outFile);
    const started = performance.now();
    const child = spawn(process.execPath, [IKEKM, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.pipe(out);
    child.on('error', reject);
    child.on('close', (code) => out.end(() => resolve({ ms: performance.now() - started, bytes: statSync(outFile).size, code })));
  });
}

async function timedRequest(socket: string): Promise<{ ms: number; ikeSas: number }> {
  const started = performance.now();
  const status = (await controlRequest(socket, { cmd: 'status' }, 120_000)) as { ikeSas: unknown[] };
  return { ms: performance.now() - started, ikeSas: status.ikeSas.length };
}

/**
 * SIGTERM to the daemon's exit, as systemd stops it: the generator has exited, so each IKE SA's
 * Delete goes unanswered and the daemon waits out its grace period.
 */
async function timedStop(pid: number): Promise<number> {
  const started = performance.now();
  process.kill(pid, 'SIGTERM');
  while (existsSync(`/proc/${pid}`) && performance.now() - started < 600_000) await sleep(20);
  return performance.now() - started;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const lab = await createLab({ ipv6: false });
  try {
    const responder = await startResponder('ikekm', lab);
    try {
      const socket = join(lab.dir, 'ikekm', 'run', 'ikekm.sock');
      const scratch = join(lab.dir, 'out');
      mkdirSync(scratch, { recursive: true });
      const empty = await timedCli(['status', '--json', '--socket', socket], join(scratch, 'empty.json'));

      const { result: load, responderUsage: usage } = await runGenerator(lab, responder.pid, SAS, WINDOW);

      const requests: number[] = [];
      let listed = 0;
      for (let i = 0; i < STATUS_RUNS; i++) {
        const r = await timedRequest(socket);
        requests.push(r.ms);
        listed = r.ikeSas;
      }
      const cli: number[] = [];
      let jsonBytes = 0;
      for (let i = 0; i < STATUS_RUNS; i++) {
        const r = await timedCli(['status', '--json', '--socket', socket], join(scratch, 'status.json'));
        if (r.code !== 0) throw new Error(`ikekm status --json exited ${r.code}`);
        cli.push(r.ms);
        jsonBytes = r.bytes;
      }
      const table = await timedCli(['status', '--socket', socket], join(scratch, 'status.txt'));
      const rss = readProcessUsage(responder.pid)?.rssBytes ?? 0;
      const stopMs = await timedStop(responder.pid);

      const report = {
        machine: `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.versions.node}`,
        date: new Date().toISOString(),
        sas: SAS,
        window: WINDOW,
        established: load.established,
        failed: load.failed,
        perSecond: load.establishedPerSecond,
        daemonCpuMsPerSa: usage.cpuMs / Math.max(1, load.established),
        daemonRssKbPerSa: usage.rssGrowthBytes / Math.max(1, load.established) / 1000,
        daemonRssMiB: rss / 2 ** 20,
        statusListed: listed,
        statusRequestMs: requests,
        statusCliMs: cli,
        statusCliEmptyMs: empty.ms,
        statusJsonMiB: jsonBytes / 2 ** 20,
        statusTableMs: table.ms,
        stopMs,
      };
      mkdirSync(OUT, { recursive: true });
      writeFileSync(join(OUT, 'daemon-scale.json'), `${JSON.stringify(report, null, 2)}\n`);
      process.stdout.write(
        [
          `${report.machine}; one ikekm daemon (memory kernel, core 0), ikekm load (core 1), window ${WINDOW}`,
          `handshakes: ${load.established} of ${SAS} established (${load.failed} failed), ${load.establishedPerSecond.toFixed(0)} SAs/s; daemon ${report.daemonCpuMsPerSa.toFixed(2)} ms CPU and ${report.daemonRssKbPerSa.toFixed(1)} KB RSS per SA (${report.daemonRssMiB.toFixed(0)} MiB in all)`,
          `status request (daemon writes, socket carries, this process parses): ${requests.map((ms) => ms.toFixed(0)).join(', ')} ms for ${listed} IKE SAs; median ${median(requests).toFixed(0)} ms`,
          `ikekm status --json > file (${report.statusJsonMiB.toFixed(1)} MiB): ${cli.map((ms) => ms.toFixed(0)).join(', ')} ms; median ${median(cli).toFixed(0)} ms, of which the command's start-up ~${empty.ms.toFixed(0)} ms (the same against no SA)`,
          `ikekm status (table): ${table.ms.toFixed(0)} ms`,
          `SIGTERM to exit, the peer gone (a Delete for each IKE SA, unanswered): ${stopMs.toFixed(0)} ms`,
        ].join('\n') + '\n',
      );
    } finally {
      await responder.stop();
    }
  } finally {
    await lab.destroy();
  }
}

const available = interopAvailable();
if (!available.available) {
  process.stderr.write(`bench/daemon-scale.bench.ts needs root and network namespaces; missing: ${available.missing.join('; ')}\n`);
  process.exit(1);
}
await main();
