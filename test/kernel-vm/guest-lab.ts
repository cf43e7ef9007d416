/**
 * What a guest driver reads off a namespace of its lab (inside the kernel VM): the kernel's SAs
 * and policies as `ip xfrm` prints them, and pings with their statistics.
 */
import { run, runChecked } from '../interop/harness/process.js';

/** `ip [-s] xfrm state` and `ip xfrm policy` of one namespace, as printed. */
export interface KernelView {
  readonly states: string;
  readonly policies: string;
}

export async function kernelView(ns: string, options: { readonly statistics?: boolean } = {}): Promise<KernelView> {
  const states = await runChecked('ip', ['-n', ns, ...(options.statistics === true ? ['-s'] : []), 'xfrm', 'state']);
  const policies = await runChecked('ip', ['-n', ns, 'xfrm', 'policy']);
  return { states: states.stdout, policies: policies.stdout };
}

export interface PingResult {
  readonly transmitted: number;
  readonly received: number;
  /** The summary lines, for a failure message. */
  readonly summary: string;
  /** With `missing`: the icmp_seq numbers without a reply (from 1). */
  readonly missing?: readonly number[];
}

/** ping's "N packets transmitted, M received" (received 0 when ping printed no summary). */
export function parsePing(stdout: string): PingResult {
  const match = /(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(stdout);
  const summary = stdout
    .split('\n')
    .filter((line) => /transmitted|rtt|round-trip/.test(line))
    .join('\n');
  return { transmitted: Number(match?.[1] ?? 0), received: Number(match?.[2] ?? 0), summary: summary || stdout.slice(-500) };
}

/**
 * `ping -c COUNT -i INTERVAL` from `source` in `ns`. `-W 5`: a late reply still counts, so only
 * packets really lost are missing (emulation makes some round trips slow).
 */
export async function ping(
  ns: string,
  source: string,
  destination: string,
  options: { readonly count: number; readonly intervalSeconds: number; readonly size?: number; readonly missing?: boolean },
): Promise<PingResult> {
  const args = ['netns', 'exec', ns, 'ping', '-n', ...(options.missing === true ? [] : ['-q']), '-c', String(options.count), '-i', String(options.intervalSeconds), '-W', '5', '-I', source];
  if (options.size !== undefined) args.push('-s', String(options.size));
  const result = await run('ip', [...args, destination], { timeoutMs: (options.count * options.intervalSeconds + 30) * 1000 });
  const parsed = parsePing(result.stdout);
  if (options.missing !== true) return parsed;
  const answered = new Set([...result.stdout.matchAll(/icmp_seq=(\d+)/g)].map((m) => Number(m[1])));
  const missing = Array.from({ length: options.count }, (_, i) => i + 1).filter((seq) => !answered.has(seq));
  return { ...parsed, missing };
}

/** One ping every 50 ms for `seconds`, naming the ones without a reply. */
export function continuousPing(ns: string, source: string, destination: string, seconds: number): Promise<PingResult> {
  return ping(ns, source, destination, { count: seconds * 20, intervalSeconds: 0.05, missing: true });
}

/**
 * The namespace's XFRM error counters (/proc/net/xfrm_stat) that are not zero: XfrmInNoStates
 * counts ESP for an SPI the kernel does not know, XfrmOutNoStates packets a policy had no SA for.
 */
export async function xfrmErrorCounters(ns: string): Promise<Record<string, number>> {
  const text = (await runChecked('ip', ['netns', 'exec', ns, 'cat', '/proc/net/xfrm_stat'])).stdout;
  const counters: Record<string, number> = {};
  for (const [, name, value] of text.matchAll(/^(\w+)\s+(\d+)$/gm)) if (Number(value) !== 0) counters[name!] = Number(value);
  return counters;
}
