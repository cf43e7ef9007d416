/**
 * npm run bench (as root, with strongSwan installed as for test/interop/): handshakes per second,
 * CPU and memory per SA of two IKEv2 responders under the same load, side by side in one run.
 *
 *   ns b: `ikekm load` (core 1) ──veth── ns a: the responder, ikekm daemon or charon (core 0)
 *
 * For each size N (BENCH_SIZES, default 2000,10000) and round (BENCH_ROUNDS, default 3), each
 * responder in turn gets a fresh lab and N handshakes (IKE_SA_INIT + IKE_AUTH with the first Child
 * SA) with BENCH_WINDOW (default 50) in flight; rounds interleave the responders so drift hits both
 * alike. The responder's CPU and RSS come from /proc before and after (so RSS per SA is the growth
 * over N established SAs). The table holds the medians; beside it the crypto floor of `openssl
 * speed ecdhx25519`. BENCH_RESPONDERS=ikekm (or charon) runs one of them.
 *
 * Writes BENCH_OUT (default bench/results)/handshakes.json and handshakes.svg. No pass/fail here:
 * the figures are the result; test/bench/ runs this at a small N to keep it working.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/interop/harness/ikekm.js';
import { createLab, type Lab } from '../test/interop/harness/netns.js';
import { interopAvailable } from '../test/interop/harness/requirements.js';
import type { LoadResult } from '../src/load/load-run.js';
import { formatTable, renderSvg, summarize, type HandshakeReport, type HandshakeRun } from './handshake-report.js';
import { BENCH_ESP, BENCH_IKE, runGenerator, startResponder, type ResponderName } from './handshake-responders.js';
import { opensslKeyAgreementOps } from './openssl-speed.js';

export interface HandshakeBenchOptions {
  readonly sizes: readonly number[];
  readonly rounds: number;
  readonly window: number;
  readonly responders: readonly ResponderName[];
  readonly outDir: string;
  /** Progress lines (stderr by default). */
  readonly progress?: (line: string) => void;
}

export async function runHandshakeBench(options: HandshakeBenchOptions): Promise<HandshakeReport> {
  const progress = options.progress ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const runs: HandshakeRun[] = [];
  let shortcuts: readonly string[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const sas of options.sizes) {
      for (const responder of options.responders) {
        const { run, result } = await oneRun(responder, sas, round, options.window);
        shortcuts = result.shortcuts;
        runs.push(run);
        progress(
          `round ${round}, ${sas} SAs, ${responder}: ${run.perSecond.toFixed(0)} SAs/s, ${run.responderCpuMsPerSa.toFixed(2)} ms CPU/SA, ${(run.responderRssBytesPerSa / 1000).toFixed(1)} KB/SA, ${run.failed} failed` +
            (run.failed > 0 ? ` (${Object.entries(run.failures).map(([k, v]) => `${v.count}× ${k}: ${v.example}`).join('; ')})` : ''),
        );
      }
    }
  }
  const report: HandshakeReport = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
    date: new Date().toISOString(),
    window: options.window,
    proposals: { ike: BENCH_IKE, esp: BENCH_ESP },
    x25519OpsPerSecond: opensslKeyAgreementOps('ecdhx25519'),
    rows: summarize(runs),
    runs,
    generatorShortcuts: shortcuts,
  };
  mkdirSync(options.outDir, { recursive: true });
  writeFileSync(join(options.outDir, 'handshakes.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(options.outDir, 'handshakes.svg'), renderSvg(report));
  return report;
}

async function oneRun(responderName: ResponderName, sas: number, round: number, window: number): Promise<{ run: HandshakeRun; result: LoadResult }> {
  const lab: Lab = await createLab({ ipv6: false });
  try {
    const responder = await startResponder(responderName, lab);
    try {
      const { result, responderUsage: usage } = await runGenerator(lab, responder.pid, sas, window);
      const per = (x: number): number => (result.established === 0 ? 0 : x / result.established);
      return {
        result,
        run: {
          responder: responderName,
          sas,
          round,
          established: result.established,
          failed: result.failed,
          failures: result.failures,
          perSecond: result.establishedPerSecond,
          setupP50Ms: result.setupMs.p50,
          setupP99Ms: result.setupMs.p99,
          responderCpuMsPerSa: per(usage.cpuMs),
          responderRssBytesPerSa: per(usage.rssGrowthBytes),
          generatorCpuMsPerSa: per(result.generatorCpuMs),
          generatorBusyPercent: result.seconds > 0 ? result.generatorCpuMs / (result.seconds * 10) : 0,
        },
      };
    } finally {
      await responder.stop();
    }
  } finally {
    await lab.destroy();
  }
}

function numbers(text: string): number[] {
  return text.split(',').map((s) => Number(s.trim()));
}

if (process.argv[1]?.endsWith('handshakes.bench.ts') === true) {
  const available = interopAvailable();
  if (!available.available) {
    process.stderr.write(`npm run bench needs root, network namespaces and strongSwan; missing: ${available.missing.join('; ')}\n`);
    process.exit(1);
  }
  const responders = (process.env.BENCH_RESPONDERS ?? 'ikekm,charon').split(',').map((s) => s.trim()) as ResponderName[];
  const report = await runHandshakeBench({
    sizes: numbers(process.env.BENCH_SIZES ?? '2000,10000'),
    rounds: Number(process.env.BENCH_ROUNDS ?? 3),
    window: Number(process.env.BENCH_WINDOW ?? 50),
    responders,
    outDir: process.env.BENCH_OUT ?? join(REPO_ROOT, 'bench/results'),
  });
  process.stdout.write(`${report.machine}; IKE ${report.proposals.ike} + PSK, first Child SA ${report.proposals.esp}, window ${report.window}\n`);
  process.stdout.write(`${formatTable(report).join('\n')}\n`);
  process.stdout.write(`generator shortcuts: ${report.generatorShortcuts.join('; ')}\n`);
}
