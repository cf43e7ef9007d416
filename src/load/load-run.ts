/**
 * The load generator's run: `count` handshakes (LeanHandshake) against one responder over one
 * UDP socket, at most `window` in flight, optionally paced to `ratePerSecond` starts. Measures
 * what a user of a VPN gateway asks about it: SAs established per second, how long one takes to
 * set up (p50/p99 from the first IKE_SA_INIT to the checked IKE_AUTH answer), which failed and
 * why, and the generator's own CPU (so a reader sees whether it, not the responder, was the limit).
 */
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { ConnectionConfig } from '../config/model.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import { pooledRandom } from '../crypto/pooled-random.js';
import { isAnyAddress } from '../ikev2/exchanges/connection-policy.js';
import { ExchangeType } from '../wire/iana.js';
import { LeanHandshake, type LeanHandshakeShared } from './lean-handshake.js';

export interface LoadRunOptions {
  readonly connection: ConnectionConfig;
  readonly registry: CryptoRegistry;
  /** Handshakes to run. */
  readonly count: number;
  /** Handshakes in flight at most. */
  readonly window: number;
  /** Starts per second at most; undefined: as fast as the window allows. */
  readonly ratePerSecond?: number | undefined;
  /** A handshake not established this long after its start fails ('no answer'). */
  readonly timeoutMs: number;
  /**
   * An unanswered request is sent again after this long (default 1 s), as an initiator does
   * (RFC 7296 2.1): a busy responder drops new IKE_SA_INITs by design (charon and ikekm both).
   */
  readonly retransmitMs?: number;
  /** The first Child SA in IKE_AUTH (default true). */
  readonly childSa?: boolean;
  /** Our address (default: the connection's local address, else what the route to the peer picks). */
  readonly localAddress?: string | undefined;
  /** Our UDP port (default 0: one the system picks). */
  readonly localPort?: number;
  /** Called once a second with the progress so far (for a live line). */
  readonly onProgress?: ((progress: LoadProgress) => void) | undefined;
}

export interface LoadProgress {
  readonly started: number;
  readonly established: number;
  readonly failed: number;
  readonly seconds: number;
}

export interface LoadResult {
  readonly target: string;
  readonly count: number;
  readonly window: number;
  readonly ratePerSecond: number | null;
  readonly childSa: boolean;
  readonly established: number;
  readonly failed: number;
  /** Failures by reason (a notify name, 'no answer', …), with the first detail of each. */
  readonly failures: Readonly<Record<string, { readonly count: number; readonly example: string }>>;
  /** COOKIE and INVALID_KE_PAYLOAD answers followed by a new IKE_SA_INIT. */
  readonly restarts: number;
  /** Requests sent again after `retransmitMs` without an answer. */
  readonly retransmits: number;
  readonly retransmitMs: number;
  /** Datagrams the socket could not send, by error (their handshakes fail by timeout). */
  readonly sendErrors: Readonly<Record<string, number>>;
  /** From the first start to the last outcome. */
  readonly seconds: number;
  readonly establishedPerSecond: number;
  /** Setup time of the established handshakes, in milliseconds. */
  readonly setupMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** The generator's own CPU time over the run (user + system). */
  readonly generatorCpuMs: number;
  readonly shortcuts: readonly string[];
}

/** What the generator leaves out that a real initiator does (printed with every result). */
export const LOAD_SHORTCUTS: readonly string[] = [
  'one Diffie-Hellman key pair for all handshakes (each still computes its own shared secret)',
  'no INITIAL_CONTACT, no kernel SAs, retransmission at a fixed interval; requests from the responder are not answered',
];

interface InFlight {
  readonly handshake: LeanHandshake;
  readonly startedAt: number;
  /** The request we wait on an answer to, and when it went: sent again after `retransmitMs`. */
  request: Buffer;
  sentAt: number;
}

export async function runLoad(options: LoadRunOptions): Promise<LoadResult> {
  const conn = options.connection;
  const remote = { address: conn.remote.address, port: conn.remote.port };
  if (isAnyAddress(remote.address)) {
    throw new RangeError(`connection ${conn.name}: the load generator needs the responder's address, not ${remote.address}`);
  }
  const socket = createSocket({ type: isIPv6(remote.address) ? 'udp6' : 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  const localAddress = options.localAddress ?? (isAnyAddress(conn.local.address) ? undefined : conn.local.address);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.localPort ?? 0, localAddress, () => socket.connect(remote.port, remote.address, () => (socket.off('error', reject), resolve())));
  });
  const bound = socket.address();
  const random = pooledRandom();
  const shared: LeanHandshakeShared = {
    connection: conn,
    registry: options.registry,
    random,
    // NAT detection (RFC 7296 2.23) hashes the endpoints the responder will see: the socket's.
    local: { address: bound.address, port: bound.port },
    remote,
    childSa: options.childSa ?? true,
    keyPairs: new Map(),
  };
  try {
    return await drive(socket, shared, options);
  } finally {
    socket.close();
  }
}

function drive(socket: Socket, shared: LeanHandshakeShared, options: LoadRunOptions): Promise<LoadResult> {
  const inFlight = new Map<string, InFlight>();
  const setupMs = new Float64Array(options.count);
  const failures = new Map<string, { count: number; example: string }>();
  let started = 0;
  let established = 0;
  let failed = 0;
  let restarts = 0;
  let retransmits = 0;
  const retransmitMs = options.retransmitMs ?? 1000;
  let allowance = options.ratePerSecond === undefined ? Infinity : 0;
  const cpuBefore = process.cpuUsage();
  const t0 = performance.now();
  let finishedAt = t0;

  // A send that fails (ECONNREFUSED after the peer's ICMP port unreachable) leaves its handshake
  // to time out: counted apart, so each handshake fails once.
  const sendErrors = new Map<string, number>();
  const send = (entry: InFlight, bytes: Buffer): void => {
    entry.request = bytes;
    entry.sentAt = performance.now();
    socket.send(bytes, (e) => e && void sendErrors.set(e.message, (sendErrors.get(e.message) ?? 0) + 1));
  };
  const fail = (key: string, reason: string, detail: string): void => {
    inFlight.delete(key);
    failed++;
    const seen = failures.get(reason);
    if (seen === undefined) failures.set(reason, { count: 1, example: detail });
    else seen.count++;
  };
  const startMore = (): void => {
    while (started < options.count && inFlight.size < options.window && allowance >= 1) {
      allowance--;
      const handshake = new LeanHandshake(shared, shared.random(8));
      const entry: InFlight = { handshake, startedAt: performance.now(), request: handshake.firstRequest, sentAt: 0 };
      inFlight.set(handshake.spiI.toString('hex'), entry);
      started++;
      send(entry, handshake.firstRequest);
    }
  };

  return new Promise<LoadResult>((resolve) => {
    const finish = (): void => {
      clearInterval(tick);
      socket.off('message', onMessage);
      const cpu = process.cpuUsage(cpuBefore);
      const seconds = (finishedAt - t0) / 1000;
      const times = setupMs.subarray(0, established).sort();
      resolve({
        target: `${shared.remote.address}:${shared.remote.port}`,
        count: options.count,
        window: options.window,
        ratePerSecond: options.ratePerSecond ?? null,
        childSa: shared.childSa,
        established,
        failed,
        failures: Object.fromEntries(failures),
        restarts,
        retransmits,
        retransmitMs,
        sendErrors: Object.fromEntries(sendErrors),
        seconds,
        establishedPerSecond: seconds > 0 ? established / seconds : 0,
        setupMs: { p50: percentile(times, 0.5), p99: percentile(times, 0.99), max: times.length === 0 ? 0 : times[times.length - 1]! },
        generatorCpuMs: (cpu.user + cpu.system) / 1000,
        shortcuts: LOAD_SHORTCUTS,
      });
    };
    const settled = (): void => {
      finishedAt = performance.now();
      if (established + failed >= options.count) finish();
      else startMore();
    };
    const onMessage = (bytes: Buffer): void => {
      if (bytes.length < 28) return;
      const key = bytes.toString('hex', 0, 8);
      const entry = inFlight.get(key);
      if (entry === undefined) return;
      let step;
      try {
        step = entry.handshake.receive(bytes);
      } catch (e) {
        step = { kind: 'failed' as const, reason: 'generator error', detail: e instanceof Error ? e.message : String(e) };
      }
      switch (step.kind) {
        case 'ignored':
          return;
        case 'send':
          // A new IKE_SA_INIT after COOKIE or INVALID_KE_PAYLOAD; otherwise the IKE_AUTH request.
          if (step.bytes[18] === ExchangeType.IKE_SA_INIT) restarts++;
          send(entry, step.bytes);
          return;
        case 'established':
          inFlight.delete(key);
          setupMs[established++] = performance.now() - entry.startedAt;
          settled();
          return;
        case 'failed':
          fail(key, step.reason, step.detail);
          settled();
          return;
      }
    };
    socket.on('message', onMessage);
    let lastProgress = t0;
    let ticks = 0;
    const tickMs = 10;
    const tick = setInterval(() => {
      const now = performance.now();
      if (options.ratePerSecond !== undefined) allowance = Math.min(allowance + (options.ratePerSecond * tickMs) / 1000, Math.max(1, options.ratePerSecond / 10));
      // Handshakes started in order, so the oldest are first: stop at the first still in time.
      for (const [key, entry] of inFlight) {
        if (now - entry.startedAt < options.timeoutMs) break;
        fail(key, 'no answer', `nothing established ${options.timeoutMs} ms after the first IKE_SA_INIT`);
      }
      if (++ticks % 10 === 0) {
        for (const entry of inFlight.values()) {
          if (now - entry.sentAt < retransmitMs) continue;
          retransmits++;
          send(entry, entry.request);
        }
      }
      if (now - lastProgress >= 1000) {
        lastProgress = now;
        options.onProgress?.({ started, established, failed, seconds: (now - t0) / 1000 });
      }
      if (established + failed >= options.count) {
        finishedAt = now;
        finish();
      } else startMore();
    }, tickMs);
    startMore();
  });
}

/** The nearest-rank percentile of sorted values (0 when there are none). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
