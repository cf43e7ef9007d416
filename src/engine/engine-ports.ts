/**
 * Everything the machines reach the world through (ARCHITECTURE rule 1), bundled: the daemon
 * builds it from real ports, tests from virtual ones. The machines get it once, through their
 * logic factories (`createIkeSaLogic(ports)` ...), never through context, so context stays plain
 * data.
 */
import type { EngineConfig, ConnectionConfig } from '../config/model.js';
import type { CryptoRegistry } from '../crypto/registry.js';
import type { KernelPort } from '../kernel/kernel-port.js';
import type { IkeSaKeys } from '../kernel/ikev2-keylog-writer.js';
import type { ClockPort, LogPort, NetworkPort, RandomPort, TimerPort } from '../ports.js';

/** The configuration the engine runs on now (a reload swaps it). */
export interface ConfigSource {
  current(): EngineConfig;
  connection(name: string): ConnectionConfig | undefined;
  /** The kernel reqid of a connection's Child SAs (stable while the connection exists). */
  reqid(name: string): number;
}

/** What happened to an SA, for `ikekm watch`, status counters and tests. Plain data, no secrets. */
export type SaEvent =
  | {
      readonly kind: 'ike-sa-up';
      readonly connection: string;
      readonly id: string;
      readonly spiI: string;
      readonly spiR: string;
      readonly role: 'initiator' | 'responder';
      readonly rekeyed: boolean;
      readonly rekeyAtMs: number;
      readonly expireAtMs: number;
      readonly atMs: number;
    }
  | { readonly kind: 'ike-sa-down'; readonly connection: string; readonly id: string; readonly spiI: string; readonly spiR: string; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'ike-sa-rekeyed'; readonly connection: string; readonly id: string; readonly newId: string; readonly atMs: number }
  | { readonly kind: 'ike-sa-failed'; readonly connection: string; readonly id: string; readonly reason: string; readonly notify?: string; readonly atMs: number }
  | {
      readonly kind: 'child-sa-up';
      readonly connection: string;
      readonly ikeSa: string;
      readonly inboundSpi: string;
      readonly outboundSpi: string;
      readonly rekeyOf?: string;
      readonly rekeyAtMs: number;
      readonly expireAtMs: number;
      readonly atMs: number;
    }
  | { readonly kind: 'child-sa-down'; readonly connection: string; readonly ikeSa: string; readonly inboundSpi: string; readonly outboundSpi: string; readonly reason: string; readonly atMs: number }
  | { readonly kind: 'child-sa-failed'; readonly connection: string; readonly ikeSa: string; readonly reason: string; readonly notify?: string; readonly atMs: number };

export interface SaEventSink {
  report(event: SaEvent): void;
}

/**
 * Where the keys of every established IKE SA (initial or rekeyed) go when the user asked for a
 * key log (Wireshark's ikev2_decryption_table): `Ikev2KeylogWriter` fits. Optional.
 */
export interface IkeKeylogPort {
  ikeSaEstablished(keys: IkeSaKeys): void | Promise<void>;
}

/**
 * Inbound ESP SPIs (RFC 4303 2.1) unique among this node's Child SAs, as XFRM's allocspi gives
 * them: random draws through the RandomPort, redrawn when taken. Released when the SA is gone.
 */
export interface ChildSpiAllocator {
  allocate(): Buffer;
  release(spi: number): void;
}

export interface EnginePorts {
  readonly network: NetworkPort;
  readonly timers: TimerPort;
  readonly clock: ClockPort;
  readonly log: LogPort;
  readonly random: RandomPort;
  readonly kernel: KernelPort;
  readonly registry: CryptoRegistry;
  readonly config: ConfigSource;
  readonly events: SaEventSink;
  readonly keylog?: IkeKeylogPort | undefined;
  readonly spis: ChildSpiAllocator;
}
