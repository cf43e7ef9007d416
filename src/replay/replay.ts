/**
 * Replays a record (record-entry.ts): the same machines, a fresh engine, no sockets, no kernel,
 * no timers of their own. Each recorded input is handed to the engine at its recorded time; the
 * random draws and load readings come from the record in order; and everything the machines do
 * is checked against the record as it happens: each datagram out byte for byte, each actor's
 * state value, each draw's length. The first difference stops the replay and is returned with
 * the input it followed from.
 *
 * Effects with an answer (the kernel, SPI allocation) get none from this engine's ports: their
 * answers are recorded inputs and arrive as such.
 */
import type { InspectionEvent } from 'xstate';
import type { EngineConfig } from '../config/model.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import type { EngineCommand, JournalInput } from '../engine/engine-journal.js';
import type { IkeKeylogPort } from '../engine/engine-ports.js';
import { createIkeEngine, type IkeEngine, type IkeSaStatus } from '../engine/ike-engine.js';
import { peerRole, protectionOf } from '../ikev2/ike-sa-session.js';
import type { KernelPort } from '../kernel/kernel-port.js';
import { silentLogger } from '../log/silent-logger.js';
import type { Datagram, LogPort } from '../ports.js';
import { ikeSpiHex } from '../wire/index.js';
import { summarizeMessage } from './message-summary.js';
import { RECORD_FORMAT, RECORD_VERSION, type RecordEntry, type RecordHeader } from './record-entry.js';
import { recordJournal } from './record-journal.js';

export interface ReplayOptions {
  readonly registry: CryptoRegistry;
  /**
   * Where the PSKs come from, by connection name. A record never holds them: its configuration
   * says "[redacted]" in their place (record-entry.ts). Give the configuration it ran under;
   * without one, a record whose connections have PSKs cannot be replayed.
   */
  readonly secrets?: EngineConfig;
  readonly log?: LogPort;
  /** Called before each input is handed over (a stepping UI, a progress line). */
  readonly onInput?: (index: number, entry: Extract<RecordEntry, { t: 'in' }>, engine: ReplayView) => void | Promise<void>;
  /** Called once what an input set off has happened (and been checked). */
  readonly afterInput?: (index: number, entry: Extract<RecordEntry, { t: 'in' }>, engine: ReplayView) => void | Promise<void>;
  /** Each datagram in (as recorded) and out (as replayed), with its time: a capture (`--pcap`). */
  readonly onDatagram?: (direction: 'in' | 'out', datagram: Datagram, atMs: number) => void;
  /** The keys of each IKE SA the replay establishes, as the daemon's --keylog has them. */
  readonly keylog?: IkeKeylogPort;
  /** The replaying machines' XState inspection events (`ikekm replay --inspect`). */
  readonly inspect?: (event: InspectionEvent) => void;
}

/** What a stepping UI may look at of the replaying engine. */
export type ReplayView = Pick<IkeEngine, 'status' | 'ikeSaContext'>;

export type DivergenceKind = 'output' | 'missing-output' | 'state' | 'missing-state' | 'draw' | 'load' | 'error';

export interface Divergence {
  readonly kind: DivergenceKind;
  /** The input it followed from: its index among the inputs, and the input. */
  readonly inputIndex: number;
  readonly input: JournalInput | undefined;
  readonly expected: RecordEntry | undefined;
  readonly got: RecordEntry | undefined;
  readonly detail: string;
  /**
   * A redacted record (redact-record.ts): the input after which the replay first used a withheld
   * secret. A divergence from there on is the redaction's, not a change in behaviour.
   */
  readonly withheldSecretUsedAfter?: number;
  /** Where it happened, as far as the replay could tell (placeOf). */
  readonly place?: DivergencePlace;
}

/** The IKE SA a divergence concerns, its way there, and its datagrams decoded. */
export interface DivergencePlace {
  /** The IKE SA actor (`ike-<SPI>`), when the entries or the input name one. */
  readonly sa?: string;
  /** That SA's state values in the record up to the divergence (`ikeSaInit`, `ikeAuth.allocatingSpi`, …). */
  readonly statePath: readonly string[];
  /**
   * The input's datagram, the recorded and the replayed datagram out, each as one line
   * (message-summary.ts), SK contents included where the replay had the keys of its IKE SA.
   */
  readonly input?: string;
  readonly expected?: string;
  readonly got?: string;
}

export type ReplayOutcome =
  | { readonly ok: true; readonly inputs: number; readonly outputs: number; readonly states: number }
  | { readonly ok: false; readonly divergence: Divergence; readonly inputs: number };

const NEVER = new Promise<never>(() => undefined);

/** A kernel that never answers: a replay takes the kernel's answers from the record. */
function silentKernel(header: RecordHeader): KernelPort {
  return {
    installSa: () => NEVER,
    deleteSa: () => NEVER,
    installPolicy: () => NEVER,
    deletePolicy: () => NEVER,
    usage: () => NEVER,
    spis: { allocate: () => NEVER, release: () => undefined },
    ...(header.kernelEnforcesByteLimits ? { onExpire: () => () => undefined } : {}),
  };
}

const describeDatagram = (d: Datagram): string => `${d.local.address}:${d.local.port} → ${d.remote.address}:${d.remote.port}, ${d.bytes.length} octets`;

export async function replayRecord(entries: readonly RecordEntry[], options: ReplayOptions): Promise<ReplayOutcome> {
  const header = entries[0];
  if (header?.t !== 'header' || header.format !== RECORD_FORMAT) throw new RangeError('not an ikekm record: it does not start with an ikekm-record header');
  if (header.version !== RECORD_VERSION) throw new RangeError(`this record has format version ${header.version} (written by ikekm ${header.ikekm}); this ikekm replays version ${RECORD_VERSION}`);

  const config = withSecrets(header.config, options.secrets);
  // The entries after the header, and the replay's position in them.
  const expected = entries.slice(1);
  let cursor = 0;
  let inputIndex = -1;
  let currentInput: JournalInput | undefined;
  let nowMs = 0;
  let failure: Divergence | undefined;
  /** Once the replay is over (or has diverged), what the engine still does is not checked. */
  let checking = true;
  let withheldUsedAfter: number | undefined;
  const diverge = (kind: DivergenceKind, want: RecordEntry | undefined, got: RecordEntry | undefined, detail: string): void => {
    failure ??= {
      kind,
      inputIndex,
      input: currentInput,
      expected: want,
      got,
      detail,
      ...(withheldUsedAfter === undefined ? {} : { withheldSecretUsedAfter: withheldUsedAfter }),
    };
    checking = false;
  };
  /** The next recorded entry, if it is of kind `t` and still follows from this input. */
  const next = <T extends 'draw' | 'load' | 'out' | 'state'>(t: T, got: RecordEntry, kind: DivergenceKind): Extract<RecordEntry, { t: T }> | undefined => {
    const want = expected[cursor];
    if (want === undefined || want.t === 'in') {
      diverge(kind, want, got, `the replay made a ${t} the record does not have after input ${inputIndex}`);
      return undefined;
    }
    if (want.t !== t) {
      diverge(kind, want, got, `the record has a ${want.t} where the replay made a ${t}`);
      return undefined;
    }
    cursor++;
    return want as Extract<RecordEntry, { t: T }>;
  };
  const sameDatagram = (a: Datagram, b: Datagram): boolean =>
    Buffer.from(a.bytes).equals(Buffer.from(b.bytes)) &&
    a.local.address === b.local.address &&
    a.local.port === b.local.port &&
    a.remote.address === b.remote.address &&
    a.remote.port === b.remote.port;

  // The replay's own journal: each thing the machines do is checked against the record at once.
  const journal = recordJournal(
    (entry) => {
      if (!checking) return;
      switch (entry.t) {
        case 'header':
        case 'in':
          return;
        case 'draw': {
          const want = next('draw', entry, 'draw');
          if (want !== undefined && want.bytes.length !== entry.bytes.length) diverge('draw', want, entry, `a draw of ${entry.bytes.length} octets where the record has ${want.bytes.length}`);
          return;
        }
        case 'load':
          next('load', entry, 'load');
          return;
        case 'out': {
          const want = next('out', entry, 'output');
          if (want !== undefined && !sameDatagram(want.datagram, entry.datagram)) {
            diverge('output', want, entry, `datagram out differs: recorded ${describeDatagram(want.datagram)}, replayed ${describeDatagram(entry.datagram)}`);
          }
          return;
        }
        case 'state': {
          const want = next('state', entry, 'state');
          if (want !== undefined && (want.actor !== entry.actor || JSON.stringify(want.value) !== JSON.stringify(entry.value))) {
            diverge('state', want, entry, `state differs: recorded ${want.actor} ${JSON.stringify(want.value)}, replayed ${entry.actor} ${JSON.stringify(entry.value)}`);
          }
          return;
        }
      }
    },
    { config: header.config, kernelEnforcesByteLimits: header.kernelEnforcesByteLimits },
  );

  const engine: IkeEngine = createIkeEngine({
    config,
    ...(options.keylog === undefined ? {} : { keylog: options.keylog }),
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    ports: {
      network: { send: (datagram) => options.onDatagram?.('out', datagram, nowMs) },
      timers: { arm: () => undefined, cancel: () => undefined, cancelAll: () => undefined },
      clock: { now: () => nowMs },
      log: options.log ?? silentLogger,
      // The record's draws and readings, in order (the journal above checks each as it is taken).
      random: (n: number) => {
        const want = checking ? expected[cursor] : undefined;
        if (want?.t === 'draw' && want.withheld === true) withheldUsedAfter ??= inputIndex;
        return want?.t === 'draw' && want.bytes.length === n ? Buffer.from(want.bytes) : Buffer.alloc(n);
      },
      load: {
        utilization: () => {
          const want = checking ? expected[cursor] : undefined;
          return want?.t === 'load' ? want.value : 0;
        },
      },
      kernel: silentKernel(header),
      // Signatures and certificate verdicts are recorded answers, like the kernel's.
      credentials: { sign: () => NEVER, checkPeerCertificates: () => NEVER },
      registry: options.registry,
    },
    journal,
  });

  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  let inputs = 0;
  try {
    while (checking && cursor < expected.length) {
      const entry = expected[cursor]!;
      if (entry.t !== 'in') {
        const kind: DivergenceKind = entry.t === 'out' ? 'missing-output' : entry.t === 'state' ? 'missing-state' : entry.t === 'draw' ? 'draw' : entry.t === 'load' ? 'load' : 'error';
        diverge(kind, entry, undefined, `the record has a ${entry.t} here that the replay did not make`);
        break;
      }
      cursor++;
      inputIndex++;
      currentInput = entry.input;
      nowMs = entry.at;
      await options.onInput?.(inputIndex, entry, engine);
      if (entry.input.kind === 'datagram') options.onDatagram?.('in', entry.input.datagram, entry.at);
      try {
        handOver(engine, entry.input, options.secrets);
      } catch (e) {
        // A command the engine refused (as it did when recorded, e.g. initiate while stopping).
        if (!(e instanceof Error)) throw e;
      }
      // What the input sets off within the same turn of the event loop (microtasks, an actor's
      // first steps) follows from it, as when recorded.
      await settle();
      if (checking) inputs++;
      await options.afterInput?.(inputIndex, entry, engine);
    }
    // Read while the engine still holds the keys of the moment.
    if (failure !== undefined) failure = { ...failure, place: placeOf(failure, engine, expected.slice(0, cursor), options.registry) };
  } finally {
    checking = false;
    engine.stop();
  }
  if (failure !== undefined) return { ok: false, divergence: failure, inputs };
  const count = (t: RecordEntry['t']) => expected.filter((e) => e.t === t).length;
  return { ok: true, inputs, outputs: count('out'), states: count('state') };
}

/**
 * `config` with each connection's PSK taken from the connection of the same name in `secrets`
 * where the record's is not there (redacted). In memory (a test's record) the PSKs are real and
 * stay as they are.
 */
function withSecrets(config: EngineConfig, secrets: EngineConfig | undefined): EngineConfig {
  return {
    ...config,
    connections: config.connections.map((c) => {
      if (c.ikePolicy.auth !== 'psk' || Buffer.isBuffer((c.local.psk as { bytes?: unknown } | undefined)?.bytes)) return c;
      const psk = secrets?.connections.find((s) => s.name === c.name)?.local.psk;
      if (psk === undefined) throw new RangeError(`the record's PSK of connection ${c.name} is not in it (records never hold PSKs): replay it with the configuration it ran under`);
      return { ...c, local: { ...c.local, psk } };
    }),
  };
}

/** A state value as a path: `established.{window.idle, answering.idle, succession.current}`. */
export function statePathText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  const parts = Object.entries(value).map(([k, v]) => `${k}.${statePathText(v)}`);
  return parts.length === 1 ? parts[0]! : `{${parts.join(', ')}}`;
}

/** The IKE SA whose SPIs a datagram carries (an IKE_SA_INIT request: its SPIi alone). */
function ikeSaCarrying(status: readonly IkeSaStatus[], bytes: Uint8Array): IkeSaStatus | undefined {
  const [spiI, spiR] = [ikeSpiHex(bytes.subarray(0, 8)), ikeSpiHex(bytes.subarray(8, 16))];
  return status.find((sa) => sa.spiI === spiI && (sa.spiR === spiR || /^0+$/.test(spiR)));
}

/**
 * A datagram as one line (message-summary.ts), inside SK with the keys the replaying engine
 * holds now for the IKE SA it belongs to: ours are sealed with our role's keys, the peer's with
 * the other role's (RFC 7296 2.14).
 */
export function summarizeOnItsSa(engine: ReplayView, bytes: Uint8Array, direction: 'in' | 'out', registry: CryptoRegistry, status = engine.status()): string {
  const sa = ikeSaCarrying(status, bytes);
  const security = sa === undefined ? undefined : engine.ikeSaContext(sa.id)?.security;
  if (security === undefined) return summarizeMessage(bytes);
  let protection;
  try {
    protection = protectionOf(security, direction === 'out' ? security.role : peerRole(security.role), registry);
  } catch {
    // Keys the SA does not hold whole (yet): the message as the wire shows it.
    return summarizeMessage(bytes);
  }
  return summarizeMessage(bytes, protection);
}

/**
 * Which IKE SA a divergence concerns (the actor of a state entry, the owner of a timer's event,
 * or the SA whose SPIs a datagram carries), the record's states of it up to `recorded`'s end,
 * and the datagrams decoded with the keys the replaying engine holds for their SA.
 */
function placeOf(d: Divergence, engine: IkeEngine, recorded: readonly RecordEntry[], registry: CryptoRegistry): DivergencePlace {
  const status = engine.status();
  const saOf = (bytes: Uint8Array) => ikeSaCarrying(status, bytes);
  const decoded = (bytes: Uint8Array, direction: 'in' | 'out'): string => summarizeOnItsSa(engine, bytes, direction, registry, status);
  const outOf = (e: RecordEntry | undefined) => (e?.t === 'out' ? e.datagram.bytes : undefined);
  const inputBytes = d.input?.kind === 'datagram' ? d.input.datagram.bytes : undefined;
  const ikeActor = (actor: string) => actor.split('/')[0]!;
  const sa =
    (d.expected?.t === 'state' ? ikeActor(d.expected.actor) : undefined) ??
    (d.got?.t === 'state' ? ikeActor(d.got.actor) : undefined) ??
    (d.input?.kind === 'deliver' ? ikeActor(d.input.owner) : undefined) ??
    [outOf(d.expected), outOf(d.got), inputBytes].flatMap((b) => (b === undefined ? [] : [saOf(b)?.id])).find((id) => id !== undefined);
  const expectedOut = outOf(d.expected);
  const gotOut = outOf(d.got);
  return {
    ...(sa === undefined ? {} : { sa }),
    statePath: sa === undefined ? [] : recorded.flatMap((e) => (e.t === 'state' && e.actor === sa ? [statePathText(e.value)] : [])),
    ...(inputBytes === undefined ? {} : { input: decoded(inputBytes, 'in') }),
    ...(expectedOut === undefined ? {} : { expected: decoded(expectedOut, 'out') }),
    ...(gotOut === undefined ? {} : { got: decoded(gotOut, 'out') }),
  };
}

function handOver(engine: IkeEngine, input: JournalInput, secrets: EngineConfig | undefined): void {
  switch (input.kind) {
    case 'datagram':
      engine.receive(input.datagram);
      return;
    case 'deliver':
      engine.deliverTimer(input.owner, input.event);
      return;
    case 'command':
      runCommand(engine, input.command, secrets);
      return;
  }
}

function runCommand(engine: IkeEngine, c: EngineCommand, secrets: EngineConfig | undefined): void {
  switch (c.name) {
    case 'initiate':
      engine.initiate(c.connection, c.options);
      return;
    case 'terminate':
      engine.terminate(c.target, c.reason);
      return;
    case 'terminateAll':
      engine.terminateAll(c.reason);
      return;
    case 'rekeyIkeSa':
      engine.rekeyIkeSa(c.id);
      return;
    case 'rekeyChildSa':
      engine.rekeyChildSa(c.id, c.inboundSpi);
      return;
    case 'createChildSa':
      engine.createChildSa(c.id, c.options);
      return;
    case 'deleteChildSa':
      engine.deleteChildSa(c.id, c.inboundSpi);
      return;
    case 'refuseNewSas':
      engine.refuseNewSas();
      return;
    case 'reload':
      engine.reload(withSecrets(c.config, secrets));
      return;
    case 'stop':
      engine.stop(c.leaveKernelState === true ? { leaveKernelState: true } : {});
      return;
  }
}
