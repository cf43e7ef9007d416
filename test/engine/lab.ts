/**
 * Two ikekm engines on an in-memory network in virtual time: the setup most engine tests share.
 * Each side has its own MemoryKernel, timer service, deterministic RandomPort, captured log and
 * SA event list; both run on one heap-ordered virtual scheduler.
 */
import type { InspectionEvent } from 'xstate';
import { DEFAULT_ENGINE_SETTINGS, type ConnectionConfig, type EngineConfig, type EngineSettings } from '../../src/config/model.js';
import type { EngineJournal } from '../../src/engine/engine-journal.js';
import { cryptoRegistry } from '../../src/crypto/registry.js';
import type { SaEvent } from '../../src/engine/engine-ports.js';
import { createIkeEngine, type IkeEngine } from '../../src/engine/ike-engine.js';
import { MemoryKernel } from '../../src/kernel/memory-kernel.js';
import type { KernelPort } from '../../src/kernel/kernel-port.js';
import type { LoadPort, LogPort } from '../../src/ports.js';
import { silentLogger } from '../../src/log/silent-logger.js';
import type { IkeSaKeys } from '../../src/kernel/ikev2-keylog-writer.js';
import { HeapVirtualScheduler } from '../../src/timers/heap-virtual-scheduler.js';
import { createTimerService, type TimerService } from '../../src/timers/timer-service.js';
import { connectionPair, seededRandom, type PairOptions } from './fixtures.js';
import { InMemoryNetwork, type Impairment } from './in-memory-network.js';

export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly bindings: Record<string, unknown>;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

export function capturingLog(records: LogRecord[], bindings: Record<string, unknown> = {}, echo = false): LogPort {
  const at =
    (level: LogRecord['level']) =>
    (fields: object, message: string): void => {
      records.push({ level, bindings, fields: fields as Record<string, unknown>, message });
      if (echo) console.log(level, JSON.stringify(bindings), message, JSON.stringify(fields));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => capturingLog(records, { ...bindings, ...more }, echo),
  };
}

export interface LabSide {
  readonly name: 'a' | 'b';
  readonly engine: IkeEngine;
  readonly kernel: MemoryKernel;
  readonly timers: TimerService;
  readonly events: SaEvent[];
  readonly logs: LogRecord[];
  /** What the engine handed to its key-log port: one entry per established IKE SA. */
  readonly keylogs: IkeSaKeys[];
  readonly address: string;
}

export interface LabOptions {
  readonly pair?: PairOptions;
  /** Virtual time to start at (certificates are valid from and to wall-clock dates); default 0. */
  readonly startMs?: number;
  readonly connections?: { a: ConnectionConfig[]; b: ConnectionConfig[] };
  readonly impairment?: Impairment;
  readonly seed?: number;
  readonly settings?: Partial<EngineSettings>;
  readonly settingsB?: Partial<EngineSettings>;
  /** Print every log line (debugging a test). */
  readonly echo?: boolean;
  /** Keep no log records (scale tests). */
  readonly silent?: boolean;
  /**
   * false: keep no SA events and key-log entries in the sides' lists (a long scale run would
   * fill them; `onEvent` still hears every event). Default true.
   */
  readonly keepEvents?: boolean;
  /** A side's engine journal (a record to replay, src/replay/). */
  readonly journal?: (side: 'a' | 'b', start: { config: EngineConfig; kernelEnforcesByteLimits: boolean }) => EngineJournal | undefined;
  /** A side's LoadPort (how busy its process looks); default never busy. */
  readonly load?: (side: 'a' | 'b') => LoadPort;
  /** Wrap a side's kernel (e.g. to slow it down or fail it). */
  readonly kernel?: (side: 'a' | 'b', kernel: MemoryKernel) => KernelPort;
  /** Each side's SA events as they happen (a daemon's restart policy listens so). */
  readonly onEvent?: (side: 'a' | 'b', event: SaEvent) => void;
  /** XState inspection of each side's actors (state trails, test/machines/state-trail.ts). */
  readonly inspect?: (side: 'a' | 'b', event: InspectionEvent) => void;
}

export class Lab {
  readonly scheduler: HeapVirtualScheduler;
  readonly network: InMemoryNetwork;
  a: LabSide;
  b: LabSide;
  readonly connections: { a: ConnectionConfig[]; b: ConnectionConfig[] };
  private restarts = 0;

  constructor(private readonly options: LabOptions = {}) {
    this.scheduler = new HeapVirtualScheduler({ startMs: options.startMs ?? 0 });
    this.network = new InMemoryNetwork(this.scheduler, { seed: options.seed ?? 7, impairment: options.impairment ?? {} });
    const pair = connectionPair(options.pair);
    this.connections = options.connections ?? { a: [pair.a], b: [pair.b] };
    this.a = this.side('a', this.connections.a, options.settings ?? {}, options);
    this.b = this.side('b', this.connections.b, options.settingsB ?? options.settings ?? {}, options);
  }

  /** A crash and restart of one side: its engine and kernel are gone, a fresh one takes the address. */
  restart(name: 'a' | 'b'): LabSide {
    const old = name === 'a' ? this.a : this.b;
    old.timers.dispose();
    this.restarts++;
    const settings = name === 'a' ? (this.options.settings ?? {}) : (this.options.settingsB ?? this.options.settings ?? {});
    const fresh = this.side(name, this.connections[name], settings, this.options, `restart${this.restarts}`);
    if (name === 'a') this.a = fresh;
    else this.b = fresh;
    return fresh;
  }

  private side(name: 'a' | 'b', connections: ConnectionConfig[], settings: Partial<EngineSettings>, options: LabOptions, salt = ''): LabSide {
    const kernel = new MemoryKernel();
    const events: SaEvent[] = [];
    const logs: LogRecord[] = [];
    const keylogs: IkeSaKeys[] = [];
    const address = connections[0]?.local.address ?? (name === 'a' ? '192.0.2.1' : '192.0.2.2');
    const port = connections[0]?.local.port ?? 500;
    const fullSettings = { ...DEFAULT_ENGINE_SETTINGS, ...settings };
    const keep = options.keepEvents !== false;
    let engine: IkeEngine | undefined;
    const timers = createTimerService({ scheduler: this.scheduler, deliver: (owner, event) => engine?.deliverTimer(owner, event) });
    const engineKernel: KernelPort = options.kernel?.(name, kernel) ?? kernel;
    const journal = options.journal?.(name, { config: { settings: fullSettings, connections }, kernelEnforcesByteLimits: engineKernel.onExpire !== undefined });
    engine = createIkeEngine({
      ...(journal === undefined ? {} : { journal }),
      config: { settings: fullSettings, connections },
      ports: {
        network: this.network.port,
        timers,
        clock: timers,
        log: options.silent === true ? silentLogger : capturingLog(logs, { side: name }, options.echo === true),
        random: seededRandom(`${name}-${options.seed ?? 7}${salt}`),
        kernel: engineKernel,
        registry: cryptoRegistry,
        ...(options.load === undefined ? {} : { load: options.load(name) }),
      },
      onEvent: (e) => {
        if (keep) events.push(e);
        options.onEvent?.(name, e);
      },
      keylog: { ikeSaEstablished: (keys) => void (keep && keylogs.push(keys)) },
      ...(options.inspect === undefined ? {} : { inspect: (e: InspectionEvent) => options.inspect?.(name, e) }),
    });
    const receive = engine.receive.bind(engine);
    this.network.attach({ address, port }, receive);
    this.network.attach({ address, port: fullSettings.nattPort }, receive);
    return { name, engine, kernel, timers, events, logs, keylogs, address };
  }

  /** Runs virtual time forward by `ms`, letting kernel promises settle between timer steps. */
  async run(ms: number): Promise<void> {
    const end = this.scheduler.now() + ms;
    for (;;) {
      await settle();
      const next = this.scheduler.nextDueMs;
      if (next === undefined || next > end) break;
      this.scheduler.advanceTo(next);
    }
    this.scheduler.advanceTo(end);
    await settle();
  }

  /** Runs until `done()` holds or `maxMs` of virtual time passed; returns whether it held. */
  async runUntil(done: () => boolean, maxMs = 600_000): Promise<boolean> {
    const end = this.scheduler.now() + maxMs;
    for (;;) {
      await settle();
      if (done()) return true;
      const next = this.scheduler.nextDueMs;
      if (next === undefined || next > end) break;
      this.scheduler.advanceTo(next);
    }
    await settle();
    return done();
  }

  established(side: LabSide = this.a): boolean {
    return side.engine.status().some((s) => s.state === 'established' && s.children.some((c) => c.state === 'installed'));
  }
}

export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
