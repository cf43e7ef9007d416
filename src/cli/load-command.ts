/**
 * `ikekm load --config FILE --connection NAME`: a load generator for an IKEv2 responder (ikekm,
 * strongSwan, any other). Runs `--count` handshakes of the connection (IKE_SA_INIT, IKE_AUTH with
 * its PSK or certificate, the first Child SA) with `--window` in flight, and prints SAs/s, setup times and
 * failures by reason; `--watch PID` adds a process's CPU and memory per SA (the responder's, when
 * it runs on this machine). Exit 0 when every handshake was established, 1 otherwise, 2 on a usage
 * or configuration error.
 */
import { parseArgs } from 'node:util';
import { formatDiagnostic } from '../config/config-diagnostic.js';
import { loadConfigFile } from '../config/load-config.js';
import { cryptoRegistry } from '../crypto/registry.js';
import { formatLoadResult, type WatchedProcess } from '../load/load-report.js';
import { runLoad } from '../load/load-run.js';
import { readProcessUsage, usageBetween, type ProcessUsage } from '../load/process-usage.js';

export const LOAD_USAGE = [
  'usage: ikekm load --config FILE --connection NAME [--count N] [--window W] [--rate R] [--timeout SECONDS]',
  '                  [--no-child] [--source ADDRESS] [--port PORT] [--watch PID]... [--json]',
  '',
  'Runs N handshakes (default 1000) of the connection against its remote address, W at a time',
  '(default 50), at most R starts per second; prints SAs/s, setup p50/p99 and failures by reason.',
  'auth: psk or pubkey (certificates) as the connection says. --watch PID reports that process\'s CPU and RSS per SA.',
].join('\n');

export async function loadCommand(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        config: { type: 'string' },
        connection: { type: 'string' },
        count: { type: 'string', default: '1000' },
        window: { type: 'string', default: '50' },
        rate: { type: 'string' },
        timeout: { type: 'string', default: '10' },
        'no-child': { type: 'boolean', default: false },
        source: { type: 'string' },
        port: { type: 'string', default: '0' },
        watch: { type: 'string', multiple: true, default: [] },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return usageError((e as Error).message);
  }
  if (values.help) return (process.stdout.write(`${LOAD_USAGE}\n`), 0);
  if (values.config === undefined || values.connection === undefined) return usageError('--config and --connection are required');
  const count = positiveInteger(values.count, '--count');
  const window = positiveInteger(values.window, '--window');
  const rate = values.rate === undefined ? undefined : positiveInteger(values.rate, '--rate');
  const timeout = positiveInteger(values.timeout, '--timeout');
  const port = Number(values.port);
  const watch = values.watch.map((p) => positiveInteger(p, '--watch'));
  for (const n of [count, window, rate, timeout, ...watch]) if (typeof n === 'string') return usageError(n);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return usageError(`--port ${values.port} is not a UDP port`);

  const loaded = await loadConfigFile(values.config);
  if (!loaded.ok) {
    for (const d of loaded.error) process.stderr.write(`${formatDiagnostic(d)}\n`);
    return 2;
  }
  const connection = loaded.value.engine.connections.find((c) => c.name === values.connection);
  if (connection === undefined) return usageError(`${values.config} has no connection ${values.connection}`);

  const before = new Map<number, ProcessUsage>();
  for (const pid of watch as number[]) {
    const usage = readProcessUsage(pid);
    if (usage === undefined) return usageError(`--watch ${pid}: no such process`);
    before.set(pid, usage);
  }
  const result = await runLoad({
    connection,
    registry: cryptoRegistry,
    count: count as number,
    window: window as number,
    ratePerSecond: rate as number | undefined,
    timeoutMs: (timeout as number) * 1000,
    childSa: !values['no-child'],
    localAddress: values.source,
    localPort: port,
    onProgress: values.json ? undefined : (p) => process.stderr.write(`  ${p.seconds.toFixed(0)} s: ${p.established} established, ${p.failed} failed, ${p.started - p.established - p.failed} in flight\n`),
  });
  const watched: WatchedProcess[] = [];
  for (const [pid, start] of before) {
    const end = readProcessUsage(pid);
    if (end !== undefined) watched.push({ label: `watched`, usage: usageBetween(start, end) });
  }
  if (values.json) process.stdout.write(`${JSON.stringify({ ...result, watched: watched.map((w) => w.usage) })}\n`);
  else process.stdout.write(`${formatLoadResult(result, watched).join('\n')}\n`);
  return result.failed === 0 ? 0 : 1;
}

function usageError(message: string): number {
  process.stderr.write(`ikekm load: ${message}\n${LOAD_USAGE}\n`);
  return 2;
}

function positiveInteger(text: string, flag: string): number | string {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : `${flag} ${text} is not a positive integer`;
}
