/**
 * `ikekm daemon` as a process in one namespace of a guest lab (runs inside the kernel VM): its
 * JSON log lines collected, its control socket spoken to directly (the CLI's own client, without a
 * node start per command: each costs seconds under emulation), its key log read back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { controlRequest } from '../../src/control/control-client.js';
import type { DaemonStatusWithTraps as DaemonStatus } from '../../src/daemon/daemon.js';
import { REPO_ROOT } from '../interop/harness/ikekm.js';
import { IP } from '../interop/harness/netns.js';
import { waitUntil } from '../interop/harness/process.js';

export const IKEKM = join(REPO_ROOT, 'bin/ikekm.js');

/** `ikekm status --json`: the status JSON with the traps. */
export type { DaemonStatus };

export type LogRecord = Record<string, unknown> & { readonly msg?: string };

export interface DaemonExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class GuestDaemon {
  readonly logs: LogRecord[] = [];
  /** Lines on stdout that were not JSON (there should be none). */
  readonly otherOutput: string[] = [];
  readonly exited: Promise<DaemonExit>;
  private exit: DaemonExit | undefined;

  constructor(
    readonly ns: string,
    readonly dir: string,
    private readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogRecord);
      } catch {
        this.otherOutput.push(line);
      }
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  get socket(): string {
    return join(this.dir, 'ikekm.sock');
  }

  get keylogDir(): string {
    return join(this.dir, 'keylog');
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  request(body: Parameters<typeof controlRequest>[1], timeoutMs = 120_000): Promise<unknown> {
    return controlRequest(this.socket, body, timeoutMs);
  }

  async status(): Promise<DaemonStatus> {
    return (await this.request({ cmd: 'status' })) as DaemonStatus;
  }

  /** Waits until the daemon's status satisfies `predicate`; returns that status. */
  waitForStatus(what: string, predicate: (status: DaemonStatus) => boolean, timeoutMs = 120_000): Promise<DaemonStatus> {
    return waitUntil(
      what,
      async () => {
        if (!this.running) throw new Error(`the daemon exited (${JSON.stringify(this.exit)}) while waiting for ${what}`);
        const s = await this.status().catch(() => undefined);
        return s !== undefined && predicate(s) ? s : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /** Log records with this message, from `from` on (an index into `logs`). */
  records(msg: string, from = 0): LogRecord[] {
    return this.logs.slice(from).filter((l) => l.msg === msg);
  }

  waitForLog(msg: string, timeoutMs = 120_000, from = 0): Promise<LogRecord> {
    return waitUntil(
      `the daemon to log "${msg}"`,
      async () => {
        const found = this.records(msg, from)[0];
        if (found === undefined && !this.running) throw new Error(`the daemon exited (${JSON.stringify(this.exit)}) before logging "${msg}"`);
        return found;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /** Writes a new configuration and makes the daemon reload it (SIGHUP). */
  async reload(yaml: string): Promise<void> {
    const from = this.logs.length;
    writeFileSync(join(this.dir, 'ikekm.yaml'), yaml, { mode: 0o600 });
    this.signal('SIGHUP');
    await this.waitForLog('configuration reloaded', 60_000, from);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || !this.running) throw new Error(`cannot send ${signal}: the daemon is not running`);
    process.kill(this.child.pid, signal);
  }

  /** SIGTERM, then the exit (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs = 120_000): Promise<DaemonExit> {
    if (!this.running) return this.exit!;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.running && this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The key log's lines (esp_sa or ikev2_decryption_table), empty when the file is not there. */
  keylog(file: 'esp_sa' | 'ikev2_decryption_table'): string[] {
    const path = join(this.keylogDir, file);
    if (!existsSync(path)) return [];
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
  }
}

/**
 * Starts `ikekm daemon --config DIR/ikekm.yaml --keylog DIR/keylog --log-level debug` in `ns`,
 * and waits for its "ikekm daemon started". The YAML should name `DIR/ikekm.sock` as control.
 */
export async function startGuestDaemon(ns: string, dir: string, yaml: string, timeoutMs = 180_000): Promise<GuestDaemon> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const config = join(dir, 'ikekm.yaml');
  writeFileSync(config, yaml, { mode: 0o600 });
  // ip netns exec execs node in its own process: the pid is the daemon's, signals reach it.
  const child = spawn(IP, ['netns', 'exec', ns, process.execPath, IKEKM, 'daemon', '--config', config, '--keylog', join(dir, 'keylog'), '--log-level', 'debug'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    process.stderr.write(`[ikekm ${ns}] ${chunk.toString()}`);
  });
  const daemon = new GuestDaemon(ns, dir, child);
  try {
    await daemon.waitForLog('ikekm daemon started', timeoutMs);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- stderr ---\n${stderr.slice(-3000)}`);
  }
  return daemon;
}
