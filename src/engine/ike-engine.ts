/**
 * The IKEv2 engine: a supervisor actor with its IKE SA and Child SA actors, behind a small API a
 * daemon, the demo or a test wires to real or virtual ports.
 *
 *     const timers = createTimerService({ scheduler, deliver: (owner, e) => engine.deliverTimer(owner, e) });
 *     const engine = createIkeEngine({ config, ports: { network, timers, clock: timers, log, random, kernel, registry } });
 *     transport.on('datagram', (d) => engine.receive(d));
 *     engine.initiate('to-hq');
 *
 * The machines read the clock, randomness, the crypto registry and the configuration; everything
 * they do to the world leaves them as effects, which the effect interpreter (effect-interpreter.ts)
 * carries out over those ports: datagrams, timers, the kernel, SPI allocation, the log, SA events
 * (`onEvent`) and the key log. Timer events and the answers of effects come back through
 * `deliverTimer` to the actor that armed or asked.
 */
import { createActor, type Actor, type AnyActorRef, type InspectionEvent } from 'xstate';
import type { ConnectionConfig, EngineConfig } from '../config/model.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import { ConnectionReqids } from '../kernel/connection-reqids.js';
import type { KernelPort } from '../kernel/kernel-port.js';
import type { ClockPort, Datagram, LoadPort, LogPort, NetworkPort, RandomPort, TimerEvent, TimerPort } from '../ports.js';
import { formatSelector } from '../policy/traffic-selectors.js';
import { isAnyAddress } from '../ikev2/exchanges/connection-policy.js';
import type { IkeTransformIds, ChildTransformIds } from '../ikev2/ike-sa-session.js';
import { espSpiHex, espSpiNumber, ikeSpiHex, parseEspSpiHex } from '../wire/index.js';
import type { EffectAnswer, KernelExpire, SaEvent } from '../../machines/effects.js';
import { createIkeSaLogic } from '../../machines/ikev2/ike-sa.js';
import type { ChildRecord, IkeSaContext, IkeSaEvent } from '../../machines/ikev2/ike-sa-context.js';
import { ikeSaActorId } from '../../machines/ikev2/ike-sa-id.js';
import type { ConfigSource, MachinePorts } from '../../machines/ports.js';
import { createSupervisorLogic } from '../../machines/supervisor/supervisor.js';
import type { SupervisorContext, SupervisorCounters, SupervisorEvent } from '../../machines/supervisor/supervisor-context.js';
import { LOG_SUMMARY_OWNER, createEffectInterpreter } from './effect-interpreter.js';
import { triggerSelectors } from './trigger-packet.js';
import { childSaUsage, readUsageTable, type ChildSaUsage } from './child-sa-usage.js';
import type { CredentialPort, IkeKeylogPort, SpiAllocator } from './engine-ports.js';
import { configCredentials, type Signer } from './config-credentials.js';
import type { EngineCommand, EngineJournal, InitiateOptions, JournalInput } from './engine-journal.js';
import { journaledPorts } from './journaled-ports.js';
import { unpooledCopy } from '../wire/unpooled.js';

export type { SaEvent, InitiateOptions, ChildSaUsage };

export interface IkeEngineOptions {
  readonly config: EngineConfig;
  readonly ports: {
    readonly network: NetworkPort;
    readonly timers: TimerPort;
    readonly clock: ClockPort;
    readonly log: LogPort;
    readonly random: RandomPort;
    readonly kernel: KernelPort;
    readonly registry: CryptoRegistry;
    /** How busy the process is; default never busy (tests, replay: admission then ignores load). */
    readonly load?: LoadPort;
    /** Signing and certificate checks; default the configuration's keys and trust (config-credentials.ts). */
    readonly credentials?: CredentialPort;
    /**
     * Where the default credentials make AUTH signatures with the configuration's keys (the
     * daemon: worker threads, signing-workers.ts); default synchronously here.
     */
    readonly signer?: Signer;
  };
  /** Every SA event (up, down, rekeyed, failed), for `ikekm watch`, counters and tests. */
  readonly onEvent?: (event: SaEvent) => void;
  /** Keys of every established IKE SA for Wireshark's ikev2_decryption_table (Ikev2KeylogWriter). */
  readonly keylog?: IkeKeylogPort;
  /** XState inspection of every actor (filter it: 100k SAs produce a lot). */
  readonly inspect?: (event: InspectionEvent) => void;
  /** The connections' kernel reqids, when the caller shares the table (the daemon's traps). */
  readonly reqids?: ConnectionReqids;
  /** Everything the machines take and send, for a record to replay (engine-journal.ts). */
  readonly journal?: EngineJournal;
}

export interface ChildSaStatus {
  readonly inboundSpi: string;
  readonly outboundSpi: string;
  readonly state: string;
  readonly mode: 'tunnel' | 'transport';
  readonly transforms: ChildTransformIds;
  readonly localTs: readonly string[];
  readonly remoteTs: readonly string[];
  readonly rekeyAtMs: number | undefined;
  readonly expireAtMs: number | undefined;
  /** When its ESP SAs were in the kernel (a rekey's new SA has its own); undefined until then. */
  readonly establishedAtMs: number | undefined;
}

export interface ChildSaStatusWithUsage extends ChildSaStatus {
  /** undefined when the kernel knows neither ESP SA (not installed yet, or already removed). */
  readonly usage: ChildSaUsage | undefined;
}

export interface IkeSaStatusWithUsage extends Omit<IkeSaStatus, 'children'> {
  readonly children: readonly ChildSaStatusWithUsage[];
}

export interface IkeSaStatus {
  readonly id: string;
  readonly connection: string | undefined;
  /**
   * The machine's top-level state: `established`, `closing`, `lingering` (deleted by the peer,
   * reported down; kept only to answer a retransmitted Delete from its cache), handshake states.
   */
  readonly state: string;
  /** The whole state value, procedures included (e.g. `{ established: { window: 'rekeyingChild', ... } }`). */
  readonly stateValue: string | Readonly<Record<string, unknown>>;
  readonly role: 'initiator' | 'responder';
  readonly spiI: string;
  readonly spiR: string;
  readonly local: string;
  readonly remote: string;
  readonly peerId: string | undefined;
  /** NAT detection (RFC 7296 2.23): the daemon starts NAT-T keepalives when localBehindNat. */
  readonly nat: { readonly localBehindNat: boolean; readonly remoteBehindNat: boolean };
  readonly transforms: IkeTransformIds | undefined;
  readonly establishedAtMs: number | undefined;
  readonly rekeyAtMs: number | undefined;
  readonly expireAtMs: number | undefined;
  readonly counters: IkeSaContext['counters'];
  readonly children: readonly ChildSaStatus[];
}

export interface IkeEngine {
  /** An IKE datagram from the transport (non-ESP marker already stripped). */
  receive(datagram: Datagram): void;
  /**
   * Starts an IKE SA (and its first Child SA) for a configured connection; returns the IKE SA id.
   * With `packet` (what an on-demand trap caught), the first Child SA's TSi/TSr start with that
   * packet's selectors, then the configured ones (RFC 7296 2.9).
   */
  initiate(connection: string, options?: InitiateOptions): string;
  /** Deletes the IKE SAs of a connection (or one IKE SA by id) at the peer, then locally. */
  terminate(target: { connection: string } | { id: string }, reason?: string): void;
  /**
   * Deletes every IKE SA at its peer (the daemon's SIGTERM): poll `size()` until 0 or a
   * deadline, then `stop()`.
   */
  terminateAll(reason?: string): void;
  rekeyIkeSa(id: string): void;
  /** Rekeys one Child SA (by our inbound SPI as hex) or all of an IKE SA. */
  rekeyChildSa(id: string, inboundSpi?: string): void;
  /** A new Child SA on an established IKE SA; `packet` as for `initiate`. */
  createChildSa(id: string, options?: InitiateOptions): void;
  /** Deletes one Child SA (our inbound SPI as hex) at the peer and locally. */
  deleteChildSa(id: string, inboundSpi: string): void;
  /** Hands a due timer event to its owner (the TimerPort's `deliver`). */
  deliverTimer(owner: string, event: TimerEvent): void;
  status(): IkeSaStatus[];
  /** One IKE SA's status, as status() would list it (undefined when it is gone): no scan of the others. */
  statusOf(id: string): IkeSaStatus | undefined;
  /**
   * The IKE SAs of one connection, as status() would list them: from an index of the table by
   * connection (a responder's is known once IKE_AUTH chose it), no scan of the other SAs.
   */
  statusOfConnection(connection: string): IkeSaStatus[];
  /**
   * The ids of the IKE SAs in the table (all, or one connection's from the index), for a caller
   * that follows a few of them with `stateOf`. Some may be ones status() leaves out.
   */
  ikeSaIds(connection?: string): string[];
  /** One IKE SA's top-level state as status() lists it (`state`); undefined when status() would not list it. Builds nothing. */
  stateOf(id: string): string | undefined;
  /** `status()` plus each Child SA's byte and packet counters and last use, read from the KernelPort now. */
  statusWithUsage(): Promise<IkeSaStatusWithUsage[]>;
  /**
   * statusWithUsage() one IKE SA at a time: each status is handed to `visit` as it is made and
   * not kept, so a caller that writes it out (the daemon's status JSON) holds one SA's objects
   * at a time rather than the whole table's. Every STATUS_SAS_PER_TURN SAs it lets the event loop
   * run (datagrams, timers, the socket the status goes out on): a status of 100 000 SAs takes
   * seconds. Resolves when every SA was visited.
   */
  forEachStatusWithUsage(visit: (sa: IkeSaStatusWithUsage) => void): Promise<void>;
  /**
   * The machine context of one IKE SA, keys included (redacted in JSON): for tests and the
   * inspector; never log it as a whole.
   */
  ikeSaContext(id: string): IkeSaContext | undefined;
  /** IKE SAs in the table (cheap; for large-scale tests). */
  size(): number;
  counters(): SupervisorCounters;
  /**
   * Inbound Child SA SPIs the engine drew and has not released (equals the live Child SAs when
   * idle); 0 with a kernel that hands out the SPIs itself.
   */
  childSpisInUse(): number;
  /** Responder IKE SAs that have not completed IKE_AUTH (RFC 7296 2.6 half-open). */
  halfOpen(): number;
  /**
   * From now on no new IKE SA: IKE_SA_INIT requests are dropped unanswered, `initiate` throws, an
   * IKE SA a peer's rekey creates is deleted at once. The daemon calls it first when it stops,
   * so that a peer re-initiating at once after our Delete is left with nothing. Not undone.
   */
  refuseNewSas(): void;
  /** Replaces the configuration (new connections become usable; running SAs are left alone). */
  reload(config: EngineConfig): void;
  /**
   * Journals everything the machines take and send to `journal` from now on (engine-journal.ts),
   * beside the creation-time `journal` and any other attached one, until the returned function is
   * called (idempotent). Before anything else it gets one `state` for every live IKE SA and Child
   * SA actor, with its current value: a journal that joins late knows where each actor stands
   * (a record made from creation gets none: there is no actor yet). While none is attached (and
   * the engine was created without a journal or an `inspect`), XState does no inspection work.
   */
  attachJournal(journal: EngineJournal): () => void;
  /**
   * Drops every SA locally (no deletes sent), cancels their timers and stops the actors; after
   * it, `receive`, `deliverTimer` and the commands do nothing (`initiate` throws). Idempotent.
   *
   * Each IKE SA is closed first, which deletes its Child SAs' ESP SAs and policies from the
   * kernel. With `leaveKernelState` they are not closed: their kernel state stays for the caller
   * to remove in bulk (the daemon at exit: its kernel backend removes everything of ikekm's when
   * it closes). Closing 100 000 SAs one by one took a minute of a daemon asked to stop.
   */
  stop(options?: { leaveKernelState?: boolean }): void;
}

/** IKE SAs a status makes between two turns of the event loop (forEachStatusWithUsage). */
const STATUS_SAS_PER_TURN = 1000;

function configSource(initial: EngineConfig, reqids: ConnectionReqids): ConfigSource & { set(config: EngineConfig): void } {
  let config = initial;
  let byName = new Map<string, ConnectionConfig>();
  const index = () => {
    byName = new Map(config.connections.map((c) => [c.name, c]));
    for (const c of config.connections) reqids.of(c.name);
  };
  index();
  return {
    current: () => config,
    connection: (name) => byName.get(name),
    reqid: (name) => reqids.of(name),
    set(next) {
      config = next;
      index();
    },
  };
}

/** An IKE SA as the status takes it: one snapshot's state value and context, its Child SA records. */
interface IkeSaView {
  readonly id: string;
  readonly value: string | Readonly<Record<string, unknown>>;
  readonly context: IkeSaContext;
  readonly records: readonly ChildRecord[];
}

function ikeSaStatus<C extends ChildSaStatus>(view: IkeSaView, children: readonly C[]): IkeSaStatus & { readonly children: readonly C[] } {
  const { id, value, context: c } = view;
  return {
    id,
    connection: c.connection,
    state: stateName(value),
    stateValue: value,
    role: c.role,
    spiI: ikeSpiHex(c.spiI),
    spiR: ikeSpiHex(c.spiR),
    local: `${c.local.address}:${c.local.port}`,
    remote: `${c.remote.address}:${c.remote.port}`,
    peerId: c.peerId,
    nat: { localBehindNat: c.nat.localBehindNat, remoteBehindNat: c.nat.remoteBehindNat },
    transforms: c.security?.transforms,
    establishedAtMs: c.establishedAtMs,
    rekeyAtMs: c.lifetime?.rekeyAtMs,
    expireAtMs: c.lifetime?.expireAtMs,
    counters: c.counters,
    children,
  };
}

/** The top-level state of a state value: `established` of `{ established: { … } }`. */
function stateName(value: string | Readonly<Record<string, unknown>>): string {
  if (typeof value === 'string') return value;
  for (const name in value) return name;
  return '';
}

/** A Child SA as status() shows it: SPIs as hex, selectors as text. */
function childStatus(r: ChildRecord): ChildSaStatus {
  return {
    inboundSpi: espSpiHex(r.params.inboundSpi),
    outboundSpi: espSpiHex(r.params.outboundSpi),
    state: r.state,
    mode: r.params.mode,
    transforms: r.params.transforms,
    localTs: r.params.localTs.map(formatSelector),
    remoteTs: r.params.remoteTs.map(formatSelector),
    rekeyAtMs: r.deadlines?.rekeyAtMs,
    expireAtMs: r.deadlines?.expireAtMs,
    establishedAtMs: r.installedAtMs,
  };
}

/** The same with the kernel's usage, added to the fresh literal rather than spread into another (a status may hold 100 000). */
function childStatusWithUsage(r: ChildRecord, usage: ChildSaUsage | undefined): ChildSaStatusWithUsage {
  const status = childStatus(r) as ChildSaStatus & { usage: ChildSaUsage | undefined };
  status.usage = usage;
  return status;
}

/** Inbound Child SA SPIs unique within the engine (a 32-bit draw collides at 100k SAs otherwise). */
export function childSpiAllocator(random: RandomPort): SpiAllocator & { readonly size: number } {
  const live = new Set<number>();
  return {
    allocate() {
      for (;;) {
        const n = espSpiNumber(random(4));
        // RFC 4303 2.1: 1..255 are reserved, 0 is never sent.
        if (n > 255 && !live.has(n)) {
          live.add(n);
          return n;
        }
      }
    },
    release: (spi) => void live.delete(spi),
    get size() {
      return live.size;
    },
  };
}

export function createIkeEngine(options: IkeEngineOptions): IkeEngine {
  const config = configSource(options.config, options.reqids ?? new ConnectionReqids());
  // The machines' clock, random draws, load and sends, journaled while a journal is attached. The
  // engine's own SPI allocator draws from the unjournaled port: its SPIs reach the machines as
  // answers, which are inputs (a replay has no allocator).
  const io = journaledPorts(options.ports, options.journal, options.inspect);
  const drawnSpis = childSpiAllocator(options.ports.random);
  const spis = options.ports.kernel.spis ?? drawnSpis;
  /** Set by `stop()`: from then on nothing is delivered to an actor. */
  let stopped = false;
  /** Set by `refuseNewSas()`. */
  let refusing = false;
  /** A timer's event or an effect's answer for the actor `owner` (gone or finished actors are not told). */
  const deliver = (owner: string, event: TimerEvent | EffectAnswer | KernelExpire): void => {
    io.enter({ kind: 'deliver', owner, event });
    if (stopped) return;
    if (owner === LOG_SUMMARY_OWNER) return effects.logSummaryTimer(event);
    const actor = supervisor.system.get(owner) as AnyActorRef | undefined;
    if (actor?.getSnapshot().status !== 'active') return;
    actor.send(event);
    // An SPI handed to an actor that threw on it (the supervisor tears that SA down) has no
    // owner any more: it goes back now.
    const after = actor.getSnapshot() as { status: string; context?: { local?: { address: string } } };
    if (event.type === 'SPI_ALLOCATED' && 'spi' in event && after.status === 'error' && after.context?.local !== undefined) {
      effects.perform({ kind: 'release-spi', spi: event.spi as number, local: after.context.local.address });
    }
  };
  const effects = createEffectInterpreter({
    network: io.network,
    timers: options.ports.timers,
    kernel: options.ports.kernel,
    log: options.ports.log,
    clock: options.ports.clock,
    registry: options.ports.registry,
    events: { report: (e) => options.onEvent?.(e) },
    keylog: options.keylog,
    spis,
    credentials: options.ports.credentials ?? configCredentials(config, options.ports.signer),
    deliver,
  });
  const ports: MachinePorts = {
    clock: io.clock,
    random: io.random,
    registry: options.ports.registry,
    config,
    effects,
    load: io.load,
    kernelEnforcesByteLimits: options.ports.kernel.onExpire !== undefined,
    refusingNewSas: () => refusing,
  };
  // The kernel's word on an installed Child SA goes to that Child SA's actor.
  const stopExpires = options.ports.kernel.onExpire?.((expire) => {
    const child = effects.childSaOf(expire.destination, expire.spi);
    if (child !== undefined) deliver(child, { type: 'KERNEL_EXPIRE', hard: expire.hard });
  });
  const ikeSaLogic = createIkeSaLogic(ports);
  const supervisorLogic = createSupervisorLogic({ ports, ikeSaLogic });
  const supervisor: Actor<typeof supervisorLogic> = createActor(supervisorLogic, {
    systemId: 'supervisor',
    ...(io.inspect === undefined ? {} : { inspect: io.inspect }),
  });
  supervisor.start();
  const context = (): SupervisorContext => supervisor.getSnapshot().context;
  const toSupervisor = (event: SupervisorEvent): void => {
    if (!stopped) supervisor.send(event);
  };
  const send = (id: string, event: IkeSaEvent): void => toSupervisor({ type: 'TO_IKE_SA', id, event });

  /** An IKE SA actor's snapshot; undefined when it is gone or not the user's (below). */
  const ikeSaSnapshot = (id: string): { value: string | Record<string, unknown>; context: IkeSaContext } | undefined => {
    const actor = supervisor.system.get(id);
    if (actor === undefined) return undefined;
    const snap = actor.getSnapshot() as { value: string | Record<string, unknown>; context: IkeSaContext };
    // The redundant SA of a simultaneous IKE SA rekey (RFC 7296 2.8.2) is never an SA of the
    // user's: held only for its creator's Delete (ikeSaContext(id) shows it).
    const value = snap.value;
    const established = typeof value === 'object' ? (value['established'] as { succession?: unknown } | undefined) : undefined;
    if (typeof established?.succession === 'object' && established.succession !== null && 'redundant' in established.succession) return undefined;
    return snap;
  };

  /**
   * An IKE SA's snapshot as the status shows it; undefined when it is gone or not the user's.
   * Snapshots are immutable: one taken now can be formatted after an await and still say now.
   */
  const ikeSaView = (id: string): IkeSaView | undefined => {
    const snap = ikeSaSnapshot(id);
    return snap === undefined ? undefined : { id, value: snap.value, context: snap.context, records: snap.context.children };
  };

  const views = (ids: Iterable<string> = context().entries.keys()): IkeSaView[] => {
    const out: IkeSaView[] = [];
    for (const id of ids) {
      const view = ikeSaView(id);
      if (view !== undefined) out.push(view);
    }
    return out;
  };

  /** An IKE SA's status without the kernel's usage (status, statusOf, statusOfConnection). */
  const statusOfView = (v: IkeSaView): IkeSaStatus => ikeSaStatus(v, v.records.map(childStatus));
  const allStatus = (): IkeSaStatus[] => views().map(statusOfView);

  /**
   * Each IKE SA's status with its Child SAs' counters and last use (child-sa-usage.ts), made one
   * SA at a time and handed to `visit`. With a kernel that reads its whole state at once, that
   * read comes first and the SAs are taken after it, in one synchronous pass; otherwise the SAs
   * are taken first, for the reads of their ESP SAs and policies.
   */
  const forEachStatusWithUsage = async (visit: (sa: IkeSaStatusWithUsage) => void): Promise<void> => {
    const kernel = options.ports.kernel;
    const taken = kernel.readUsage === undefined ? views() : undefined;
    const table = await readUsageTable(kernel, taken === undefined ? [] : taken.flatMap((v) => v.records), (error) =>
      options.ports.log.warn({ reason: (error as Error)?.message ?? String(error) }, "reading the kernel's counters and last use failed: this status shows no usage"),
    );
    const one = (v: IkeSaView): void => {
      const children: ChildSaStatusWithUsage[] = [];
      for (const r of v.records) children.push(childStatusWithUsage(r, childSaUsage(table, r)));
      visit(ikeSaStatus(v, children));
    };
    let visited = 0;
    const pause = async (): Promise<void> => {
      if (++visited % STATUS_SAS_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    };
    if (taken !== undefined) {
      for (const v of taken) {
        one(v);
        await pause();
      }
      return;
    }
    // The SAs of the table now (a status that followed the table would not end while SAs keep
    // coming), each as it is when its turn comes: one closed meanwhile is left out.
    for (const id of [...context().entries.keys()]) {
      const v = ikeSaView(id);
      if (v === undefined) continue;
      one(v);
      await pause();
    }
  };

  const allStatusWithUsage = async (): Promise<IkeSaStatusWithUsage[]> => {
    const out: IkeSaStatusWithUsage[] = [];
    await forEachStatusWithUsage((sa) => out.push(sa));
    return out;
  };

  const command = (c: EngineCommand): void => io.enter({ kind: 'command', command: c } satisfies JournalInput);

  return {
    receive: (datagram) => {
      io.enter({ kind: 'datagram', datagram });
      toSupervisor({ type: 'DATAGRAM', datagram });
    },
    initiate(connection, options = {}) {
      command({ name: 'initiate', connection, options });
      const conn = config.connection(connection);
      if (conn === undefined) throw new RangeError(`no connection named ${connection}`);
      if (stopped) throw new Error(`engine stopped: cannot initiate ${connection}`);
      if (refusing) throw new Error(`stopping: no new IKE SAs (${connection} not initiated)`);
      // Refused here, at once: the IKE SA actor would have nowhere to send its IKE_SA_INIT.
      if (isAnyAddress(conn.remote.address)) {
        throw new RangeError(`${connection}: its remote address is ${conn.remote.address}, so it can only answer peers (start: listen); it cannot initiate`);
      }
      let spi: Buffer;
      do spi = io.random(8);
      while (spi.every((b) => b === 0) || context().bySpi.has(ikeSpiHex(spi)));
      const trigger = options.packet === undefined ? undefined : triggerSelectors(options.packet);
      // Kept for the SA's life: in memory of its own (src/wire/unpooled.ts).
      toSupervisor({ type: 'INITIATE', connection, localSpi: unpooledCopy(spi), ...(trigger === undefined ? {} : { trigger }) });
      return ikeSaActorId(spi);
    },
    terminate(target, reason = 'terminated by request') {
      command({ name: 'terminate', target, reason });
      toSupervisor({ type: 'TERMINATE', ...target, reason });
    },
    terminateAll: (reason = 'shutting down') => {
      command({ name: 'terminateAll', reason });
      toSupervisor({ type: 'TERMINATE_ALL', reason });
    },
    rekeyIkeSa: (id) => {
      command({ name: 'rekeyIkeSa', id });
      send(id, { type: 'REKEY_IKE_SA' });
    },
    rekeyChildSa: (id, inboundSpi) => {
      command({ name: 'rekeyChildSa', id, inboundSpi });
      send(id, { type: 'REKEY_CHILD_SA', inboundSpi: inboundSpi === undefined ? undefined : parseEspSpiHex(inboundSpi) });
    },
    createChildSa: (id, options = {}) => {
      command({ name: 'createChildSa', id, options });
      const trigger = options.packet === undefined ? undefined : triggerSelectors(options.packet);
      send(id, { type: 'CREATE_CHILD_SA', ...(trigger === undefined ? {} : { trigger }) });
    },
    deleteChildSa: (id, inboundSpi) => {
      command({ name: 'deleteChildSa', id, inboundSpi });
      send(id, { type: 'DELETE_CHILD_SA', inboundSpi: parseEspSpiHex(inboundSpi) });
    },
    deliverTimer: deliver,
    status: allStatus,
    statusOf: (id) => {
      const view = ikeSaView(id);
      return view === undefined ? undefined : statusOfView(view);
    },
    statusOfConnection: (connection) => views(context().byConnection.of(connection)).map(statusOfView),
    ikeSaIds: (connection) => (connection === undefined ? [...context().entries.keys()] : context().byConnection.of(connection)),
    stateOf: (id) => {
      const value = ikeSaSnapshot(id)?.value;
      return value === undefined ? undefined : stateName(value);
    },
    statusWithUsage: allStatusWithUsage,
    forEachStatusWithUsage,
    ikeSaContext: (id) => (supervisor.system.get(id)?.getSnapshot() as { context: IkeSaContext } | undefined)?.context,
    size: () => context().entries.size,
    halfOpen: () => context().halfOpen.size,
    refuseNewSas() {
      if (refusing || stopped) return;
      command({ name: 'refuseNewSas' });
      refusing = true;
      toSupervisor({ type: 'REFUSE_NEW_SAS' });
    },
    counters: () => ({ ...context().counters }),
    childSpisInUse: () => drawnSpis.size,
    reload: (next) => {
      command({ name: 'reload', config: next });
      config.set(next);
    },
    attachJournal: (journal) => io.attach(journal, supervisor.system),
    stop(stopOptions = {}) {
      if (stopped) return;
      const leaveKernelState = stopOptions.leaveKernelState === true;
      command(leaveKernelState ? { name: 'stop', leaveKernelState } : { name: 'stop' });
      // Quiesce: no datagram, timer or command reaches an actor from here on (the transport, the
      // timer service and a kernel's late answer may still call in: all are dropped).
      stopped = true;
      effects.flushLogSummaries();
      // Drop every SA locally (no Delete sent): closing starts the kernel deletes of the Child SAs.
      // Stopping the actors below runs no exit action: left so, their kernel state stays.
      if (!leaveKernelState) supervisor.send({ type: 'DISCARD_ALL', reason: 'engine stopped' });
      // Timers first, then the actors: an IKE SA actor is not in the supervisor's children (see
      // machines/supervisor.ts), so stopping the supervisor alone would leave them running and
      // reporting to a stopped parent ("Event sent to stopped actor"). Stopping an IKE SA stops
      // its Child SA actors; their kernel deletes already under way finish on their own.
      const ids = [...context().entries.keys()];
      for (const id of ids) {
        const actor = supervisor.system.get(id) as AnyActorRef | undefined;
        const c = (actor?.getSnapshot() as { context?: IkeSaContext } | undefined)?.context;
        for (const r of c?.children ?? []) options.ports.timers.cancelAll(r.actorId);
        options.ports.timers.cancelAll(id);
      }
      supervisor.send({ type: 'STOP_ALL' });
      supervisor.stop();
      stopExpires?.();
    },
  };
}
