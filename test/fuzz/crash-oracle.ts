/**
 * What counts as a crash for the fuzzer, watched on one engine: an actor that ends in error
 * status (XState catches an exception in a machine's step and stops that actor), an exception
 * that escapes `receive` or `deliverTimer`, and, process-wide, an uncaught exception or an
 * unhandled rejection (a kernel or effect promise nobody awaited).
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { SaEvent } from '../../src/engine/engine-ports.js';

export interface CrashReport {
  readonly kind: 'actor-error' | 'exception' | 'uncaught' | 'unhandled-rejection' | 'invariant';
  readonly message: string;
  readonly stack?: string | undefined;
}

export class CrashOracle {
  readonly crashes: CrashReport[] = [];

  /**
   * For the engine's `inspect` option: subscribes to every actor as it is created and records an
   * error it ends with. (An actor that errs emits no snapshot inspection event, only its
   * observers hear of it; an IKE SA actor's parent is merely sent an error event.)
   */
  readonly inspect = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.actor') return;
    const actor = event.actorRef as AnyActorRef;
    actor.subscribe({
      error: (error: unknown) => {
        this.crashes.push({
          kind: 'actor-error',
          message: `actor ${actor.id} in error status: ${error instanceof Error ? error.message : String(error)}`,
          stack: error instanceof Error ? error.stack : undefined,
        });
      },
    });
  };

  /** Runs `f`; an exception it throws is a crash. */
  guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.crashes.push({ kind: 'exception', message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    }
  }

  /**
   * SA events of the watched engine: an IKE SA torn down because its actor threw (cause
   * `internal-error`, the supervisor's catch) is a crash the engine survived, still a crash.
   */
  readonly onEvent = (event: SaEvent): void => {
    if (event.kind === 'ike-sa-down' && event.cause === 'internal-error') {
      this.crashes.push({ kind: 'actor-error', message: `IKE SA ${event.id} torn down after its actor threw: ${event.reason}` });
    }
  };

  invariant(holds: boolean, message: string): void {
    if (!holds) this.crashes.push({ kind: 'invariant', message });
  }

  get crashed(): boolean {
    return this.crashes.length > 0;
  }
}

/**
 * Catches what escapes to the process while `run` is in progress and hands it to the oracle of
 * the moment (`current()`); the handlers are removed afterwards.
 */
export async function withProcessTraps<T>(current: () => CrashOracle | undefined, run: () => Promise<T>): Promise<T> {
  const uncaught = (e: Error): void => {
    (current() ?? fallback).crashes.push({ kind: 'uncaught', message: e.message, stack: e.stack });
  };
  const rejection = (reason: unknown): void => {
    (current() ?? fallback).crashes.push({
      kind: 'unhandled-rejection',
      message: reason instanceof Error ? reason.message : String(reason),
      stack: reason instanceof Error ? reason.stack : undefined,
    });
  };
  const fallback = new CrashOracle();
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', rejection);
  try {
    return await run();
  } finally {
    process.off('uncaughtException', uncaught);
    process.off('unhandledRejection', rejection);
  }
}
