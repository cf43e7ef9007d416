/**
 * The real ports an engine runs on in a process: UDP sockets, the RxJS timer service on the
 * wall clock, the kernel backend (MemoryKernel; wrapped in KeylogKernel when the user asked for a
 * key log), the ikev2_decryption_table writer, node:crypto randomness. The daemon builds them
 * here; a test peer can too.
 *
 * The key log is the user's explicit export of secrets (`--keylog DIR`): both tables are written
 * 0600 in a 0700 directory, and nothing of them reaches the log.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import type { IkeKeylogPort } from '../engine/engine-ports.js';
import { Ikev2KeylogWriter, KeylogKernel } from '../kernel/keylog-kernel.js';
import type { TrappingKernelPort } from '../kernel/kernel-port.js';
import { MemoryKernel } from '../kernel/memory-kernel.js';
import type { Datagram, LogPort, RandomPort, TimerEvent } from '../ports.js';
import { createTimerService, type TimerService } from '../timers/timer-service.js';
import type { TransportError } from '../transport/transport-error.js';
import { UdpTransport } from '../transport/udp-transport.js';

export interface RuntimePortsOptions {
  readonly listen: readonly string[];
  readonly ikePort: number;
  readonly nattPort: number;
  /** Local addresses the configured connections use: reported for datagrams on wildcard sockets. */
  readonly localAddresses: readonly string[];
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
  /** The backend itself, for status (byte counters) without going through the async port. */
  readonly memory: MemoryKernel;
  /** SAs and policies for the engine; traps and acquires for the daemon's on-demand connections. */
  readonly kernel: TrappingKernelPort;
  readonly keylog: IkeKeylogPort | undefined;
  readonly random: RandomPort;
  /** Key tables on disk (no-op without a key log). */
  flush(): Promise<void>;
  /** Cancels every timer and closes the sockets; the key tables are flushed. */
  close(): Promise<void>;
}

export const IKEV2_TABLE_FILE = 'ikev2_decryption_table';
export const ESP_SA_FILE = 'esp_sa';

export async function openRuntimePorts(options: RuntimePortsOptions): Promise<RuntimePorts> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const memory = new MemoryKernel();
  let kernel: TrappingKernelPort = memory;
  let ikeKeylog: Ikev2KeylogWriter | undefined;
  let espKeylog: KeylogKernel | undefined;
  if (options.keylogDir !== undefined) {
    mkdirSync(options.keylogDir, { recursive: true, mode: 0o700 });
    ikeKeylog = new Ikev2KeylogWriter({ path: join(options.keylogDir, IKEV2_TABLE_FILE), log: options.log });
    espKeylog = new KeylogKernel(memory, { espSaPath: join(options.keylogDir, ESP_SA_FILE), log: options.log });
    kernel = espKeylog;
  }
  const timers = createTimerService({ scheduler, deliver: options.deliverTimer });
  const transport = await UdpTransport.open({
    addresses: options.listen,
    ikePort: options.ikePort,
    nattPort: options.nattPort,
    defaultLocalAddresses: defaultLocalAddresses(options.localAddresses),
    onDatagram: options.onDatagram,
    onError: (error) => {
      options.log.warn({ code: error.code, reason: error.message }, 'transport error');
      options.onTransportError?.(error);
    },
  });
  const flush = async (): Promise<void> => {
    await espKeylog?.flush();
    await ikeKeylog?.flush();
  };
  return {
    transport,
    timers,
    scheduler,
    memory,
    kernel,
    keylog: ikeKeylog,
    random: (n) => randomBytes(n),
    flush,
    async close() {
      timers.dispose();
      await transport.close();
      await flush();
    },
  };
}

/** The first configured local address of each family (see UdpTransport's wildcard limitation). */
function defaultLocalAddresses(addresses: readonly string[]): { IPv4?: string; IPv6?: string } {
  const v4 = addresses.find((a) => isIP(a) === 4);
  const v6 = addresses.find((a) => isIP(a) === 6);
  return { ...(v4 === undefined ? {} : { IPv4: v4 }), ...(v6 === undefined ? {} : { IPv6: v6 }) };
}
