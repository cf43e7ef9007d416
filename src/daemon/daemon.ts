/**
 * The ikekm daemon: one IKEv2 engine on real ports (runtime-ports.ts), started from a loaded
 * configuration, controlled through a unix socket (control-server.ts) and by signals (src/cli/).
 *
 *     const daemon = await Daemon.start({ config, logger });
 *     await daemon.up('to-hq');          // resolves when the first Child SA is installed
 *     await daemon.status();             // the stable status JSON (daemon-status.ts)
 *     await daemon.reloadFromFile();     // SIGHUP
 *     await daemon.stop();               // SIGTERM: Deletes to every peer, bounded wait
 *
 * The daemon adds to the engine what a running program needs: start actions, reload by
 * connection (added / removed / changed / unchanged), waiting for the outcome of a command,
 * NAT-keepalives, byte counters and Child SA ages for status, and an orderly shutdown.
 */
import { isAbsolute } from 'node:path';
import { concat, filter, firstValueFrom, from, Observable, Subject, timeout } from 'rxjs';
import { diffConfigs, type ConfigDiff } from '../config/config-diff.js';
import { formatDiagnostic, type ConfigDiagnostic } from '../config/config-diagnostic.js';
import { loadConfigFile, type LoadedConfig } from '../config/load-config.js';
import { ControlServer } from '../control/control-server.js';
import type { DaemonStatus } from '../control/daemon-status.js';
import { cryptoRegistry } from '../crypto/registry.js';
import type { SaEvent } from '../engine/engine-ports.js';
import { createIkeEngine, type IkeEngine, type IkeSaStatus } from '../engine/ike-engine.js';
import { createSigningWorkers, type SigningWorkers } from '../engine/signing-workers.js';
import { ConnectionReqids } from '../kernel/connection-reqids.js';
import type { MemoryKernel } from '../kernel/memory-kernel.js';
import type { Logger } from '../log/logger.js';
import type { PublicRecordEntry } from '../replay/record-entry.js';
import { JournalScope } from '../replay/journal-scope.js';
import { RecordFile } from '../replay/record-file.js';
import { recordJournal } from '../replay/record-journal.js';
import { err, ok, type Result } from '../result.js';
import { NatKeepalive } from '../transport/nat-keepalive.js';
import type { DaemonEvent } from './daemon-events.js';
import { createDaemonInspector, type DaemonInspector } from './daemon-inspector.js';
import { eventLoopLoad } from './event-loop-load.js';
import { JournalTap } from './journal-tap.js';
import { MidRunRecord, type MidRunRecordStarted, type MidRunRecordSummary } from './mid-run-record.js';
import { NatKeepaliveSync } from './nat-keepalive-sync.js';
import { ConnectionKeeper, type RestartBackoff, type RestartStatusJson } from './connection-keeper.js';
import { DEFAULT_ACQUIRE_HOLD_MS, OnDemandTraps, type TrapStatusJson } from './on-demand.js';
import { pollUntil, type PollClock } from './poll-until.js';
import { explainRefusal } from './refusal-explanation.js';
import { openRuntimePorts, type RuntimePorts } from './runtime-ports.js';
import { ikeSaStatusJson, ikeStateName, statusSnapshot } from './status-snapshot.js';

export type { DaemonEvent } from './daemon-events.js';
export type { TrapStatusJson } from './on-demand.js';
export type { RestartStatusJson } from './connection-keeper.js';

/** The status JSON with the daemon's traps and restarts (README "Status JSON", `traps[]`, `restarts[]`). */
export type DaemonStatusWithTraps = DaemonStatus & { readonly traps: readonly TrapStatusJson[]; readonly restarts: readonly RestartStatusJson[] };

export interface DaemonOptions {
  readonly config: LoadedConfig;
  /** pino; SA records carry connection and SPIs (the engine binds them). */
  readonly logger: Logger;
  /** Write Wireshark's ikev2_decryption_table and esp_sa here (the user's explicit key export). */
  readonly keylogDir?: string;
  /** Overrides `config.daemon.control`. */
  readonly controlSocket?: string;
  /** After a failed on-demand attempt, acquires for that connection are ignored this long (default 10 s). */
  readonly acquireHoldMs?: number;
  /** Waits between attempts of the restart policy (default 5 s doubling to 5 min, connection-keeper.ts). */
  readonly restartBackoff?: RestartBackoff;
  /** Send the machines' inspection events to a WebSocket (daemon-inspector.ts), of one connection's SAs or all. */
  readonly inspect?: { readonly url: string; readonly connection?: string };
  /**
   * Record every input of the engine's machines (and what they sent) to this file, for
   * `ikekm replay` (src/replay/). It holds key material (DH private values, nonces): 0600.
   */
  readonly recordFile?: string;
}

export interface SaSpis {
  readonly spiI: string;
  readonly spiR: string;
}

export interface UpResult {
  readonly connection: string;
  /** The connection already had an established IKE SA: nothing was initiated. */
  readonly alreadyUp: boolean;
  readonly ikeSa: SaSpis;
  /** Our inbound and the peer's SPI of the first Child SA (absent when alreadyUp found none). */
  readonly childSa?: { readonly spiIn: string; readonly spiOut: string };
}

export interface DownResult {
  readonly connection: string;
  /** IKE SAs deleted at the peer (0 when the connection was not up). */
  readonly deleted: number;
}

export interface RekeyResult {
  readonly connection: string;
  readonly kind: 'ike' | 'child';
  /** IKE rekey: the new IKE SA's SPIs. Child rekey: the IKE SA the Child SAs belong to. */
  readonly ikeSa: SaSpis;
  /** Child rekey: the new Child SA's SPIs. */
  readonly childSa?: { readonly spiIn: string; readonly spiOut: string };
}

/** How long a control command waits for its outcome (the SA goes on trying after that). */
const COMMAND_TIMEOUT_MS = 30_000;
const DEFAULT_STOP_GRACE_MS = 3_000;
const POLL_MS = 20;
/** A wait's checks take at most about a fifth of the event loop (poll-until.ts). */
const POLL_COST_FACTOR = 4;

/** About how much status JSON goes to the control socket at a time (writeStatus). */
const STATUS_PIECE_CHARS = 64 * 1024;
/** IKE SAs named one by one in the shutdown's log record of SAs whose peers did not answer. */
const STOP_LOG_SAS = 20;
const isEstablished = (sa: IkeSaStatus): boolean => ikeStateName(sa.state) === 'ESTABLISHED';
const POLL_CLOCK: PollClock = { now: () => performance.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

export class Daemon {
  readonly events$: Observable<DaemonEvent>;
  private readonly subject = new Subject<DaemonEvent>();
  private readonly keepaliveSync: NatKeepaliveSync;
  private stopping: Promise<void> | undefined;
  private control: ControlServer | undefined;
  private readonly keeper: ConnectionKeeper;
  private reloading: Promise<void> = Promise.resolve();
  private record: RecordFile | undefined;
  private inspector: DaemonInspector | undefined;
  private signing: SigningWorkers | undefined;
  /** The engine's journal for those who follow it while the daemon runs (journal-tap.ts). */
  private readonly tap: JournalTap;
  /** `ikekm record start`'s record from the moment it is asked for (opening its file) until stopped: one at a time. */
  private midRunRecord: { readonly path: string; readonly record: Promise<MidRunRecord> } | undefined;

  private constructor(
    private config: LoadedConfig,
    private readonly log: Logger,
    private readonly ports: RuntimePorts,
    private readonly engine: IkeEngine,
    private readonly keepalive: NatKeepalive,
    private readonly onDemand: OnDemandTraps,
    restartBackoff: RestartBackoff | undefined,
  ) {
    this.events$ = this.subject.asObservable();
    this.keepaliveSync = new NatKeepaliveSync(keepalive);
    this.tap = new JournalTap(engine);
    this.keeper = new ConnectionKeeper({
      engine,
      connection: (name) => this.config.engine.connections.find((c) => c.name === name),
      scheduler: ports.scheduler,
      random: ports.random,
      log,
      ...(restartBackoff === undefined ? {} : { backoff: restartBackoff }),
    });
  }

  /** Binds UDP, opens the control socket, starts the on-load connections. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const { config, logger: log } = options;
    for (const warning of config.warnings) log.warn({ diagnostic: formatDiagnostic(warning) }, 'configuration warning');
    let daemon: Daemon | undefined;
    const ports = await openRuntimePorts({
      listen: config.daemon.listen,
      ikePort: config.daemon.ports.ike,
      nattPort: config.daemon.ports.natt,
      localAddresses: config.engine.connections.map((c) => c.local.address),
      kernel: config.daemon.kernel,
      ...(options.keylogDir === undefined ? {} : { keylogDir: options.keylogDir }),
      log,
      onDatagram: (datagram) => daemon?.engine.receive(datagram),
      deliverTimer: (owner, event) => daemon?.engine.deliverTimer(owner, event),
    });
    // One reqid table: a trap and the Child SA it brings up share the connection's reqid.
    const reqids = new ConnectionReqids();
    let record: RecordFile | undefined;
    if (options.recordFile !== undefined) {
      try {
        record = await RecordFile.open(options.recordFile, { onStopped: (reason) => log.warn({ file: options.recordFile, reason }, 'recording stopped') });
      } catch (error) {
        await ports.close();
        throw error;
      }
    }
    const inspector = options.inspect === undefined ? undefined : createDaemonInspector(options.inspect);
    // AUTH signatures off the event loop (made on the first one: none with PSKs only).
    const signing = createSigningWorkers();
    const engine = createIkeEngine({
      config: config.engine,
      reqids,
      ...(inspector === undefined ? {} : { inspect: inspector.inspect }),
      ...(record === undefined ? {} : { journal: recordJournal((entry) => record.write(entry), { config: config.engine, kernelEnforcesByteLimits: ports.kernel.onExpire !== undefined }) }),
      ports: {
        network: ports.transport,
        timers: ports.timers,
        clock: ports.timers,
        log,
        random: ports.random,
        kernel: ports.kernel,
        registry: cryptoRegistry,
        load: eventLoopLoad(),
        signer: (scheme, key, data) => signing.sign(scheme, key, data),
      },
      onEvent: (event) => daemon?.onSaEvent(event),
      ...(ports.keylog === undefined ? {} : { keylog: ports.keylog }),
    });
    const keepalive = new NatKeepalive({
      scheduler: ports.scheduler,
      send: (local, remote, bytes) => ports.transport.sendRaw(local, remote, bytes),
      intervalMs: config.daemon.natKeepaliveSeconds * 1000,
      onError: (error, remote) => log.warn({ remote: `${remote.address}:${remote.port}`, reason: (error as Error).message }, 'NAT-keepalive not sent'),
    });
    const onDemand = new OnDemandTraps({
      kernel: ports.kernel,
      engine,
      log,
      now: () => ports.timers.now(),
      holdAfterFailureMs: options.acquireHoldMs ?? DEFAULT_ACQUIRE_HOLD_MS,
      reqids,
    });
    daemon = new Daemon(config, log, ports, engine, keepalive, onDemand, options.restartBackoff);
    daemon.record = record;
    daemon.inspector = inspector;
    daemon.signing = signing;
    const socketPath = options.controlSocket ?? config.daemon.control;
    try {
      daemon.control = await ControlServer.listen(socketPath, daemon.controlHandler(), { log });
    } catch (error) {
      await onDemand.stop();
      engine.stop();
      await signing.close();
      inspector?.stop();
      await record?.close();
      await ports.close();
      throw error;
    }
    log.info(
      {
        file: config.file,
        kernel: ports.kernelBackend,
        bound: ports.transport.boundEndpoints(),
        receiveBufferBytes: ports.transport.receiveBufferBytes(),
        control: socketPath,
        connections: config.engine.connections.map((c) => c.name),
        keylog: options.keylogDir !== undefined,
      },
      'ikekm daemon started',
    );
    if (options.keylogDir !== undefined) log.warn({ dir: options.keylogDir }, 'key log enabled: every IKE and ESP key is written to disk (0600) for Wireshark');
    if (inspector !== undefined) log.info({ url: options.inspect?.url, connection: options.inspect?.connection ?? 'all' }, 'inspection events go to the WebSocket inspector');
    if (record !== undefined) log.warn({ file: record.path }, 'recording every input of the negotiations for ikekm replay: the record holds key material (DH private values, nonces), 0600');
    daemon.startConnections(config.engine.connections.map((c) => c.name));
    // start: on-demand — the traps are in place before start() resolves.
    await onDemand.apply(config.engine.connections);
    return daemon;
  }

  /**
   * The stable status JSON (README "Status JSON"), with the installed traps. Asynchronous: the
   * byte counters are read from the kernel backend through the engine's kernel port.
   */
  async status(): Promise<DaemonStatusWithTraps> {
    const sas = await this.engine.statusWithUsage();
    const nowMs = this.ports.timers.now();
    return { ...statusSnapshot(sas, { nowMs }), traps: this.onDemand.status(nowMs), restarts: this.keeper.status() };
  }

  /**
   * status() as JSON text, in pieces of about STATUS_PIECE_CHARS for `write`, SA by SA as the
   * engine lists them (forEachStatusWithUsage): the same text as JSON.stringify(await status()),
   * but the status is never one tree of objects. At 100 000 SAs that tree was hundreds of
   * megabytes that lived long enough to be promoted, and the heap grown by it was collected
   * whole, several times: seconds of a daemon that meanwhile answers no peer.
   */
  async writeStatus(write: (text: string) => void): Promise<void> {
    let piece = '{"ikeSas":[';
    let first = true;
    let nowMs: number | undefined;
    await this.engine.forEachStatusWithUsage((sa) => {
      // The clock once the usage is read, as status() takes it.
      nowMs ??= this.ports.timers.now();
      const json = ikeSaStatusJson(sa, { nowMs });
      if (json === undefined) return;
      piece += first ? JSON.stringify(json) : `,${JSON.stringify(json)}`;
      first = false;
      if (piece.length >= STATUS_PIECE_CHARS) {
        write(piece);
        piece = '';
      }
    });
    nowMs ??= this.ports.timers.now();
    write(`${piece}],"traps":${JSON.stringify(this.onDemand.status(nowMs))},"restarts":${JSON.stringify(this.keeper.status())}}`);
  }

  /** Establishes a connection (IKE SA and first Child SA); resolves when installed, rejects with the reason it failed. */
  async up(name: string): Promise<UpResult> {
    this.connectionNamed(name);
    const established = this.engine.statusOfConnection(name).filter(isEstablished);
    const existing = established.find((sa) => sa.children.length > 0) ?? established[0];
    if (existing !== undefined) {
      const child = existing.children[0];
      return {
        connection: name,
        alreadyUp: true,
        ikeSa: { spiI: existing.spiI, spiR: existing.spiR },
        ...(child === undefined ? {} : { childSa: { spiIn: child.inboundSpi, spiOut: child.outboundSpi } }),
      };
    }
    const { id, outcome } = this.command(
      () => {
        const ikeSa = this.engine.initiate(name);
        this.keeper.adopt(name, ikeSa);
        return ikeSa;
      },
      (e, ikeId) =>
        (e.kind === 'child-sa-up' && e.ikeSa === ikeId) ||
        (e.kind === 'child-sa-failed' && e.ikeSa === ikeId) ||
        ((e.kind === 'ike-sa-failed' || e.kind === 'ike-sa-down') && e.id === ikeId),
    );
    const event = await outcome;
    if (event.kind !== 'child-sa-up') throw new Error(`${name}: ${failureText(event)}`);
    const sa = this.engine.statusOf(id);
    return {
      connection: name,
      alreadyUp: false,
      ikeSa: { spiI: sa?.spiI ?? '', spiR: sa?.spiR ?? '' },
      childSa: { spiIn: event.inboundSpi, spiOut: event.outboundSpi },
    };
  }

  /**
   * Deletes the connection's IKE SAs (and so their Child SAs) at the peer; resolves when those are
   * gone. It waits for the SAs it deleted, not for the connection to be empty: a peer that
   * initiates again at once (libreswan does) makes a new SA meanwhile, which is not ours to wait for.
   */
  async down(name: string): Promise<DownResult> {
    this.connectionNamed(name, { allowRemoved: true });
    // No restart policy brings it back: the user ended it.
    this.keeper.release(name, 'ikekm down');
    const live = this.liveIds(this.engine.ikeSaIds(name));
    if (live.size === 0) return { connection: name, deleted: 0 };
    const deleted = live.size;
    this.engine.terminate({ connection: name }, 'ikekm down');
    const gone = await this.waitUntil(() => this.stillLive(live) === 0, COMMAND_TIMEOUT_MS);
    if (!gone) throw new Error(`${name}: the peer did not answer the Delete within ${COMMAND_TIMEOUT_MS / 1000} s (retransmitting)`);
    return { connection: name, deleted };
  }

  /** Rekeys the connection's IKE SA (`ike: true`) or its Child SAs; resolves when the new SA is up. */
  async rekey(name: string, options: { ike: boolean }): Promise<RekeyResult> {
    this.connectionNamed(name);
    const established = this.engine.statusOfConnection(name).filter(isEstablished);
    // Just after an IKE SA rekey the old SA may still be listed until its Delete completes, without
    // Child SAs or with one still leaving the kernel (a rekeyed one, RFC 7296 2.18).
    const sa = established.find((s) => s.children.some((c) => c.state !== 'deleting')) ?? established[0];
    if (sa === undefined) throw new Error(`${name} is not established: nothing to rekey (ikekm up ${name})`);
    if (options.ike) {
      const { outcome } = this.command(
        () => (this.engine.rekeyIkeSa(sa.id), sa.id),
        (e, id) => (e.kind === 'ike-sa-rekeyed' && e.id === id) || ((e.kind === 'ike-sa-down' || e.kind === 'ike-sa-failed') && e.id === id),
      );
      const event = await outcome;
      if (event.kind !== 'ike-sa-rekeyed') throw new Error(`${name}: IKE SA rekey failed: ${failureText(event)}`);
      const next = this.engine.statusOf(event.newId);
      return { connection: name, kind: 'ike', ikeSa: { spiI: next?.spiI ?? '', spiR: next?.spiR ?? '' } };
    }
    if (sa.children.length === 0) throw new Error(`${name} has no Child SA to rekey`);
    const { outcome } = this.command(
      () => (this.engine.rekeyChildSa(sa.id), sa.id),
      (e, id) =>
        (e.kind === 'child-sa-up' && e.ikeSa === id && e.rekeyOf !== undefined) ||
        (e.kind === 'child-sa-failed' && e.ikeSa === id) ||
        ((e.kind === 'ike-sa-down' || e.kind === 'ike-sa-failed') && e.id === id),
    );
    const event = await outcome;
    if (event.kind !== 'child-sa-up') throw new Error(`${name}: Child SA rekey failed: ${failureText(event)}`);
    return { connection: name, kind: 'child', ikeSa: { spiI: sa.spiI, spiR: sa.spiR }, childSa: { spiIn: event.inboundSpi, spiOut: event.outboundSpi } };
  }

  /**
   * Applies a new configuration by connection: removed ones are torn down with Deletes, changed
   * ones torn down and started again (per their start action), added ones started, unchanged
   * ones not touched. Traps follow: removed with their connection, re-installed for a changed
   * one, installed for a new on-demand one (in the background: `trapsSettled()` waits for them).
   */
  reload(next: LoadedConfig): ConfigDiff {
    const diff = diffConfigs(this.config.engine, next.engine);
    for (const name of [...diff.removed, ...diff.changed]) this.keeper.release(name, 'removed or changed by a reload');
    for (const name of diff.removed) this.engine.terminate({ connection: name }, 'removed from the configuration');
    for (const name of diff.changed) this.engine.terminate({ connection: name }, 'changed in the configuration');
    // Old SAs finish their Deletes under the configuration they were made with; from here on
    // new negotiations use the new one.
    this.engine.reload(next.engine);
    const previous = this.config;
    this.config = next;
    for (const warning of next.warnings) this.log.warn({ diagnostic: formatDiagnostic(warning) }, 'configuration warning');
    if (diff.settingsChanged || JSON.stringify(previous.daemon) !== JSON.stringify(next.daemon)) {
      this.log.warn({ file: next.file }, 'daemon settings (listen, ports, control, kernel, keepalive, engine limits) changed: sockets and ports apply after a restart, not on reload');
    }
    this.startConnections([...diff.added, ...diff.changed]);
    void this.onDemand.apply(next.engine.connections, diff.changed);
    this.log.info({ file: next.file, added: diff.added, removed: diff.removed, changed: diff.changed, unchanged: diff.unchanged }, 'configuration reloaded');
    this.emit({ kind: 'reloaded', diff, atMs: this.ports.timers.now() });
    return diff;
  }

  /**
   * Re-reads the configuration file (SIGHUP, `ikekm reload`) off the event loop: the daemon goes
   * on answering while the file and its PSK files are read. A bad file keeps the running
   * configuration, and so does a file without connections unless it says `connections: {}`
   * (load-config.ts: what an empty or half-written file looks like). Reloads run one at a time,
   * in the order asked.
   */
  reloadFromFile(): Promise<Result<ConfigDiff, readonly ConfigDiagnostic[]>> {
    const next = this.reloading.then(() => this.reloadOnce());
    // A reload that throws fails alone: the next one still runs.
    this.reloading = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  private async reloadOnce(): Promise<Result<ConfigDiff, readonly ConfigDiagnostic[]>> {
    const file = this.config.file;
    const loaded = await loadConfigFile(file, { reload: true });
    if (this.stopping !== undefined) {
      const stopping: ConfigDiagnostic = { severity: 'error', file, line: 1, column: 1, path: '', message: 'the daemon is stopping' };
      return err([stopping]);
    }
    if (!loaded.ok) {
      const diagnostics = loaded.error.map(formatDiagnostic);
      this.log.error({ file, diagnostics }, 'reload refused: the configuration file has errors; the running configuration stays');
      this.emit({ kind: 'reload-failed', file, diagnostics, atMs: this.ports.timers.now() });
      return err(loaded.error);
    }
    return ok(this.reload(loaded.value));
  }

  /** Resolves when the trap changes of the last start or reload are in the kernel. */
  trapsSettled(): Promise<void> {
    return this.onDemand.settled();
  }

  /** Deletes every SA at its peer (waiting at most `graceMs`, default 3 s), then closes everything. */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    this.stopping ??= (async () => {
      // From the first moment: no new IKE SA (a peer that re-initiates after our Delete gets none).
      this.engine.refuseNewSas();
      const graceMs = options.graceMs ?? DEFAULT_STOP_GRACE_MS;
      const live = this.liveIds(this.engine.ikeSaIds());
      this.log.info({ ikeSas: live.size, graceMs }, 'stopping: deleting every SA at its peer');
      this.emit({ kind: 'stopping', atMs: this.ports.timers.now() });
      // Nothing restarts what the shutdown deletes.
      this.keeper.stop();
      // Traps first: traffic during shutdown must not start new SAs.
      await this.onDemand.stop();
      this.engine.terminateAll('ikekm daemon stopping');
      // Polled: those it deleted until they are gone, then the table once more for any that came
      // up meanwhile (a peer's rekey in flight), which the engine deletes at once as well.
      const clean = await this.waitUntil(() => this.stillLive(live) === 0 && this.addLive(live, this.engine.ikeSaIds()) === 0, graceMs);
      const left = live.size;
      if (!clean) {
        // The first few by name: with 100 000 road warriors gone silent, the whole list would be one multi-megabyte line.
        const named: { connection: string | undefined; spiI: string; spiR: string }[] = [];
        for (const id of live) {
          const sa = this.engine.statusOf(id);
          if (sa !== undefined) named.push({ connection: sa.connection, spiI: sa.spiI, spiR: sa.spiR });
          if (named.length === STOP_LOG_SAS) break;
        }
        this.log.warn({ ikeSas: left, left: named }, 'stopping: peers did not answer every Delete in time');
      }
      this.keepalive.stopAll();
      // What is still up goes from the kernel with the backend's sweep at close (ports.close).
      this.engine.stop({ leaveKernelState: true });
      await this.signing?.close();
      if (this.midRunRecord !== undefined) this.log.info(await this.recordStop().catch((error: unknown) => ({ error: String(error) })), 'record stopped: the daemon stops');
      this.tap.close();
      this.inspector?.stop();
      await this.record?.close();
      this.subject.complete();
      await this.control?.close();
      await this.ports.close();
      this.log.info({ unanswered: left }, 'ikekm daemon stopped');
      this.log.flush();
    })();
    return this.stopping;
  }

  /** The memory kernel backend (under the key log, if any): tests drive traffic and acquires through it. */
  get memoryKernel(): MemoryKernel {
    if (this.ports.memory === undefined) throw new Error(`the daemon runs on the ${this.ports.kernelBackend} kernel backend, not memory`);
    return this.ports.memory;
  }

  /** The control socket's path. */
  get controlSocket(): string {
    return this.control?.path ?? '';
  }

  /** Bound UDP endpoints (useful with port 0). */
  boundEndpoints(): ReturnType<RuntimePorts['transport']['boundEndpoints']> {
    return this.ports.transport.boundEndpoints();
  }

  private controlHandler() {
    return {
      up: (name: string) => this.up(name),
      down: (name: string) => this.down(name),
      rekey: (name: string, options: { ike: boolean }) => this.rekey(name, options),
      reload: async () => {
        const result = await this.reloadFromFile();
        if (!result.ok) throw new Error(`reload refused, running configuration kept:\n${result.error.map(formatDiagnostic).join('\n')}`);
        return result.value;
      },
      status: () => this.status(),
      writeStatus: (write: (text: string) => void) => this.writeStatus(write),
      events$: this.events$,
      journal$: (options?: { connection?: string }) => this.journal$(options),
      recordStart: (file: string, options: { connection?: string }) => this.recordStart(file, options),
      recordStop: () => this.recordStop(),
    };
  }

  /**
   * The engine's journal from subscription on, without draws and loads (journal-tap.ts): first
   * the current state of each live actor, then as it happens; completes when the daemon stops.
   * With `connection` (which must exist: thrown at once otherwise), only the groups that concern
   * its SAs (src/replay/journal-scope.ts), each judged at the end of its input's turn.
   */
  journal$(options: { connection?: string } = {}): Observable<PublicRecordEntry> {
    const { connection } = options;
    if (connection !== undefined) this.connectionNamed(connection, { allowRemoved: true });
    return new Observable<PublicRecordEntry>((subscriber) => {
      if (this.stopping !== undefined) return subscriber.complete();
      const end = (reason?: string): void => (reason === undefined ? subscriber.complete() : subscriber.error(new Error(reason)));
      if (connection === undefined) return this.tap.followPublic({ entry: (entry) => subscriber.next(entry), end });
      const scope = new JournalScope({
        sink: (entry) => subscriber.next(entry as PublicRecordEntry),
        connection: { name: connection, of: (id) => this.connectionOfSa(id) },
        existing: 'follow',
      });
      // What an input sets off happens in its turn of the event loop: judged right after it.
      let flushing: NodeJS.Immediate | undefined;
      const stop = this.tap.followPublic({
        entry: (entry) => {
          scope.push(entry);
          if (entry.t === 'in') flushing ??= setImmediate(() => ((flushing = undefined), scope.flush()));
        },
        end: (reason) => {
          if (flushing !== undefined) clearImmediate(flushing);
          scope.end();
          end(reason);
        },
      });
      return () => {
        if (flushing !== undefined) clearImmediate(flushing);
        stop();
      };
    });
  }

  /**
   * Starts recording the negotiations that begin from now on to `path` (mid-run-record.ts), only
   * `connection`'s if given. The file is created 0600: it holds key material. One at a time.
   */
  async recordStart(path: string, options: { connection?: string } = {}): Promise<MidRunRecordStarted> {
    if (this.stopping !== undefined) throw new Error('the daemon is stopping');
    if (!isAbsolute(path)) throw new Error(`the record file must be an absolute path (the daemon's working directory is not yours): ${path}`);
    if (options.connection !== undefined) this.connectionNamed(options.connection);
    if (this.midRunRecord !== undefined) throw new Error(`a record is already running (${this.midRunRecord.path}): ikekm record stop first`);
    const starting = MidRunRecord.start({
      path,
      tap: this.tap,
      config: this.config.engine,
      kernelEnforcesByteLimits: this.ports.kernel.onExpire !== undefined,
      nowMs: this.ports.timers.now(),
      ...(options.connection === undefined ? {} : { connection: { name: options.connection, of: (id: string) => this.connectionOfSa(id) } }),
      onStopped: (reason) => this.log.warn({ file: path, reason }, 'recording stopped'),
    });
    const running = { path, record: starting };
    this.midRunRecord = running;
    let record: MidRunRecord;
    try {
      record = await starting;
    } catch (error) {
      if (this.midRunRecord === running) this.midRunRecord = undefined;
      throw error;
    }
    this.log.warn(
      { file: path, connection: options.connection ?? 'all', existingIkeSas: record.started.existingIkeSas },
      'recording the negotiations that begin from now on for ikekm replay: the record holds key material (DH private values, nonces), 0600',
    );
    return record.started;
  }

  /** Stops the running `record start` record and closes its file; what it holds. */
  async recordStop(): Promise<MidRunRecordSummary> {
    const running = this.midRunRecord;
    if (running === undefined) throw new Error('no record is running (ikekm record start FILE)');
    this.midRunRecord = undefined;
    // One still opening its file is stopped once open (if it opens).
    const summary = await (await running.record).stop();
    this.log.info(summary, 'record stopped');
    return summary;
  }

  /** An IKE SA's connection as the engine knows it now (a responder learns it at IKE_AUTH). */
  private connectionOfSa(id: string): { known: string } | 'pending' | 'gone' {
    const context = this.engine.ikeSaContext(id);
    if (context === undefined) return 'gone';
    return context.connection === undefined ? 'pending' : { known: context.connection };
  }

  /** Followers of the engine's journal now (tests: attached only while someone follows). */
  get journalFollowers(): number {
    return this.tap.followers;
  }

  private startConnections(names: readonly string[]): void {
    for (const name of names) {
      const connection = this.config.engine.connections.find((c) => c.name === name);
      // on-demand waits for traffic (OnDemandTraps installs its traps); listen only answers.
      if (connection?.start !== 'on-load') continue;
      this.log.info({ connection: name }, 'starting connection (start: on-load)');
      this.keeper.start(name);
    }
  }

  private connectionNamed(name: string, options: { allowRemoved?: boolean } = {}): void {
    if (this.config.engine.connections.some((c) => c.name === name)) return;
    if (options.allowRemoved && this.engine.statusOfConnection(name).length > 0) return;
    const defined = this.config.engine.connections.map((c) => c.name);
    throw new Error(`no connection named '${name}'; defined: ${defined.length === 0 ? 'none' : defined.join(', ')}`);
  }

  /**
   * Runs `act` (which returns the IKE SA id concerned) and waits for the first event `done`
   * accepts. Events raised while `act` runs (a synchronous failure) are not lost.
   */
  private command(act: () => string, done: (event: SaEvent, ikeSaId: string) => boolean): { id: string; outcome: Promise<SaEvent> } {
    const early: DaemonEvent[] = [];
    const buffering = this.events$.subscribe((e) => early.push(e));
    let id: string;
    try {
      id = act();
    } finally {
      buffering.unsubscribe();
    }
    const outcome = firstValueFrom(
      concat(from(early), this.events$).pipe(
        filter((e): e is SaEvent => isSaEvent(e) && done(e, id)),
        timeout({ first: COMMAND_TIMEOUT_MS, with: () => { throw new Error(`no outcome within ${COMMAND_TIMEOUT_MS / 1000} s (the SA keeps trying; see ikekm status)`); } }),
      ),
    ).catch((error: unknown) => {
      throw error instanceof Error && error.name === 'EmptyError' ? new Error('the daemon is stopping') : error;
    });
    return { id, outcome };
  }

  /** Those of `ids` still present for the user (not lingering after their Delete, not closed). */
  private liveIds(ids: readonly string[]): Set<string> {
    const live = new Set<string>();
    this.addLive(live, ids);
    return live;
  }

  /** Adds those of `ids` that are live to `live`; how many it has then. */
  private addLive(live: Set<string>, ids: readonly string[]): number {
    for (const id of ids) if (this.isLiveId(id)) live.add(id);
    return live.size;
  }

  /** Drops from `live` the SAs that are gone since; how many are left. Looks at those only, not at the table. */
  private stillLive(live: Set<string>): number {
    for (const id of live) if (!this.isLiveId(id)) live.delete(id);
    return live.size;
  }

  private isLiveId(id: string): boolean {
    const state = this.engine.stateOf(id);
    return state !== undefined && ikeStateName(state) !== undefined;
  }

  private waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return pollUntil(condition, { timeoutMs, intervalMs: POLL_MS, costFactor: POLL_COST_FACTOR }, POLL_CLOCK);
  }

  private onSaEvent(event: SaEvent): void {
    this.onDemand.onSaEvent(event);
    this.keeper.onSaEvent(event);
    if (this.stopping === undefined) this.keepaliveSync.onSaEvent(event);
    if (event.kind === 'ike-sa-failed' || event.kind === 'child-sa-failed') {
      const explanation = explainRefusal(event, this.config.engine.connections.find((c) => c.name === event.connection));
      if (explanation !== undefined) this.log.warn(explanation.fields, explanation.message);
    }
    this.emit(event);
  }

  private emit(event: DaemonEvent): void {
    this.subject.next(event);
  }
}

function isSaEvent(event: DaemonEvent): event is SaEvent {
  return event.kind !== 'reloaded' && event.kind !== 'reload-failed' && event.kind !== 'stopping';
}

function failureText(event: SaEvent): string {
  switch (event.kind) {
    case 'ike-sa-failed':
    case 'child-sa-failed':
      return `${event.reason}${event.notify === undefined ? '' : ` (${event.notify})`}`;
    case 'ike-sa-down':
    case 'child-sa-down':
      return event.reason;
    default:
      return event.kind;
  }
}
