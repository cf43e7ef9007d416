/**
 * Two ikekm daemons in this process, on 127.0.0.1 (a) and 127.0.0.2 (b), with the same
 * unprivileged ports (different addresses, so no clash and no NAT detected) and control sockets
 * in a temporary directory. Configurations are built in code (`loadedConfig`) or, for the
 * reload and process tests, written as YAML and read by the real loader.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedConfig } from '../../../src/config/load-config.js';
import { DEFAULT_DAEMON_SETTINGS } from '../../../src/config/daemon-settings.js';
import { DEFAULT_ENGINE_SETTINGS } from '../../../src/config/model.js';
import { Daemon, type DaemonEvent } from '../../../src/daemon/daemon.js';
import type { Logger } from '../../../src/log/logger.js';
import { captureLogs, type LogCapture } from '../../support/log-capture.js';
import { toConnectionConfig, type PeerConnectionJson } from '../../interop/support/ikekm-peer-config.js';

export const PSK = 'correct horse battery staple';
export const SIDES = {
  a: { address: '127.0.0.1', inner: '10.1.0.0/24' },
  b: { address: '127.0.0.2', inner: '10.2.0.0/24' },
} as const;
export type Side = keyof typeof SIDES;
const other = (side: Side): Side => (side === 'a' ? 'b' : 'a');

/** A port pair nobody else in this test run is likely to use (IKE = p, NAT-T = p + 1). */
export function testPorts(): { ike: number; natt: number } {
  const ike = 20_000 + 2 * Math.floor(Math.random() * 10_000);
  return { ike, natt: ike + 1 };
}

export interface ConnectionOptions {
  readonly name?: string;
  readonly ike?: readonly string[];
  readonly esp?: readonly string[];
  readonly start?: 'on-load' | 'on-demand' | 'listen';
  /** Extra inner prefix, so several connections between the same peers differ in selectors. */
  readonly subnet?: number;
}

export function connectionJson(side: Side, ports: { ike: number }, options: ConnectionOptions = {}): PeerConnectionJson {
  const self = SIDES[side];
  const peer = SIDES[other(side)];
  const shift = (cidr: string): string => (options.subnet === undefined ? cidr : cidr.replace(/\.0\.0\/24$/, `.${options.subnet}.0/24`));
  return {
    name: options.name ?? 'lab',
    ike: options.ike ?? ['aes256gcm16-prfsha384-ecp384'],
    esp: options.esp ?? ['aes128gcm16'],
    local: { address: self.address, port: ports.ike, id: self.address, psk: PSK },
    remote: { address: peer.address, port: ports.ike, id: peer.address },
    traffic: { local: [shift(self.inner)], remote: [shift(peer.inner)] },
    start: options.start ?? 'listen',
  };
}

/** The loader's result, built in code (the stand-in for YAML in the in-process tests). */
export function loadedConfig(side: Side, ports: { ike: number; natt: number }, connections: readonly ConnectionOptions[], file = '/nonexistent/ikekm.yaml'): LoadedConfig {
  return {
    file,
    daemon: { ...DEFAULT_DAEMON_SETTINGS, listen: [SIDES[side].address], ports, allowShortLifetimes: true },
    engine: {
      settings: { ...DEFAULT_ENGINE_SETTINGS, nattPort: ports.natt },
      connections: connections.map((c) => toConnectionConfig(connectionJson(side, ports, c))),
    },
    warnings: [],
  };
}

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

export async function startDaemon(config: LoadedConfig, socket: string, options: { keylogDir?: string; level?: 'debug' | 'info' } = {}): Promise<RunningDaemon> {
  const logs = captureLogs({ level: options.level ?? 'debug' });
  const daemon = await Daemon.start({
    config,
    logger: logs.logger as Logger,
    controlSocket: socket,
    ...(options.keylogDir === undefined ? {} : { keylogDir: options.keylogDir }),
  });
  const events: DaemonEvent[] = [];
  daemon.events$.subscribe((e) => events.push(e));
  return { daemon, logs, socket, events };
}

/** Starts a (the responder side, `listen`) first, then b, with the given connections on each. */
export async function startPair(
  connections: { a?: readonly ConnectionOptions[]; b?: readonly ConnectionOptions[] } = {},
  options: { keylog?: boolean } = {},
): Promise<Pair> {
  const dir = mkdtempSync(join(tmpdir(), 'ikekm-daemon-'));
  const ports = testPorts();
  const side = (s: Side) =>
    startDaemon(loadedConfig(s, ports, connections[s] ?? [{}]), join(dir, s, 'ikekm.sock'), options.keylog ? { keylogDir: join(dir, s, 'keylog') } : {});
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

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
