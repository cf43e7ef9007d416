/**
 * What an engine's machines take from the world, in the order they take it, and what they send:
 * enough to run the same machines again and get the same datagrams out (src/replay/).
 *
 * The machines are pure (machines/ports.ts): a step depends on its input, the clock, the random
 * draws, the load and the configuration. The engine gives the journal each of them at the one
 * place it enters:
 *
 * - an input: a datagram (`receive`), a timer's event, an effect's answer (an SPI, the kernel's
 *   done or failed) or the kernel's expire (all through `deliver`), a command (`initiate`,
 *   `terminate`, `reload`…), with the clock's time when it came; the machines' clock reads that
 *   time for the whole of its handling (and what follows from it before the next input);
 * - every random draw the machines (and `initiate`) make, in order;
 * - every reading of the load (admission);
 * - every datagram out, for checking;
 * - the state value of every IKE SA and Child SA actor after each of its transitions, for
 *   checking and for stepping through.
 *
 * Not journaled: what the effects do in the kernel (a replay runs without one: the answers are
 * inputs), the log, status queries.
 *
 * A journal is given at creation (a record from the start: `--record`, the replay's own) or
 * attached to the running engine (`engine.attachJournal`: `ikekm record start`, a journal watch
 * on the control socket); one attached late is first told each live actor's current state.
 */
import type { EffectAnswer, KernelExpire } from '../../machines/effects.js';
import type { EngineConfig } from '../config/model.js';
import type { Datagram, TimerEvent } from '../ports.js';
import type { KernelPacket } from '../kernel/kernel-port.js';

/** Options of `initiate` and `createChildSa` (ike-engine.ts). */
export interface InitiateOptions {
  /** The packet the SA is wanted for (an acquire's); offered first in TSi/TSr. */
  readonly packet?: KernelPacket;
}

/** A command of the engine's API, as the caller gave it. */
export type EngineCommand =
  | { readonly name: 'initiate'; readonly connection: string; readonly options: InitiateOptions }
  | { readonly name: 'terminate'; readonly target: { readonly connection: string } | { readonly id: string }; readonly reason: string }
  | { readonly name: 'terminateAll'; readonly reason: string }
  | { readonly name: 'rekeyIkeSa'; readonly id: string }
  | { readonly name: 'rekeyChildSa'; readonly id: string; readonly inboundSpi: string | undefined }
  | { readonly name: 'createChildSa'; readonly id: string; readonly options: InitiateOptions }
  | { readonly name: 'deleteChildSa'; readonly id: string; readonly inboundSpi: string }
  | { readonly name: 'refuseNewSas' }
  | { readonly name: 'reload'; readonly config: EngineConfig }
  | { readonly name: 'stop'; readonly leaveKernelState?: true };

export type JournalInput =
  | { readonly kind: 'datagram'; readonly datagram: Datagram }
  /** A timer's event, an effect's answer or the kernel's expire, for the actor `owner`. */
  | { readonly kind: 'deliver'; readonly owner: string; readonly event: TimerEvent | EffectAnswer | KernelExpire }
  | { readonly kind: 'command'; readonly command: EngineCommand };

export interface EngineJournal {
  /** An input arrives at `atMs` on the engine's clock. */
  input(atMs: number, input: JournalInput): void;
  /** A random draw, as the RandomPort gave it. */
  draw(bytes: Buffer): void;
  /** A reading of the LoadPort. */
  load(utilization: number): void;
  /** A datagram the machines sent. */
  output(datagram: Datagram): void;
  /** An IKE SA or Child SA actor's state value after a transition. */
  state(actorId: string, value: unknown): void;
}
