/**
 * The ports the machines see, as the engine hands them over (engine-journal.ts):
 *
 * - the clock reads the time of the input being handled, taken once when it arrives: a step and
 *   what follows from it before the next input see one time, so a replay that sets the recorded
 *   time gets the same steps (timer deadlines, token buckets, lifetimes);
 * - with a journal, every random draw, load reading, datagram out and IKE SA / Child SA state
 *   value goes to it too.
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ClockPort, Datagram, LoadPort, NetworkPort, RandomPort } from '../ports.js';
import type { EngineJournal, JournalInput } from './engine-journal.js';

export interface JournaledPorts {
  readonly clock: ClockPort;
  readonly random: RandomPort;
  readonly load: LoadPort;
  readonly network: NetworkPort;
  /** An input arrives: the clock takes its time, the journal records it. */
  enter(input: JournalInput): void;
  /** The engine's inspection: the caller's, plus the actors' state values for the journal. */
  readonly inspect: ((event: InspectionEvent) => void) | undefined;
}

const NEVER_BUSY: LoadPort = { utilization: () => 0 };

export function journaledPorts(
  ports: { readonly clock: ClockPort; readonly random: RandomPort; readonly load?: LoadPort | undefined; readonly network: NetworkPort },
  journal: EngineJournal | undefined,
  userInspect?: (event: InspectionEvent) => void,
): JournaledPorts {
  let inputAtMs = ports.clock.now();
  const clock: ClockPort = { now: () => inputAtMs };
  const load = ports.load ?? NEVER_BUSY;
  const enter = (input: JournalInput): void => {
    inputAtMs = ports.clock.now();
    journal?.input(inputAtMs, input);
  };
  if (journal === undefined) {
    return { clock, random: ports.random, load, network: ports.network, enter, inspect: userInspect };
  }
  /** The last state value journaled per actor (as JSON): an unchanged snapshot is not repeated. */
  const lastState = new Map<string, string>();
  return {
    clock,
    enter,
    random: (n: number): Buffer => {
      const bytes = ports.random(n);
      journal.draw(bytes);
      return bytes;
    },
    load: {
      utilization: (): number => {
        const value = load.utilization();
        journal.load(value);
        return value;
      },
    },
    network: {
      send: (datagram: Datagram): void => {
        journal.output(datagram);
        ports.network.send(datagram);
      },
    },
    inspect: (event: InspectionEvent): void => {
      userInspect?.(event);
      if (event.type !== '@xstate.snapshot') return;
      const snapshot = event.snapshot as { value?: unknown; status?: string };
      const id = (event.actorRef as AnyActorRef).id;
      // IKE SA actors are `ike-<SPI>`, their Child SAs `ike-<SPI>/child-…`; the supervisor is not journaled.
      if (snapshot.value === undefined || !id.startsWith('ike-')) return;
      const json = JSON.stringify(snapshot.value);
      if (snapshot.status !== 'active') lastState.delete(id);
      else if (lastState.get(id) === json) return;
      else lastState.set(id, json);
      journal.state(id, snapshot.value);
    },
  };
}
