/**
 * Two ikekm daemons in this process (lab-connections.ts) with control sockets in a temporary
 * directory. Configurations are built in code (`loadedConfig`) or, for the reload and process
 * tests, written as YAML (yaml-config.ts) and read by the real loader.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import type { RestartBackoff } from '../../../src/daemon/connection-keeper.js';
import { Daemon, type DaemonEvent } from '../../../src/daemon/daemon.js';
import type { Logger } from '../../../src/log/logger.js';
import { captureLogs, type LogCapture } from '../../support/log-capture.js';
import { loadedConfig, testPorts, type ConnectionOptions, type Side } from './lab-connections.js';

export { PSK, SIDES, type ConnectionOptions, type Side } from './lab-connections.js';

export interface RunningDaemon {
  readonly daemon: Daemon;
  readonly logs: LogCapture;
  readonly socket: string;
  readonly events: DaemonEvent[];
}

export interface Pair {
  readonly dir: string;
  readonly ports: { ike: number; natt: number };
  readonly a: RunningDaemon;
  readonly b: RunningDaemon;
  stop(): Promise<void>;
}

export async function startDaemon(
  config: LoadedConfig,
  socket: string,
  options: { keylogDir?: string; level?: 'debug' | 'info'; restartBackoff?: RestartBackoff; recordFile?: string; inspect?: { url: string; connection?: string } } = {},
): Promise<RunningDaemon> {
  const logs = captureLogs({ level: options.level ?? 'debug' });
  const daemon = await Daemon.start({
    config,
    logger: logs.logger as Logger,
    controlSocket: socket,
    ...(options.keylogDir === undefined ? {} : { keylogDir: options.keylogDir }),
    ...(options.restartBackoff === undefined ? {} : { restartBackoff: options.restartBackoff }),
    ...(options.recordFile === undefined ? {} : { recordFile: options.recordFile }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
  });
  const events: DaemonEvent[] = [];
  daemon.events$.subscribe((e) => events.push(e));
  return { daemon, logs, socket, events };
}

/** Where `startPair({ record: true })` has side `s` record (the directory is made here). */
export function recordFileOf(dir: string, s: Side): string {
  mkdirSync(join(dir, s), { recursive: true, mode: 0o700 });
  return join(dir, s, 'record.jsonl');
}

/** Starts a (the responder side, `listen`) first, then b, with the given connections on each. */
export async function startPair(
  connections: { a?: readonly ConnectionOptions[]; b?: readonly ConnectionOptions[] } = {},
  options: { keylog?: boolean; restartBackoff?: RestartBackoff; record?: boolean } = {},
): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'ikekm-daemon-'));
  const ports = testPorts();
  const side = (s: Side) =>
    startDaemon(loadedConfig(s, ports, connections[s] ?? [{}]), join(dir, s, 'ikekm.sock'), {
      ...(options.keylog ? { keylogDir: join(dir, s, 'keylog') } : {}),
      ...(options.record ? { recordFile: recordFileOf(dir, s) } : {}),
      ...(options.restartBackoff === undefined ? {} : { restartBackoff: options.restartBackoff }),
    });
  const a = await side('a');
  const b = await side('b').catch(async (error: unknown) => {
    await a.daemon.stop({ graceMs: 0 });
    throw error;
  });
  return {
    dir,
    ports,
    a,
    b,
    async stop() {
      await Promise.all([a.daemon.stop({ graceMs: 1000 }), b.daemon.stop({ graceMs: 1000 })]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` (which may read the daemon's status: asynchronous) until it gives a value. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
