/**
 * A load run's result as text for a terminal: rate, setup times, failures by reason, and the CPU
 * and memory of each watched process per established SA (the responder's cost), beside the
 * generator's own CPU (the check that it was not the limit).
 */
import type { LoadResult } from './load-run.js';
import type { ProcessUsageDelta } from './process-usage.js';

export interface WatchedProcess {
  readonly label: string;
  readonly usage: ProcessUsageDelta;
}

const MIB = 1024 * 1024;

export function formatLoadResult(result: LoadResult, watched: readonly WatchedProcess[]): string[] {
  const lines = [
    `target ${result.target}: ${result.established} of ${result.count} IKE SAs established${result.childSa ? ' (each with its first Child SA)' : ''}, ${result.failed} failed, in ${result.seconds.toFixed(2)} s`,
    `  ${result.establishedPerSecond.toFixed(0)} SAs/s (window ${result.window}${result.ratePerSecond === null ? '' : `, paced to ${result.ratePerSecond}/s`}), setup p50 ${result.setupMs.p50.toFixed(1)} ms, p99 ${result.setupMs.p99.toFixed(1)} ms, max ${result.setupMs.max.toFixed(1)} ms`,
  ];
  if (result.retransmits > 0) lines.push(`  ${result.retransmits} requests retransmitted (unanswered after ${result.retransmitMs} ms)`);
  if (result.restarts > 0) lines.push(`  ${result.restarts} IKE_SA_INIT restarted after COOKIE or INVALID_KE_PAYLOAD`);
  for (const [reason, { count, example }] of Object.entries(result.failures)) lines.push(`  failed ${count}× ${reason}: ${example}`);
  for (const [error, count] of Object.entries(result.sendErrors)) lines.push(`  ${count} datagrams not sent: ${error}`);
  lines.push(`  generator: ${result.generatorCpuMs.toFixed(0)} ms CPU, ${perSa(result.generatorCpuMs, result.established)} ms per SA`);
  for (const w of watched) {
    lines.push(
      `  ${w.label} (pid ${w.usage.pid}): ${w.usage.cpuMs.toFixed(0)} ms CPU, ${perSa(w.usage.cpuMs, result.established)} ms per SA; ` +
        `RSS ${(w.usage.rssBytes / MIB).toFixed(1)} MiB (+${(w.usage.rssGrowthBytes / MIB).toFixed(1)} MiB, ${perSaKb(w.usage.rssGrowthBytes, result.established)} KB per SA), peak ${(w.usage.peakRssBytes / MIB).toFixed(1)} MiB`,
    );
  }
  lines.push(`  shortcuts of the generator: ${result.shortcuts.join('; ')}`);
  return lines;
}

function perSa(ms: number, sas: number): string {
  return sas === 0 ? '-' : (ms / sas).toFixed(3);
}

function perSaKb(bytes: number, sas: number): string {
  return sas === 0 ? '-' : (bytes / sas / 1000).toFixed(1);
}
