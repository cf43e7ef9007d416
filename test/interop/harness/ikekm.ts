/**
 * ikekm in a lab namespace: `startIkekm(lab, side, …)` runs test/interop/support/ikekm-peer.ts
 * (one IKEv2 engine on real UDP 500/4500) inside that side's namespace and drives it over its
 * JSON-lines stdin/stdout, the way charon.ts drives charon over vici.
 *
 * Each peer gets a directory DIR (default LABDIR/ikekm-SIDE/) with its config (ikekm.json, 0600:
 * it holds the PSK), its pino log (ikekm.log, JSON lines, level debug), stderr (ikekm.err) and the
 * Wireshark key tables it writes: esp_sa (KeylogKernel) and ikev2_decryption_table (the engine's
 * keylog port).
 *
 * The spawn chain is `ip netns exec NS node …`: ip execs node, so the child's pid is node's and
 * signals reach the engine itself. Every wait is bounded; a process left running when the test
 * process exits is SIGKILLed by an exit hook (and lab.destroy() kills whatever is in the
 * namespace anyway).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ESP_SA_FILE, IKEV2_TABLE_FILE } from '../../../src/daemon/runtime-ports.js';
import type { EngineSettings } from '../../../src/config/model.js';
import type { SaEvent } from '../../../src/engine/engine-ports.js';
import type { IkeSaStatus } from '../../../src/engine/ike-engine.js';
import type { MemoryKernelState } from '../../../src/kernel/memory-kernel.js';
import type { TransportStats } from '../../../src/transport/udp-transport.js';
import { espSpiHex, parseEspSpiHex } from '../../../src/wire/spi-text.js';
import type { PeerConfigJson, PeerConnectionJson } from '../support/ikekm-peer-config.js';
import { IP, type Lab, type LabSide, type SideName } from './netns.js';
import { sleep, waitUntil } from './process.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const PEER_ENTRY = join(REPO_ROOT, 'test/interop/support/ikekm-peer.ts');

export interface IkekmOptions {
  readonly connections: readonly PeerConnectionJson[];
  readonly settings?: Partial<EngineSettings>;
  /** Default LABDIR/ikekm-SIDE. */
  readonly dir?: string;
  /** Local addresses to bind (default: the connections' local addresses, else the side's outer IPv4 address). */
  readonly bind?: readonly string[];
  readonly ikePort?: number;
  readonly nattPort?: number;
  /** How long the peer waits for its Deletes to be answered on stop (default 3000 ms). */
  readonly shutdownGraceMs?: number;
  /** Wait this long for the peer's "ready" line (default 20 s: tsx compiles the engine first). */
  readonly startTimeoutMs?: number;
}

export type IkekmCommand =
  | { readonly cmd: 'initiate'; readonly connection: string }
  | { readonly cmd: 'terminate'; readonly connection: string }
  | { readonly cmd: 'terminate'; readonly ike: string }
  | { readonly cmd: 'rekey'; readonly ike: string; readonly child?: string }
  | { readonly cmd: 'create-child'; readonly ike: string }
  | { readonly cmd: 'delete-child'; readonly ike: string; readonly child: string }
  | { readonly cmd: 'reload'; readonly connections: readonly PeerConnectionJson[] }
  | { readonly cmd: 'status' | 'kernel' | 'transport' | 'flush' | 'quit' };

type PeerLine =
  | { readonly type: 'ready'; readonly pid: number }
  | { readonly type: 'reply'; readonly id: number | null; readonly ok: boolean; readonly result?: unknown; readonly error?: string }
  | { readonly type: 'event'; readonly event: SaEvent }
  | { readonly type: 'ike-keylog'; readonly spiI: string; readonly spiR: string }
  | { readonly type: 'transport-error'; readonly code: string; readonly message: string };

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function registerLive(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

export class Ikekm {
  readonly side: LabSide;
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly errPath: string;
  readonly espSaPath: string;
  readonly ikev2TablePath: string;
  private readonly child: ChildProcess;
  private readonly received: SaEvent[] = [];
  private readonly keylogged: { spiI: string; spiR: string }[] = [];
  private readonly transportErrors: string[] = [];
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Set<() => void>();
  private nextId = 1;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | undefined;
  private readyResolve: (() => void) | undefined;
  readonly ready: Promise<void>;

  /** Use `startIkekm`. */
  constructor(side: LabSide, dir: string, child: ChildProcess) {
    this.side = side;
    this.dir = dir;
    this.configPath = join(dir, 'ikekm.json');
    this.logPath = join(dir, 'ikekm.log');
    this.errPath = join(dir, 'ikekm.err');
    this.espSaPath = join(dir, ESP_SA_FILE);
    this.ikev2TablePath = join(dir, IKEV2_TABLE_FILE);
    this.child = child;
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const { reject } of this.pending.values()) reject(new Error(`ikekm peer exited (${code ?? signal}) before replying\n${this.diagnostics(15)}`));
        this.pending.clear();
        this.notify();
        resolve();
      });
      child.once('error', (error) => {
        this.exitInfo ??= { code: null, signal: null };
        this.transportErrors.push(`spawn: ${error.message}`);
        this.notify();
        resolve();
      });
    });
    if (child.stdout) {
      createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  /** Sends one command and resolves with its result; rejects on an error reply, exit or timeout. */
  command(command: IkekmCommand, timeoutMs = 10_000): Promise<unknown> {
    if (!this.running) return Promise.reject(new Error(`ikekm peer is not running\n${this.diagnostics(15)}`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`ikekm peer did not answer ${JSON.stringify(command.cmd)} within ${timeoutMs} ms\n${this.diagnostics(15)}`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin?.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  }

  /** Starts the connection's IKE SA; resolves with the IKE SA id (the engine's, e.g. `ike-…`). */
  async initiate(connection: string): Promise<string> {
    return String(await this.command({ cmd: 'initiate', connection }));
  }

  async terminate(target: { readonly connection: string } | { readonly ike: string }): Promise<void> {
    await this.command({ cmd: 'terminate', ...target });
  }

  async rekeyIke(ike: string): Promise<void> {
    await this.command({ cmd: 'rekey', ike });
  }

  /** Rekeys one Child SA (by our inbound SPI, hex) or, without one, every Child SA of the IKE SA. */
  async rekeyChild(ike: string, inboundSpi?: string): Promise<void> {
    await this.command({ cmd: 'rekey', ike, child: inboundSpi ?? '*' });
  }

  /** A new Child SA on the IKE SA (CREATE_CHILD_SA, engine.createChildSa). */
  async createChild(ike: string): Promise<void> {
    await this.command({ cmd: 'create-child', ike });
  }

  /** Deletes one Child SA (by our inbound SPI, hex) at the peer, then locally (engine.deleteChildSa). */
  async deleteChild(ike: string, inboundSpi: string): Promise<void> {
    await this.command({ cmd: 'delete-child', ike, child: inboundSpi });
  }

  /** Replaces the connections (engine.reload): new ones apply to new SAs. */
  async reload(connections: readonly PeerConnectionJson[]): Promise<void> {
    await this.command({ cmd: 'reload', connections });
  }

  async status(): Promise<IkeSaStatus[]> {
    return (await this.command({ cmd: 'status' })) as IkeSaStatus[];
  }

  /** What ikekm's MemoryKernel holds: SAs (keys redacted) and policies. */
  async kernelState(): Promise<MemoryKernelState> {
    return (await this.command({ cmd: 'kernel' })) as MemoryKernelState;
  }

  async transportStats(): Promise<TransportStats> {
    return (await this.command({ cmd: 'transport' })) as TransportStats;
  }

  /** Polls status() until `predicate` holds; returns the status that satisfied it. */
  async waitForStatus(what: string, predicate: (sas: IkeSaStatus[]) => boolean, timeoutMs = 10_000): Promise<IkeSaStatus[]> {
    let last: IkeSaStatus[] = [];
    try {
      return await waitUntil(
        what,
        async () => {
          last = await this.status();
          return predicate(last) ? last : undefined;
        },
        { timeoutMs, intervalMs: 50 },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; last ikekm status: ${JSON.stringify(last.map(statusSummary))}\n${this.diagnostics(15)}`);
    }
  }

  /** Every SaEvent so far, in order. */
  events(): readonly SaEvent[] {
    return this.received;
  }

  /**
   * Resolves with the first event at index ≥ `since` (default 0) that satisfies `predicate`,
   * already received or still to come; rejects after `timeoutMs` or when the peer exits.
   */
  waitForEvent<E extends SaEvent = SaEvent>(
    predicate: (event: SaEvent) => boolean,
    timeoutMs = 10_000,
    options: { readonly since?: number; readonly what?: string } = {},
  ): Promise<E> {
    const since = options.since ?? 0;
    const find = (): SaEvent | undefined => this.received.slice(since).find(predicate);
    const found = find();
    if (found !== undefined) return Promise.resolve(found as E);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      const check = (): void => {
        const event = find();
        if (event !== undefined) {
          done();
          resolve(event as E);
        } else if (!this.running) {
          done();
          reject(new Error(`ikekm peer exited while waiting for ${options.what ?? 'an event'}\n${this.diagnostics(15)}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${options.what ?? 'an ikekm event'}; events since ${since}: ${JSON.stringify(this.received.slice(since))}\n${this.diagnostics(15)}`,
          ),
        );
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  /** Waits until the IKE SA with these SPIs has its ikev2_decryption_table line on disk. */
  waitForIkeKeylog(spiI: string, spiR: string, timeoutMs = 5_000): Promise<true> {
    return waitUntil(`ikekm's ikev2_decryption_table line for ${spiI}_${spiR}`, () => (this.keylogged.some((k) => k.spiI === spiI && k.spiR === spiR) ? true : undefined), {
      timeoutMs,
      intervalMs: 20,
    });
  }

  /** The esp_sa table ikekm wrote (flushed first while the peer runs). */
  async espSaLines(): Promise<string[]> {
    if (this.running) await this.command({ cmd: 'flush' });
    return readLines(this.espSaPath);
  }

  /** The ikev2_decryption_table ikekm wrote (flushed first while the peer runs). */
  async ikeKeylogLines(): Promise<string[]> {
    if (this.running) await this.command({ cmd: 'flush' });
    return readLines(this.ikev2TablePath);
  }

  /** The pino log so far, one JSON line per entry. */
  logLines(): string[] {
    return readLines(this.logPath);
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  /** Transport errors the peer reported (send failures, socket errors). */
  transportErrorMessages(): readonly string[] {
    return this.transportErrors;
  }

  /** Sends a signal to the engine process itself. */
  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves when the process has exited (bounded). */
  async waitForExit(timeoutMs = 10_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const exited = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!exited || this.exitInfo === undefined) throw new Error(`ikekm peer did not exit within ${timeoutMs} ms`);
    return this.exitInfo;
  }

  /**
   * SIGTERM (the peer terminates its SAs, flushes and exits 0), then SIGKILL after `timeoutMs`.
   * Idempotent.
   */
  stop(timeoutMs = 8_000): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.running) return;
      this.child.kill('SIGTERM');
      const graceful = await Promise.race([this.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
      if (!graceful) {
        this.child.kill('SIGKILL');
        await Promise.race([this.exited, sleep(5_000)]);
      }
    })();
    return this.stopping;
  }

  /** stderr and the tail of the log, for error messages. */
  diagnostics(lines = 30): string {
    const err = existsSync(this.errPath) ? readFileSync(this.errPath, 'utf8') : '';
    const tail = this.logLines()
      .slice(-lines)
      .map((l) => compactLogLine(l))
      .join('\n');
    return `ikekm in ${this.side.ns} (${this.dir})${this.exitInfo ? ` exited ${JSON.stringify(this.exitInfo)}` : ''}\n--- ikekm.err ---\n${err}\n--- ikekm.log (tail) ---\n${tail}`;
  }

  private onLine(line: string): void {
    let parsed: PeerLine;
    try {
      parsed = JSON.parse(line) as PeerLine;
    } catch {
      this.transportErrors.push(`unparsable peer line: ${line}`);
      return;
    }
    switch (parsed.type) {
      case 'ready':
        this.readyResolve?.();
        break;
      case 'reply': {
        if (parsed.id === null) break;
        const waiter = this.pending.get(parsed.id);
        this.pending.delete(parsed.id);
        if (parsed.ok) waiter?.resolve(parsed.result);
        else waiter?.reject(new Error(`ikekm peer: ${parsed.error ?? 'failed'}`));
        break;
      }
      case 'event':
        this.received.push(parsed.event);
        break;
      case 'ike-keylog':
        this.keylogged.push({ spiI: parsed.spiI, spiR: parsed.spiR });
        break;
      case 'transport-error':
        this.transportErrors.push(`${parsed.code}: ${parsed.message}`);
        break;
    }
    this.notify();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

function compactLogLine(line: string): string {
  try {
    const { level, msg, time: _time, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as Record<string, unknown>;
    return `${String(level)} ${String(msg)} ${JSON.stringify(rest)}`;
  } catch {
    return line;
  }
}

function statusSummary(sa: IkeSaStatus): unknown {
  return { id: sa.id, state: sa.state, role: sa.role, spis: `${sa.spiI}_${sa.spiR}`, children: sa.children.map((c) => `${c.inboundSpi}/${c.outboundSpi}:${c.state}`) };
}

/**
 * Starts ikekm in `side`'s namespace with `connections`, binding that side's outer IPv4 address
 * on ports 500/4500 (or those given), and waits until its sockets are bound.
 */
export async function startIkekm(lab: Pick<Lab, 'a' | 'b' | 'dir'>, side: SideName, options: IkekmOptions): Promise<Ikekm> {
  const me = lab[side];
  const dir = options.dir ?? join(lab.dir, `ikekm-${side}`);
  mkdirSync(dir, { recursive: true });
  const config: PeerConfigJson = {
    bind: options.bind ?? (options.connections.length > 0 ? [...new Set(options.connections.map((c) => c.local.address))] : [me.outer4]),
    ikePort: options.ikePort ?? 500,
    nattPort: options.nattPort ?? 4500,
    settings: options.settings ?? {},
    connections: options.connections,
    paths: { log: join(dir, 'ikekm.log'), keylogDir: dir },
    ...(options.shutdownGraceMs === undefined ? {} : { shutdownGraceMs: options.shutdownGraceMs }),
  };
  const configPath = join(dir, 'ikekm.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });

  const err = openSync(join(dir, 'ikekm.err'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(IP, ['netns', 'exec', me.ns, process.execPath, '--import', 'tsx', PEER_ENTRY, configPath], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', err],
    });
  } finally {
    closeSync(err);
  }
  registerLive(child);
  const ikekm = new Ikekm(me, dir, child);
  const timeoutMs = options.startTimeoutMs ?? 20_000;
  const started = await Promise.race([
    ikekm.ready.then(() => 'ready' as const),
    ikekm.waitForExit(timeoutMs + 1_000).then(
      () => 'exited' as const,
      () => 'timeout' as const,
    ),
    sleep(timeoutMs).then(() => 'timeout' as const),
  ]);
  if (started !== 'ready') {
    await ikekm.stop(1_000);
    throw new Error(`ikekm peer did not start (${started})\n${ikekm.diagnostics()}`);
  }
  return ikekm;
}

export interface LabIkekmOptions {
  readonly name?: string;
  readonly psk?: string;
  /** Identities per side (default: the outer IPv4 addresses), as labPskConf takes them. */
  readonly ids?: { readonly a: string; readonly b: string };
  readonly ike?: readonly string[];
  readonly esp?: readonly string[];
  /** Use the IPv6 outer and inner addresses instead of IPv4 (as labPskConf's `ipv6`). */
  readonly ipv6?: boolean;
  readonly extra?: Partial<Omit<PeerConnectionJson, 'name' | 'ike' | 'esp' | 'local' | 'remote' | 'traffic'>>;
}

/**
 * ikekm's side of the lab connection labPskConf describes for strongSwan: outer IPv4 addresses,
 * the `lo` addresses as /32 traffic selectors, the same PSK and identities, mirrored for `self`.
 */
export function labIkekmConnection(lab: Pick<Lab, 'a' | 'b'>, self: SideName, options: LabIkekmOptions = {}): PeerConnectionJson {
  const me = lab[self];
  const peer = lab[self === 'a' ? 'b' : 'a'];
  const outer = (s: LabSide): string => (options.ipv6 ? required(s.outer6, 'outer6') : s.outer4);
  const inner = (s: LabSide): string => (options.ipv6 ? `${required(s.inner6, 'inner6')}/128` : `${s.inner4}/32`);
  const ids = options.ids ?? { a: outer(lab.a), b: outer(lab.b) };
  return {
    name: options.name ?? 'lab',
    ike: options.ike ?? ['aes128-sha256-modp2048'],
    esp: options.esp ?? ['aes128gcm16'],
    mode: 'tunnel',
    local: { address: outer(me), id: ids[self], psk: options.psk ?? 'ikekm-interop-lab-psk' },
    remote: { address: outer(peer), id: ids[self === 'a' ? 'b' : 'a'] },
    traffic: { local: [inner(me)], remote: [inner(peer)] },
    ...(options.extra ?? {}),
  };
}

function required(value: string | undefined, what: string): string {
  if (value === undefined) throw new Error(`the lab was created without IPv6 (${what})`);
  return value;
}

/** An esp_sa line, parsed (hex lowercase, SPI as 8 hex digits). */
export interface EspSaRecord {
  readonly family: string;
  readonly src: string;
  readonly dst: string;
  readonly spi: string;
  readonly encryption: string;
  readonly encryptionKey: string;
  readonly integrity: string;
  readonly integrityKey: string;
}

export function parseEspSaLine(line: string): EspSaRecord {
  const fields = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
  if (fields.length !== 8) throw new Error(`not an esp_sa line: ${line}`);
  const [family, src, dst, spi, encryption, encryptionKey, integrity, integrityKey] = fields as [string, string, string, string, string, string, string, string];
  const bare = (hex: string): string => hex.replace(/^0x/i, '').toLowerCase();
  return { family, src, dst, spi: espSpiHex(parseEspSpiHex(spi)), encryption, encryptionKey: bare(encryptionKey), integrity, integrityKey: bare(integrityKey) };
}

/** An ikev2_decryption_table line, parsed (hex lowercase; empty string for absent keys). */
export interface Ikev2TableRecord {
  readonly spiI: string;
  readonly spiR: string;
  readonly SK_ei: string;
  readonly SK_er: string;
  readonly encryption: string;
  readonly SK_ai: string;
  readonly SK_ar: string;
  readonly integrity: string;
}

export function parseIkev2TableLine(line: string): Ikev2TableRecord {
  const match = /^([0-9a-f]{16}),([0-9a-f]{16}),([0-9a-f]*),([0-9a-f]*),"([^"]+)",([0-9a-f]*),([0-9a-f]*),"([^"]+)"$/.exec(line.trim());
  if (!match) throw new Error(`not an ikev2_decryption_table line: ${line}`);
  const [, spiI, spiR, SK_ei, SK_er, encryption, SK_ai, SK_ar, integrity] = match as unknown as [string, string, string, string, string, string, string, string, string];
  return { spiI, spiR, SK_ei, SK_er, encryption, SK_ai, SK_ar, integrity };
}
