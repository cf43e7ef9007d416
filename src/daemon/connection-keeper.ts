/**
 * The restart policy (strongSwan's `dpd_action = restart`, `close_action = start`, and its retries
 * of a failed attempt): a connection the daemon keeps up is initiated again when its IKE SA ends
 * without the user asking — the peer found dead (RFC 7296 2.4), the peer's Delete (1.4.1), its
 * hard lifetime run out (2.8) — and after a failed attempt (no answer, refused), with backoff.
 *
 * - Which connections: those started by the daemon (`start: on-load`) or by `ikekm up`, and any
 *   whose SA came up while its actions restart (model.ts restartActions: the defaults by start
 *   action, or the configured `dpdAction` / `closeAction`).
 * - Never when the user ended the SA: `ikekm down`, a reload that removed or changed the
 *   connection and the daemon's stop `release` it first, and the IKE SA reports those ends as
 *   `local` anyway.
 * - One attempt per connection at a time, and none while the connection has an IKE SA that is
 *   being set up or established (the peer may have come back to us first).
 * - Backoff: the first attempt after a loss goes at once; each failed attempt doubles the wait
 *   from `initialMs` up to `maxMs`, shortened by a random jitter (RandomPort) so many gateways
 *   that lost the same peer do not return in step; an established Child SA resets it. Two
 *   attempts are never closer than `initialMs`, so a peer that deletes every new SA at once gets
 *   no storm either.
 * - Time comes from the injected RxJS scheduler (the daemon's, or a virtual one in tests).
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import { restartActions, type ConnectionConfig } from '../config/model.js';
import type { SaEvent } from '../engine/engine-ports.js';
import type { IkeEngine, IkeSaStatus } from '../engine/ike-engine.js';
import type { LogPort, RandomPort } from '../ports.js';
import { ikeStateName } from './status-snapshot.js';

export interface RestartBackoff {
  /** The wait after the first failed attempt, and the least time between two attempts. */
  readonly initialMs: number;
  /** The longest wait. */
  readonly maxMs: number;
  /** Up to this fraction of a wait is taken off at random. */
  readonly jitter: number;
}

/** 5 s doubling to 5 min, up to 20 % shorter at random. */
export const DEFAULT_RESTART_BACKOFF: RestartBackoff = Object.freeze({ initialMs: 5_000, maxMs: 300_000, jitter: 0.2 });

export interface ConnectionKeeperOptions {
  readonly engine: Pick<IkeEngine, 'initiate' | 'statusOfConnection' | 'statusOf'>;
  /** The connection as configured now (undefined once a reload removed it). */
  readonly connection: (name: string) => ConnectionConfig | undefined;
  readonly scheduler: SchedulerLike;
  readonly random: RandomPort;
  readonly log: LogPort;
  readonly backoff?: RestartBackoff;
}

interface Kept {
  /** The IKE SA of our attempt under way. */
  pending: string | undefined;
  /** The next attempt, when one is scheduled. */
  retry: { readonly atMs: number; readonly subscription: Subscription } | undefined;
  /** Failed attempts since the last established Child SA. */
  failures: number;
  lastAttemptAtMs: number | undefined;
}

/** A connection's restart state for `ikekm status` (README "Status JSON", `restarts[]`). */
export interface RestartStatusJson {
  readonly connection: string;
  /** Failed attempts since the connection was last up. */
  readonly failures: number;
  /** Until the next attempt; null when none is scheduled. */
  readonly nextAttemptSeconds: number | null;
  /** An attempt is under way. */
  readonly pending: boolean;
}

/** Our Delete of the IKE SA is under way (RFC 7296 1.4.1): it serves the connection no more. */
function isBeingDeleted(sa: IkeSaStatus): boolean {
  const value = sa.stateValue;
  if (typeof value !== 'object') return false;
  const established = (value as { established?: { window?: unknown } }).established;
  return typeof established === 'object' && established !== null && established.window === 'deletingIke';
}

export class ConnectionKeeper {
  private readonly kept = new Map<string, Kept>();
  private readonly backoff: RestartBackoff;
  private stopped = false;

  constructor(private readonly options: ConnectionKeeperOptions) {
    this.backoff = options.backoff ?? DEFAULT_RESTART_BACKOFF;
  }

  /** `start: on-load` (at start or reload): initiate now and keep the connection up. */
  start(name: string): void {
    if (this.stopped) return;
    const entry = this.entry(name);
    this.cancelRetry(entry);
    entry.pending = undefined;
    this.attempt(name, false);
  }

  /** `ikekm up` initiated `id` itself: it is the connection's attempt; no other starts meanwhile. */
  adopt(name: string, id: string): void {
    if (this.stopped) return;
    const entry = this.entry(name);
    this.cancelRetry(entry);
    entry.pending = id;
    entry.lastAttemptAtMs = this.options.scheduler.now();
  }

  /** The user ends the connection (`ikekm down`, removed or changed by a reload): no more restarts. */
  release(name: string, why: string): void {
    const entry = this.kept.get(name);
    if (entry === undefined) return;
    this.cancelRetry(entry);
    this.kept.delete(name);
    this.options.log.debug({ connection: name, why }, 'connection no longer kept up');
  }

  /** Shutdown: nothing is initiated any more. */
  stop(): void {
    this.stopped = true;
    for (const entry of this.kept.values()) this.cancelRetry(entry);
    this.kept.clear();
  }

  status(): RestartStatusJson[] {
    const now = this.options.scheduler.now();
    return [...this.kept.entries()]
      .filter(([, e]) => e.failures > 0 || e.retry !== undefined)
      .map(([connection, e]) => ({
        connection,
        failures: e.failures,
        nextAttemptSeconds: e.retry === undefined ? null : Math.max(0, Math.ceil((e.retry.atMs - now) / 1000)),
        pending: e.pending !== undefined,
      }));
  }

  /** When the next attempt for `name` is due (undefined: none scheduled). */
  nextAttemptAtMs(name: string): number | undefined {
    return this.kept.get(name)?.retry?.atMs;
  }

  onSaEvent(event: SaEvent): void {
    if (this.stopped) return;
    const name = event.connection;
    let entry = this.kept.get(name);
    if (entry === undefined) {
      // An SA that came up (the peer's, or after `ikekm down` and a new `up`) is kept when its
      // connection's actions restart it.
      if (event.kind !== 'ike-sa-up' || !this.restarts(name)) return;
      entry = this.entry(name);
    }
    switch (event.kind) {
      case 'ike-sa-up':
        // Up by whoever initiated: a scheduled attempt is not needed any more.
        this.cancelRetry(entry);
        return;
      case 'ike-sa-rekeyed':
        if (entry.pending === event.id) entry.pending = event.newId;
        return;
      case 'child-sa-up':
        if (entry.pending === event.ikeSa) entry.pending = undefined;
        if (entry.failures > 0) this.options.log.info({ connection: name, failures: entry.failures }, 'connection up again: restart backoff reset');
        entry.failures = 0;
        this.cancelRetry(entry);
        return;
      case 'child-sa-failed':
        // The IKE SA stays (RFC 7296 2.21.3): the attempt is over; a second IKE SA would not help.
        if (entry.pending === event.ikeSa) entry.pending = undefined;
        return;
      case 'child-sa-down':
        return;
      case 'ike-sa-failed':
        if (entry.pending !== event.id) return;
        entry.pending = undefined;
        this.failed(name, entry, `${event.reason}${event.notify === undefined ? '' : ` (${event.notify})`}`);
        return;
      case 'ike-sa-down':
        this.ended(name, entry, event);
        return;
    }
  }

  private ended(name: string, entry: Kept, event: Extract<SaEvent, { kind: 'ike-sa-down' }>): void {
    const wasPending = entry.pending === event.id;
    if (wasPending) entry.pending = undefined;
    const connection = this.options.connection(name);
    if (connection === undefined) return;
    const actions = restartActions(connection);
    switch (event.cause) {
      case 'local':
      case 'rekeyed':
        return;
      case 'peer-rejected':
      case 'internal-error':
        // As a failed attempt: again after the backoff, so a fault that recurs is no storm.
        this.failed(name, entry, event.reason);
        return;
      case 'peer-dead':
        if (actions.dpd !== 'restart') return;
        this.restart(name, entry, `the peer is dead (${event.reason}): dpdAction restart`, event.id);
        return;
      case 'peer-deleted':
      case 'expired':
        if (actions.close !== 'start') return;
        this.restart(name, entry, `${event.reason}: closeAction start`, event.id);
        return;
    }
  }

  /** The SA is gone; the next attempt goes at once (unless attempts are already failing). */
  private restart(name: string, entry: Kept, why: string, goneId: string): void {
    if (entry.retry !== undefined || entry.pending !== undefined) return;
    if (this.served(name, goneId)) return;
    const delayMs = entry.failures === 0 ? 0 : this.waitAfter(entry.failures);
    this.schedule(name, entry, delayMs, why);
  }

  private failed(name: string, entry: Kept, reason: string): void {
    entry.failures += 1;
    const connection = this.options.connection(name);
    if (connection === undefined || !this.restarts(name)) return;
    if (entry.retry !== undefined) return;
    this.schedule(name, entry, this.waitAfter(entry.failures), `attempt failed: ${reason}`);
  }

  /** The wait after `failures` failed attempts: initial × 2^(failures−1), capped, less jitter. */
  private waitAfter(failures: number): number {
    const { initialMs, maxMs, jitter } = this.backoff;
    const full = Math.min(maxMs, initialMs * 2 ** Math.min(failures - 1, 30));
    const fraction = this.options.random(4).readUInt32BE(0) / 0x1_0000_0000;
    return Math.round(full * (1 - jitter * fraction));
  }

  private schedule(name: string, entry: Kept, delayMs: number, why: string): void {
    const now = this.options.scheduler.now();
    // Two attempts are never closer than initialMs.
    const earliest = entry.lastAttemptAtMs === undefined ? now : entry.lastAttemptAtMs + this.backoff.initialMs;
    const atMs = Math.max(now + delayMs, earliest);
    const subscription = this.options.scheduler.schedule(() => this.attempt(name, true), atMs - now);
    entry.retry = { atMs, subscription };
    const fields = { connection: name, inMs: atMs - now, failures: entry.failures, reason: why };
    if (atMs > now) this.options.log.info(fields, 'connection will be initiated again');
    else this.options.log.debug(fields, 'connection initiated again');
  }

  /** Initiates the connection unless it is served already; `again`: by the restart policy (not its start). */
  private attempt(name: string, again: boolean): void {
    const entry = this.kept.get(name);
    if (this.stopped || entry === undefined) return;
    this.cancelRetry(entry);
    const { engine, log } = this.options;
    if (this.options.connection(name) === undefined) {
      this.kept.delete(name);
      return;
    }
    // A restart is not needed when the connection is up again (the peer came back to us first);
    // the start always initiates (a reload's changed connection still has its old SA, leaving).
    if (entry.pending !== undefined || (again && this.served(name))) return;
    entry.lastAttemptAtMs = this.options.scheduler.now();
    try {
      const id = engine.initiate(name);
      // A failure inside initiate() was reported before the id was known.
      const started = engine.statusOf(id);
      if (started === undefined || ikeStateName(started.state) === undefined) {
        this.failed(name, entry, 'the attempt ended at once');
        return;
      }
      entry.pending = id;
      if (again) log.info({ connection: name, ikeSa: id, failures: entry.failures }, 'initiating connection again (restart policy)');
    } catch (error) {
      log.error({ connection: name, reason: (error as Error).message }, 'connection could not be initiated');
      this.failed(name, entry, (error as Error).message);
    }
  }

  /** The connection has an IKE SA being set up or established, and not being deleted (other than `except`). */
  private served(name: string, except?: string): boolean {
    return this.options.engine.statusOfConnection(name).some((sa) => {
      if (sa.id === except) return false;
      const state = ikeStateName(sa.state);
      return state === 'CONNECTING' || (state === 'ESTABLISHED' && !isBeingDeleted(sa));
    });
  }

  private restarts(name: string): boolean {
    const connection = this.options.connection(name);
    if (connection === undefined) return false;
    const actions = restartActions(connection);
    return actions.dpd === 'restart' || actions.close === 'start';
  }

  private entry(name: string): Kept {
    let entry = this.kept.get(name);
    if (entry === undefined) {
      entry = { pending: undefined, retry: undefined, failures: 0, lastAttemptAtMs: undefined };
      this.kept.set(name, entry);
    }
    return entry;
  }

  private cancelRetry(entry: Kept): void {
    entry.retry?.subscription.unsubscribe();
    entry.retry = undefined;
  }
}
