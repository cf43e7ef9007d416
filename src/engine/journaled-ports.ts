/**
 * The ports the machines see, as the engine hands them over (engine-journal.ts):
 *
 * - the clock reads the time of the input being handled, taken once when it arrives: a step and
 *   what follows from it before the next input see one time, so a replay that sets the recorded
 *   time gets the same steps (timer deadlines, token buckets, lifetimes);
 * - while a journal is attached (the one the engine was created with, or one attached at run
 *   time, any number at once), every input, random draw, load reading, datagram out and IKE SA /
 *   Child SA state value goes to it too.
 *
 * The state values come from XState's inspection, which costs on every event of every actor; so
 * the engine's actor system is inspected only while someone needs it: from creation when the
 * engine was created with a journal or an `inspect` of the caller's (handed to `createActor`, as
 * before), otherwise only while a run-time journal is attached (`system.inspect`, unsubscribed
 * when the last one leaves).
 */
import type { AnyActorRef, InspectionEvent } from 'xstate';
import type { ClockPort, Datagram, LoadPort, NetworkPort, RandomPort } from '../ports.js';
import type { EngineJournal, JournalInput } from './engine-journal.js';

/** What the journal needs of the engine's running actor system (XState's `actor.system`). */
export interface InspectableSystem {
  inspect(observer: (event: InspectionEvent) => void): { unsubscribe(): void };
  /** Every actor with a system id, by that id, in the order they were made (parents first). */
  getAll(): Record<string, AnyActorRef>;
}

export interface JournaledPorts {
  readonly clock: ClockPort;
  readonly random: RandomPort;
  readonly load: LoadPort;
  readonly network: NetworkPort;
  /** An input arrives: the clock takes its time, the attached journals record it. */
  enter(input: JournalInput): void;
  /**
   * The inspection to hand `createActor`: the caller's plus the journals', when either is there
   * from creation; undefined otherwise (XState then does no inspection work at all).
   */
  readonly inspect: ((event: InspectionEvent) => void) | undefined;
  /**
   * Journals to `journal` too from now on, until the returned function is called (idempotent).
   * It first gets one `state` for every live IKE SA and Child SA actor (its current value), so
   * it knows where each one stands before the next input. `system` is the engine's actor system.
   */
  attach(journal: EngineJournal, system: InspectableSystem): () => void;
}

const NEVER_BUSY: LoadPort = { utilization: () => 0 };

/** IKE SA actors are `ike-<SPI>`, their Child SAs `ike-<SPI>/child-…`; the supervisor is not journaled. */
const isSaActor = (id: string): boolean => id.startsWith('ike-');

export function journaledPorts(
  ports: { readonly clock: ClockPort; readonly random: RandomPort; readonly load?: LoadPort | undefined; readonly network: NetworkPort },
  journal: EngineJournal | undefined,
  userInspect?: (event: InspectionEvent) => void,
): JournaledPorts {
  let inputAtMs = ports.clock.now();
  const clock: ClockPort = { now: () => inputAtMs };
  const load = ports.load ?? NEVER_BUSY;
  /** The attached journals, the creation one first; replaced (not mutated) on attach and detach. */
  let journals: readonly EngineJournal[] = journal === undefined ? [] : [journal];
  /**
   * The last state value journaled per actor (as JSON): an unchanged snapshot is not repeated.
   * Kept only while some journal is attached; emptied when the last one leaves, and filled again
   * from the actors' current values when one comes (what it is told first).
   */
  const lastState = new Map<string, string>();
  /** The run-time inspection, while journals are attached to an engine created without one. */
  let inspection: { unsubscribe(): void } | undefined;

  const journalState = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.snapshot' || journals.length === 0) return;
    const snapshot = event.snapshot as { value?: unknown; status?: string };
    const id = (event.actorRef as AnyActorRef).id;
    if (snapshot.value === undefined || !isSaActor(id)) return;
    const json = JSON.stringify(snapshot.value);
    if (snapshot.status !== 'active') lastState.delete(id);
    else if (lastState.get(id) === json) return;
    else lastState.set(id, json);
    for (const j of journals) j.state(id, snapshot.value);
  };
  const fromCreation = journal !== undefined || userInspect !== undefined;
  const inspect = !fromCreation
    ? undefined
    : userInspect === undefined
      ? journalState
      : (event: InspectionEvent): void => {
          userInspect(event);
          journalState(event);
        };

  const attach = (added: EngineJournal, system: InspectableSystem): (() => void) => {
    if (journals.length === 0 && !fromCreation) inspection = system.inspect(journalState);
    // What it joins: each live actor's current value, and the base of the dedup from here on.
    for (const [id, actor] of Object.entries(system.getAll())) {
      const snapshot = actor.getSnapshot() as { value?: unknown; status?: string };
      if (!isSaActor(id) || snapshot.status !== 'active' || snapshot.value === undefined) continue;
      lastState.set(id, JSON.stringify(snapshot.value));
      added.state(id, snapshot.value);
    }
    journals = [...journals, added];
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      journals = journals.filter((j) => j !== added);
      if (journals.length > 0) return;
      // Nobody follows: no state is tracked (a later attach starts from the actors' values then).
      lastState.clear();
      inspection?.unsubscribe();
      inspection = undefined;
    };
  };

  // Without a journal each port costs one length check over the bare port (an empty for-of
  // still makes an iterator in V8's interpreter, before the function is optimized).
  return {
    clock,
    enter: (input: JournalInput): void => {
      inputAtMs = ports.clock.now();
      if (journals.length !== 0) for (const j of journals) j.input(inputAtMs, input);
    },
    random: (n: number): Buffer => {
      const bytes = ports.random(n);
      if (journals.length !== 0) for (const j of journals) j.draw(bytes);
      return bytes;
    },
    load: {
      utilization: (): number => {
        const value = load.utilization();
        if (journals.length !== 0) for (const j of journals) j.load(value);
        return value;
      },
    },
    network: {
      send: (datagram: Datagram): void => {
        if (journals.length !== 0) for (const j of journals) j.output(datagram);
        ports.network.send(datagram);
      },
    },
    inspect,
    attach,
  };
}
