/**
 * `start: on-demand` (strongSwan's `start_action = trap`): the daemon installs a trap for each of
 * the connection's selector pairs, the kernel raises an acquire when outbound traffic hits one,
 * and the daemon initiates the connection. The traps stay while the connection is configured, so
 * after the SA is gone (`ikekm down`, expiry, a Delete from the peer) the next packet brings it
 * back; they go when the connection is removed, changed (re-installed from the new version) or
 * the daemon stops.
 *
 * Acquire storms: every packet the kernel holds can raise an acquire (XFRM damps that with its
 * larval SA for xfrm_acq_expires, the memory kernel does not at all). As strongSwan's trap
 * manager does, an acquire for a connection whose attempt is still pending is ignored; after a
 * failed attempt, acquires are ignored for a hold time as well, so a dead peer is not hammered
 * with an IKE_SA_INIT per packet.
 *
 * RFC 7296 2.9 lets the initiator put the triggering packet's addresses first in TSi/TSr so the
 * responder can narrow to them (strongSwan does): the acquire's packet goes to the engine
 * (`initiate(name, { packet })`), which offers its selectors first and the configured ones after.
 */
import type { ConnectionConfig } from '../config/model.js';
import type { SaEvent } from '../engine/engine-ports.js';
import type { IkeEngine, IkeSaStatus } from '../engine/ike-engine.js';
import { connectionSelectors } from '../ikev2/exchanges/connection-policy.js';
import { formatSelector, type Selector } from '../policy/traffic-selectors.js';
import { isKernelError } from '../kernel/kernel-error.js';
import type { ConnectionReqids } from '../kernel/connection-reqids.js';
import type { KernelAcquire, KernelTrap, KernelTrapPort, TrafficSelectorRange } from '../kernel/kernel-port.js';
import type { LogPort } from '../ports.js';
import { ikeStateName } from './status-snapshot.js';

/** One trapped connection in the status JSON (README "Status JSON", `traps[]`). */
export interface TrapStatusJson {
  readonly connection: string;
  /** The template's reqid (the acquire carries it back). */
  readonly reqid: number;
  /** The configured selectors the trap covers, formatted as in `childSas[].localTs`. */
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  /** Acquires received for this trap since it was installed (ignored ones included). */
  readonly acquires: number;
  /** Since the last acquire; null before the first. */
  readonly lastAcquireSeconds: number | null;
  /** An acquire's connection attempt is under way: further acquires are ignored until it ends. */
  readonly pending: boolean;
}

export interface OnDemandOptions {
  readonly kernel: KernelTrapPort;
  readonly engine: Pick<IkeEngine, 'initiate' | 'createChildSa' | 'statusOfConnection' | 'statusOf'>;
  readonly log: LogPort;
  readonly now: () => number;
  /** After a failed attempt, acquires for the connection are ignored this long. */
  readonly holdAfterFailureMs: number;
  /** The connections' reqids, shared with the engine: a trap and the Child SA it brings up share one. */
  readonly reqids: ConnectionReqids;
}

/** Default hold after a failed on-demand attempt. */
export const DEFAULT_ACQUIRE_HOLD_MS = 10_000;

interface TrapEntry {
  readonly connection: string;
  readonly reqid: number;
  readonly traps: KernelTrap[];
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  acquires: number;
  lastAcquireAtMs: number | undefined;
  /** The IKE SA whose first (or next) Child SA an acquire asked for. */
  pendingIkeSa: string | undefined;
  holdUntilMs: number;
}

const range = (s: Selector): TrafficSelectorRange => ({ ipProtocol: s.ipProtocol, startPort: s.startPort, endPort: s.endPort, startAddress: s.startAddress, endAddress: s.endAddress });

/** One trap per local × remote selector pair of one family, as the Child SA's policies would be. */
export function trapsOf(connection: ConnectionConfig, reqid: number): KernelTrap[] {
  const selectors = connectionSelectors(connection);
  const traps: KernelTrap[] = [];
  for (const local of selectors.local) {
    for (const remote of selectors.remote) {
      if (local.family !== remote.family) continue;
      traps.push({
        connection: connection.name,
        local: range(local),
        remote: range(remote),
        mode: connection.dataPolicy.mode,
        tunnelSource: connection.local.address,
        tunnelDestination: connection.remote.address,
        reqid,
      });
    }
  }
  return traps;
}

export class OnDemandTraps {
  private readonly entries = new Map<string, TrapEntry>();
  /** Kernel calls of successive reloads run in order. */
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly stopListening: () => void;

  constructor(private readonly options: OnDemandOptions) {
    this.stopListening = options.kernel.onAcquire((acquire) => this.onAcquire(acquire));
  }

  /**
   * Brings the installed traps in line with `connections`: traps of connections that are gone,
   * no longer on-demand, or listed in `reinstall` (changed by a reload) are deleted; on-demand
   * connections without traps get them. Resolves when the kernel calls are done.
   */
  apply(connections: readonly ConnectionConfig[], reinstall: readonly string[] = []): Promise<void> {
    const wanted = new Map(connections.filter((c) => c.start === 'on-demand').map((c) => [c.name, c]));
    const removing: TrapEntry[] = [];
    for (const entry of this.entries.values()) {
      if (!wanted.has(entry.connection) || reinstall.includes(entry.connection)) removing.push(entry);
    }
    // The table changes at once, the kernel in order behind it: an acquire arriving meanwhile for
    // a removed connection is not ours any more, and a reload right behind this one sees what
    // this one is installing.
    for (const entry of removing) this.entries.delete(entry.connection);
    const adding: { connection: ConnectionConfig; entry: TrapEntry }[] = [];
    for (const connection of wanted.values()) {
      if (this.entries.has(connection.name)) continue;
      const entry = this.newEntry(connection);
      this.entries.set(connection.name, entry);
      adding.push({ connection, entry });
    }
    const run = async (): Promise<void> => {
      for (const entry of removing) await this.uninstall(entry, 'connection removed or changed');
      for (const { connection, entry } of adding) await this.install(connection, entry);
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  /** Resolves when every kernel call queued so far is done. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Deletes every trap (shutdown: a trap left in a real kernel would hold the traffic). */
  async stop(): Promise<void> {
    if (this.stopped) return this.queue;
    this.stopped = true;
    this.stopListening();
    const all = [...this.entries.values()];
    this.entries.clear();
    const run = async (): Promise<void> => {
      for (const entry of all) await this.uninstall(entry, 'daemon stopping');
    };
    this.queue = this.queue.then(run, run);
    return this.queue;
  }

  status(nowMs: number): TrapStatusJson[] {
    return [...this.entries.values()].map((e) => ({
      connection: e.connection,
      reqid: e.reqid,
      localTs: e.localTs,
      remoteTs: e.remoteTs,
      acquires: e.acquires,
      lastAcquireSeconds: e.lastAcquireAtMs === undefined ? null : Math.max(0, Math.floor((nowMs - e.lastAcquireAtMs) / 1000)),
      pending: e.pendingIkeSa !== undefined,
    }));
  }

  /** Ends a pending attempt on its outcome; a failure starts the hold time. */
  onSaEvent(event: SaEvent): void {
    for (const entry of this.entries.values()) {
      const id = entry.pendingIkeSa;
      if (id === undefined) continue;
      const succeeded = event.kind === 'child-sa-up' && event.ikeSa === id;
      const failed =
        (event.kind === 'child-sa-failed' && event.ikeSa === id) ||
        ((event.kind === 'ike-sa-failed' || event.kind === 'ike-sa-down') && event.id === id);
      // An IKE SA rekeyed before its Child SA came up hands the attempt to its successor.
      if (event.kind === 'ike-sa-rekeyed' && event.id === id) entry.pendingIkeSa = event.newId;
      if (succeeded) entry.pendingIkeSa = undefined;
      if (failed) {
        entry.pendingIkeSa = undefined;
        entry.holdUntilMs = this.options.now() + this.options.holdAfterFailureMs;
        this.options.log.info({ connection: entry.connection, holdMs: this.options.holdAfterFailureMs }, 'on-demand attempt failed: acquires ignored for the hold time');
      }
    }
  }

  private newEntry(connection: ConnectionConfig): TrapEntry {
    const selectors = connectionSelectors(connection);
    return {
      connection: connection.name,
      reqid: this.options.reqids.of(connection.name),
      traps: [],
      localTs: selectors.local.map(formatSelector),
      remoteTs: selectors.remote.map(formatSelector),
      acquires: 0,
      lastAcquireAtMs: undefined,
      pendingIkeSa: undefined,
      holdUntilMs: 0,
    };
  }

  /** Fills `entry.traps` with those the kernel took; a later uninstall deletes exactly those. */
  private async install(connection: ConnectionConfig, entry: TrapEntry): Promise<void> {
    const { log, kernel } = this.options;
    for (const trap of trapsOf(connection, entry.reqid)) {
      // stop() (queued behind this) deletes what is installed by then.
      if (this.stopped) return;
      try {
        await kernel.installTrap(trap);
        entry.traps.push(trap);
      } catch (error) {
        // Another connection traps the same selectors (XFRM has one policy per selector): the
        // first one configured keeps them.
        log.error(
          { connection: connection.name, local: trap.local, remote: trap.remote, code: isKernelError(error) ? error.code : undefined, reason: (error as Error).message },
          'trap not installed: on-demand traffic for these selectors will not start this connection',
        );
      }
    }
    log.info({ connection: connection.name, reqid: entry.reqid, localTs: entry.localTs, remoteTs: entry.remoteTs, traps: entry.traps.length }, 'trap installed (start: on-demand)');
  }

  private async uninstall(entry: TrapEntry, reason: string): Promise<void> {
    for (const trap of entry.traps) {
      await this.options.kernel.deleteTrap(trap).catch((error: unknown) => {
        if (!isKernelError(error, 'not-found')) this.options.log.warn({ connection: entry.connection, reason: (error as Error).message }, 'trap not deleted');
      });
    }
    this.options.log.info({ connection: entry.connection, reason }, 'trap removed');
  }

  private onAcquire(acquire: KernelAcquire): void {
    const { log, engine, now } = this.options;
    const entry = this.entries.get(acquire.connection);
    const fields = { connection: acquire.connection, reqid: acquire.reqid, packet: acquire.packet };
    if (this.stopped || entry === undefined || entry.reqid !== acquire.reqid) {
      log.debug(fields, 'acquire ignored: no trap of this daemon for it');
      return;
    }
    const atMs = now();
    entry.acquires += 1;
    entry.lastAcquireAtMs = atMs;
    if (entry.pendingIkeSa !== undefined) {
      log.debug({ ...fields, ikeSa: entry.pendingIkeSa }, 'acquire ignored: connection attempt pending');
      return;
    }
    if (atMs < entry.holdUntilMs) {
      log.debug({ ...fields, holdMs: entry.holdUntilMs - atMs }, 'acquire ignored: holding after a failed attempt');
      return;
    }
    const sas = engine.statusOfConnection(acquire.connection);
    const state = (sa: IkeSaStatus) => ikeStateName(sa.state);
    if (sas.some((sa) => state(sa) === 'CONNECTING')) {
      log.debug(fields, 'acquire ignored: an IKE SA for the connection is being set up');
      return;
    }
    const established = sas.filter((sa) => state(sa) === 'ESTABLISHED');
    if (established.some((sa) => sa.children.length > 0)) {
      // The SA is up; a packet still trapped falls outside what the peer narrowed to. ikekm
      // negotiates no further Child SA per such packet (the peer chose what it accepts).
      log.debug(fields, 'acquire ignored: the connection is up');
      return;
    }
    try {
      const idle = established[0];
      if (idle !== undefined) {
        // An IKE SA without Child SAs (its last one deleted): strongSwan asks it for a new one
        // rather than negotiating a second IKE SA (RFC 7296 1.3 CREATE_CHILD_SA).
        engine.createChildSa(idle.id, { packet: acquire.packet });
        entry.pendingIkeSa = idle.id;
        log.info({ ...fields, ikeSa: idle.id }, 'acquire: creating a Child SA on the established IKE SA (start: on-demand)');
        return;
      }
      const id = engine.initiate(acquire.connection, { packet: acquire.packet });
      // A failure inside initiate() was reported before the id was known: no outcome will follow.
      const started = engine.statusOf(id);
      if (started === undefined || state(started) === undefined) {
        entry.holdUntilMs = atMs + this.options.holdAfterFailureMs;
        log.warn({ ...fields, ikeSa: id }, 'acquire: the connection attempt ended at once');
        return;
      }
      entry.pendingIkeSa = id;
      log.info({ ...fields, ikeSa: id }, 'acquire: initiating connection (start: on-demand)');
    } catch (error) {
      entry.holdUntilMs = atMs + this.options.holdAfterFailureMs;
      log.error({ ...fields, reason: (error as Error).message }, 'acquire: the connection could not be initiated');
    }
  }
}
