/**
 * The real ports an engine runs on in a process: UDP sockets, the RxJS timer service on the
 * wall clock, the kernel backend `daemon.kernel` names (kernel-backend.ts: XFRM or memory;
 * wrapped in KeylogKernel when the user asked for a key log), the ikev2_decryption_table writer,
 * node:crypto randomness. The daemon builds them here; a test peer can too.
 *
 * The kernel is opened first: a daemon that may not touch the kernel's IPsec state fails before
 * it binds anything. With XFRM, the bound IKE sockets are then exempted from IPsec.
 *
 * The key log is the user's explicit export of secrets (`--keylog DIR`): both tables are written
 * 0600 in a 0700 directory, and nothing of them reaches the log.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { SchedulerLike } from 'rxjs';
import type { KernelBackendName } from '../config/daemon-settings.js';
import { pooledRandom } from '../crypto/pooled-random.js';
import type { IkeKeylogPort } from '../engine/engine-ports.js';
import { prepareKeylogDir } from '../kernel/keylog-dir.js';
import { HeapRealScheduler } from '../timers/heap-real-scheduler.js';
import { Ikev2KeylogWriter, KeylogKernel } from '../kernel/keylog-kernel.js';
import type { TrappingKernelPort } from '../kernel/kernel-port.js';
import type { MemoryKernel } from '../kernel/memory-kernel.js';
import type { Datagram, LogPort, RandomPort, TimerEvent } from '../ports.js';
import { createTimerService, type TimerService } from '../timers/timer-service.js';
import type { TransportError } from '../transport/transport-error.js';
import { UdpTransport } from '../transport/udp-transport.js';
import { LogSummarizer } from '../log/log-summarizer.js';
import { openKernelBackend } from './kernel-backend.js';

export interface RuntimePortsOptions {
  readonly listen: readonly string[];
  readonly ikePort: number;
  readonly nattPort: number;
  /** Local addresses the configured connections use: reported for datagrams on wildcard sockets. */
  readonly localAddresses: readonly string[];
  /** `daemon.kernel`: where the SAs and policies go. */
  readonly kernel: KernelBackendName;
  /** Directory for Wireshark's ikev2_decryption_table and esp_sa; no key log without it. */
  readonly keylogDir?: string;
  readonly log: LogPort;
  readonly scheduler?: SchedulerLike;
  readonly onDatagram: (datagram: Datagram) => void;
  readonly deliverTimer: (owner: string, event: TimerEvent) => void;
  /** Told of every transport error after it is logged (the interop peer reports them to its test). */
  readonly onTransportError?: (error: TransportError) => void;
}

export interface RuntimePorts {
  readonly transport: UdpTransport;
  readonly timers: TimerService;
  readonly scheduler: SchedulerLike;
  /** Which backend carries the SAs. */
  readonly kernelBackend: KernelBackendName;
  /** The memory backend itself (tests drive traffic and acquires through it); undefined on xfrm. */
  readonly memory: MemoryKernel | undefined;
  /** SAs and policies for the engine; traps and acquires for the daemon's on-demand connections. */
  readonly kernel: TrappingKernelPort;
  readonly keylog: IkeKeylogPort | undefined;
  readonly random: RandomPort;
  /** Key tables on disk (no-op without a key log). */
  flush(): Promise<void>;
  /** Cancels every timer, closes the sockets, flushes the key tables, sweeps and closes the kernel. */
  close(): Promise<void>;
}

export const IKEV2_TABLE_FILE = 'ikev2_decryption_table';
export const ESP_SA_FILE = 'esp_sa';

export async function openRuntimePorts(options: RuntimePortsOptions): Promise<RuntimePorts> {
  const scheduler = options.scheduler ?? new HeapRealScheduler();
  const backend = openKernelBackend(options.kernel, options.log);
  let kernel: TrappingKernelPort = backend.kernel;
  let ikeKeylog: Ikev2KeylogWriter | undefined;
  let espKeylog: KeylogKernel | undefined;
  let transport: UdpTransport;
  // Windows of summarised transport errors (src/log/log-summarizer.ts), on the timers' scheduler.
  const logTimers = createTimerService({ scheduler, deliver: (_owner, event) => transportErrors.windowEnded((event as unknown as { key: string }).key) });
  const transportErrors: LogSummarizer = new LogSummarizer({
    log: options.log,
    clock: logTimers,
    wakeAt: (key, atMs) => logTimers.arm('transport-errors', key, atMs, { type: 'LOG_SUMMARY_WINDOW_END', key } as TimerEvent),
  });
  try {
    if (options.keylogDir !== undefined) {
      await prepareKeylogDir(options.keylogDir, options.log);
      ikeKeylog = new Ikev2KeylogWriter({ path: join(options.keylogDir, IKEV2_TABLE_FILE), log: options.log });
      espKeylog = new KeylogKernel(backend.kernel, { espSaPath: join(options.keylogDir, ESP_SA_FILE), log: options.log });
      kernel = espKeylog;
    }
    transport = await UdpTransport.open({
      addresses: options.listen,
      ikePort: options.ikePort,
      nattPort: options.nattPort,
      defaultLocalAddresses: defaultLocalAddresses(options.localAddresses),
      onDatagram: options.onDatagram,
      onError: (error) => {
        // A send error can come once per datagram we answer, to any (spoofed) address: summarised.
        transportErrors.write({
          level: 'warn',
          bindings: {},
          fields: { code: error.code, reason: error.message },
          message: 'transport error',
          summary: { key: `transport-${error.code}`, events: `transport errors (${error.code})` },
        });
        options.onTransportError?.(error);
      },
    });
  } catch (error) {
    logTimers.dispose();
    backend.close();
    throw error;
  }
  try {
    backend.protectSockets(transport.boundSockets());
  } catch (error) {
    logTimers.dispose();
    await transport.close();
    backend.close();
    throw error;
  }
  const timers = createTimerService({ scheduler, deliver: options.deliverTimer });
  const flush = async (): Promise<void> => {
    await espKeylog?.flush();
    await ikeKeylog?.flush();
  };
  return {
    transport,
    timers,
    scheduler,
    kernelBackend: backend.name,
    memory: backend.memory,
    kernel,
    keylog: ikeKeylog,
    random: pooledRandom(),
    flush,
    async close() {
      timers.dispose();
      transportErrors.flush();
      logTimers.dispose();
      await transport.close();
      await flush();
      backend.close();
    },
  };
}

/** The first configured local address of each family (see UdpTransport's wildcard limitation). */
function defaultLocalAddresses(addresses: readonly string[]): { IPv4?: string; IPv6?: string } {
  const v4 = addresses.find((a) => isIP(a) === 4);
  const v6 = addresses.find((a) => isIP(a) === 6);
  return { ...(v4 === undefined ? {} : { IPv4: v4 }), ...(v6 === undefined ? {} : { IPv6: v6 }) };
}
