/**
 * What the machines take from the world. They read the clock, draw randomness, compute with the
 * crypto registry and look up the configuration, all synchronously (the same values give the
 * same steps); everything that acts on the world leaves them as an `Effect` (effects.ts) through
 * the one `EffectPort`. The engine builds these from real ports, tests from virtual ones; the
 * machines never import the engine.
 */
import type { ConnectionConfig, EngineConfig } from '../src/config/model.js';
import type { CryptoRegistry } from '../src/crypto/registry.js';
import type { ClockPort, LoadPort, RandomPort } from '../src/ports.js';
import type { Effect } from './effects.js';

/** The configuration the engine runs on now (a reload swaps it). */
export interface ConfigSource {
  current(): EngineConfig;
  connection(name: string): ConnectionConfig | undefined;
  /** The kernel reqid of a connection's Child SAs (stable while the connection exists). */
  reqid(name: string): number;
}

/** Carries out effects after the step that emitted them (src/engine/effect-interpreter.ts). */
export interface EffectPort {
  perform(effect: Effect): void;
}

export interface MachinePorts {
  readonly clock: ClockPort;
  readonly random: RandomPort;
  readonly registry: CryptoRegistry;
  readonly config: ConfigSource;
  readonly effects: EffectPort;
  /** How busy the process is (admission sheds new DH work when it has no time to spare). */
  readonly load: LoadPort;
  /**
   * The kernel enforces the Child SAs' byte limits and says when one is reached (KERNEL_EXPIRE);
   * otherwise the Child SAs poll their byte counters.
   */
  readonly kernelEnforcesByteLimits: boolean;
  /**
   * The daemon is stopping (IkeEngine.refuseNewSas): every IKE SA refuses the peer's new Child
   * SAs from now on. Read, not told: an event to each of 100 000 IKE SAs took seconds of a stop.
   */
  refusingNewSas(): boolean;
}
