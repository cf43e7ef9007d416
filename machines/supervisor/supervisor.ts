/**
 * The supervisor: one per engine. It owns the table SPI → IKE SA actor, routes every inbound
 * datagram to its actor by SPI (RFC 7296 2.2), starts an IKE SA actor for each initiation, for
 * each acceptable IKE_SA_INIT request and for each rekeyed IKE SA (2.18), demands COOKIEs (2.6)
 * once half-open SAs pass a threshold, refuses work beyond its limits (admission.ts), answers
 * requests for unknown SAs with INVALID_IKE_SPI (2.21.4), and forgets actors that end.
 *
 * An IKE SA actor that throws (in a handler, an action, or through a port an effect reached) is
 * torn down here: XState stops it and sends its parent `xstate.error.actor.<id>`; the supervisor
 * logs the error with the SA's SPIs and connection, has its Child SAs deleted from the kernel,
 * gives back its SPIs, reports it down (or failed) and frees its entry and half-open slot. A
 * Child SA actor that throws makes its IKE SA throw (ike-sa.ts), which ends the same way.
 *
 *   running ──STOP_ALL──► stopped
 *
 * Each event has its own named action below. Effects (the cookie answer, log records) leave as
 * data through `perform`; IKE SA actors are started by `startIkeSa` after the step.
 *
 * Scale: IKE SA actors are created with `createActor(logic, { parent, systemId })`, not
 * `spawnChild`, because XState copies the parent's children map on every spawn (2 000 children
 * take 1.4 s, 20 000 take two minutes); `createActor` with a parent is linear (100 000 actors in
 * about 6 s). They report up with `sendParent` and are found with `system.get(id)`. For the same
 * reason the tables are Maps that this actor's own actions update in place: copying a 100 000-
 * entry Map on every event would be quadratic. Nothing outside reads them but the engine's
 * status, through the snapshot.
 *
 * Events for many IKE SAs (all of them at a stop, a connection's at `down`) go out BATCH at a
 * time: XState runs a macrostep's sendTo and stopChild actions from one queue that it empties
 * with `shift()`, which copies the rest of the queue once it is too large for V8 to trim in place:
 * a queue of 100 000 took half a second to empty, one of 400 000 a minute. The rest follows in
 * TELL_EACH or STOP_EACH, which the supervisor sends itself: it is processed within the same
 * `send`, after what the batch's IKE SAs reported meanwhile.
 */
import { assign, createActor, enqueueActions, setup, type AnyActorRef } from 'xstate';
import { createCookieGenerator, type CookieGenerator } from '../../src/ikev2/cookie.js';
import { invalidIkeSpiResponse } from '../../src/ikev2/exchanges/invalid-ike-spi.js';
import { ExchangeType, decodeMessage, ikeSpiHex } from '../../src/wire/index.js';
import { unpooledCopy } from '../../src/wire/unpooled.js';
import { namedAction, performAction, type Effect, type LogLevel, type LogSummary } from '../effects.js';
import type { IkeSaEvent, IkeSaInput } from '../ikev2/ike-sa-context.js';
import { ikeSaActorId } from '../ikev2/ike-sa-id.js';
import type { IkeSaLogic } from '../ikev2/ike-sa.js';
import type { MachinePorts } from '../ports.js';
import { createAdmission } from './admission.js';
import { AdmissionState } from './admission-state.js';
import { isZeroSpi, routeDatagram } from './datagram-routing.js';
import { EstablishedPeers } from './established-peers.js';
import { SasByConnection } from './sas-by-connection.js';
import { HalfOpenTable } from './half-open-table.js';
import { cleanUpAfterFailedIkeSa } from './failed-ike-sa.js';
import type { IkeSaActorError, IkeSaEntry, SupervisorContext, SupervisorEvent } from './supervisor-context.js';

export interface SupervisorOptions {
  readonly ports: MachinePorts;
  readonly ikeSaLogic: IkeSaLogic;
  /** Default: a generator with rotating secrets from the RandomPort and the ClockPort. */
  readonly cookies?: CookieGenerator;
}

/** IKE SAs told (or stopped) per macrostep: the queue XState empties stays small (see "Scale"). */
const BROADCAST_BATCH = 1000;

export function createSupervisorLogic(options: SupervisorOptions) {
  const { ports, ikeSaLogic } = options;
  const cookies = options.cookies ?? createCookieGenerator({ random: ports.random, now: () => ports.clock.now() });
  const log = (level: LogLevel, fields: object, message: string, summary?: LogSummary) =>
    performAction({ kind: 'log', level, bindings: { component: 'supervisor' }, fields, message, summary });

  /**
   * Records a new IKE SA in the tables (in place, see above) and creates its actor; returns the
   * action that starts it after this step. Created now, it is in the system at once, events for
   * it wait in its mailbox, and status sees it; started later, its first steps (which may already
   * end it) do not nest inside this one.
   */
  const register = (context: SupervisorContext, self: AnyActorRef, entry: IkeSaEntry, input: IkeSaInput): never => {
    context.bySpi.set(entry.localSpi, entry.id);
    context.entries.set(entry.id, entry);
    context.byConnection.add(entry.id, entry.connection);
    if (entry.initKey !== undefined) context.byInit.set(entry.initKey, entry.id);
    context.counters.created++;
    const actor = createActor(ikeSaLogic, { parent: self, id: input.id, systemId: input.id, input });
    // XState keeps an actor's input for the actor's life; the initial context has taken over
    // what it needs (ike-sa-initial-context.ts), so the input lets go of what would otherwise stay
    // with every SA: the IKE_SA_INIT request (the context lets it go once IKE_AUTH has used it,
    // 2.15), our SPI and a rekeyed SA's inheritance (keys, Child SA records), which the SA in
    // service keeps in allocations of its own (securityInService).
    const held = input as { request?: unknown; localSpi?: unknown; rekeyed?: unknown };
    held.request = undefined;
    held.localSpi = undefined;
    held.rekeyed = undefined;
    context.actors.set(entry.id, actor);
    return namedAction('startIkeSa', { actor });
  };

  /** Forgets an IKE SA: its table entries, its actor and its half-open slot. */
  const release = (context: SupervisorContext, id: string): IkeSaEntry | undefined => {
    const entry = context.entries.get(id);
    if (entry === undefined) return undefined;
    context.entries.delete(id);
    context.actors.delete(id);
    context.byConnection.delete(id, entry.connection);
    if (entry.established) context.established.delete(id, entry.connection, entry.peerId);
    if (context.bySpi.get(entry.localSpi) === id) context.bySpi.delete(entry.localSpi);
    if (entry.initKey !== undefined && context.byInit.get(entry.initKey) === id) context.byInit.delete(entry.initKey);
    context.halfOpen.delete(id);
    return entry;
  };

  /** A fresh 8-octet SPI that no SA of ours uses (RFC 7296 2.6: SPIs must be unique per side). */
  const drawSpi = (context: SupervisorContext): Buffer => {
    for (;;) {
      const spi = ports.random(8);
      // Kept for the SA's life: in memory of its own (src/wire/unpooled.ts).
      if (!isZeroSpi(spi) && !context.bySpi.has(ikeSpiHex(spi))) return unpooledCopy(spi);
    }
  };

  const admit = createAdmission(ports, cookies);

  const actorOf = (self: AnyActorRef, id: string | undefined): AnyActorRef | undefined =>
    id === undefined ? undefined : (self.system.get(id) as AnyActorRef | undefined);

  /** ids[from …] in one batch (see "Scale" above), and the event for the rest, if any. */
  const batchOf = <E extends SupervisorEvent>(ids: readonly string[], from: number, rest: (from: number) => E): { ids: readonly string[]; rest: E | undefined } => {
    const to = Math.min(ids.length, from + BROADCAST_BATCH);
    return { ids: from === 0 && to === ids.length ? ids : ids.slice(from, to), rest: to < ids.length ? rest(to) : undefined };
  };

  return setup({
    types: {
      context: {} as SupervisorContext,
      events: {} as SupervisorEvent,
    },
    actions: {
      perform: (_, effect: Effect) => ports.effects.perform(effect),
      /** On the next microtask, not inside this action: starting runs the actor's first steps. */
      startIkeSa: ({ self }, params: { actor: AnyActorRef }) => {
        queueMicrotask(() => {
          if (self.getSnapshot().value === 'running') params.actor.start();
        });
      },
      route: enqueueActions(({ context, event, enqueue, self }) => {
        if (event.type !== 'DATAGRAM') return;
        const datagram = event.datagram;
        context.counters.datagrams++;
        const route = routeDatagram(context, datagram);
        switch (route.kind) {
          case 'malformed':
            context.counters.malformed++;
            enqueue(log('debug', { remote: datagram.remote.address, error: route.reason }, 'malformed IKE datagram dropped', { key: 'malformed', events: 'malformed IKE datagrams dropped' }));
            return;
          case 'unknown-spi': {
            context.counters.unknownSpi++;
            const h = route.message.header;
            // RFC 7296 2.21.4: a response for an SA we do not know "MUST NOT" be answered; a request
            // (but not one starting an IKE SA) may get an unprotected INVALID_IKE_SPI, rate-limited:
            // it goes to any source address, and must not make us a reflector.
            if (h.flags.response) {
              context.counters.unknownSpiResponses++;
              return;
            }
            if (h.exchangeType === ExchangeType.IKE_SA_INIT) return;
            if (!context.admission.invalidSpiAnswers.take(ports.clock.now(), ports.config.current().settings.invalidSpiAnswersPerSecond)) {
              context.counters.invalidSpiRateLimited++;
              return;
            }
            context.counters.invalidSpiSent++;
            enqueue(performAction({ kind: 'send', local: datagram.local, remote: datagram.remote, datagrams: [invalidIkeSpiResponse(h)] }));
            enqueue(
              log('debug', { remote: datagram.remote.address, spiI: ikeSpiHex(h.spiI), spiR: ikeSpiHex(h.spiR), messageId: h.messageId }, 'request for an unknown IKE SA: answered INVALID_IKE_SPI'),
            );
            return;
          }
          case 'forward': {
            const actor = actorOf(self, route.id);
            if (actor === undefined) context.counters.unknownSpi++;
            else enqueue.sendTo(actor, { type: 'MESSAGE', datagram, message: route.message } satisfies IkeSaEvent);
            return;
          }
          case 'new-responder':
            break;
        }
        const admission = admit(context, datagram, route.init);
        switch (admission.kind) {
          case 'refuse':
            context.counters[admission.counter]++;
            // One per datagram from anyone (spoofable): summarised per kind of refusal.
            enqueue(log(admission.level, admission.fields, admission.message, { key: `refused-${admission.counter}`, events: `IKE_SA_INIT refused (${admission.counter})` }));
            return;
          case 'cookie':
            context.counters.cookiesSent++;
            enqueue(performAction({ kind: 'send', local: datagram.local, remote: datagram.remote, datagrams: [admission.response] }));
            return;
          case 'admit':
            break;
        }
        // Admitted: now decoded whole (only peeked at so far). A malformed one has spent its
        // admission (a token of the rate), as a well-formed one that never finishes would.
        const decoded = decodeMessage(datagram.bytes);
        if (!decoded.ok) {
          context.counters.malformed++;
          enqueue(log('debug', { remote: datagram.remote.address, error: decoded.error.message }, 'malformed IKE datagram dropped', { key: 'malformed', events: 'malformed IKE datagrams dropped' }));
          return;
        }
        if (admission.configuredPeer) context.counters.admittedConfiguredPeer++;
        const localSpi = drawSpi(context);
        const id = ikeSaActorId(localSpi);
        context.halfOpen.add(id, { address: datagram.remote.address, bytes: admission.halfOpenBytes });
        const input: IkeSaInput = {
          id,
          kind: 'respond',
          localSpi,
          candidates: admission.candidates,
          local: datagram.local,
          remote: datagram.remote,
          // Until IKE_AUTH signs it (2.15): a copy of its own, not a slice of a pool slab (unpooled.ts).
          request: { bytes: unpooledCopy(datagram.bytes) },
        };
        enqueue(
          register(
            context,
            self,
            { id, localSpi: ikeSpiHex(localSpi), connection: undefined, peerId: undefined, established: false, initKey: route.initKey, remoteAddress: datagram.remote.address },
            input,
          ),
        );
      }),
      initiate: enqueueActions(({ context, event, enqueue, self }) => {
        if (event.type !== 'INITIATE') return;
        const conn = ports.config.connection(event.connection);
        if (conn === undefined) {
          enqueue(log('error', { connection: event.connection }, 'initiate: no such connection'));
          return;
        }
        // The engine refuses these before they get here (engine.initiate throws); kept as a guard.
        if (context.admission.refusingNewSas) {
          enqueue(log('warn', { connection: event.connection }, 'initiate refused: stopping, no new IKE SAs'));
          return;
        }
        const id = ikeSaActorId(event.localSpi);
        const input: IkeSaInput = {
          id,
          kind: 'initiate',
          localSpi: event.localSpi,
          connection: conn.name,
          local: { address: conn.local.address, port: conn.local.port },
          remote: { address: conn.remote.address, port: conn.remote.port },
          ...(event.trigger === undefined ? {} : { trigger: event.trigger }),
        };
        enqueue(register(context, self, { id, localSpi: ikeSpiHex(event.localSpi), connection: conn.name, peerId: undefined, established: false, initKey: undefined }, input));
      }),
      /** A rekey created an IKE SA (2.18): it takes its place in the table. */
      startSuccessor: enqueueActions(({ context, event, enqueue, self }) => {
        if (event.type !== 'IKE_SA_REKEYED') return;
        const s = event.successor;
        const old = context.entries.get(event.id);
        const start = register(context, self, { id: s.id, localSpi: ikeSpiHex(s.localSpi), connection: s.connection, peerId: old?.peerId ?? s.rekeyed?.peerId, established: false, initKey: undefined }, s);
        enqueue(start);
        if (context.admission.refusingNewSas) {
          // Stopping: the peer's rekey went through before its IKE SA heard our Delete (2.25). The
          // new SA is deleted at once, so the peer is not left with an SA we no longer have.
          const actor = context.actors.get(s.id);
          if (actor !== undefined) enqueue.sendTo(actor, { type: 'TERMINATE', reason: 'stopping: no new IKE SAs' } satisfies IkeSaEvent);
        }
      }),
      markEstablished: assign(({ context, event }) => {
        if (event.type !== 'IKE_SA_ESTABLISHED') return {};
        const entry = context.entries.get(event.id);
        if (entry !== undefined) {
          if (entry.established) context.established.delete(entry.id, entry.connection, entry.peerId);
          context.byConnection.delete(entry.id, entry.connection);
          entry.connection = event.connection;
          context.byConnection.add(entry.id, entry.connection);
          entry.peerId = event.peerId;
          entry.established = true;
          context.established.add(entry.id, entry.connection, entry.peerId);
          // The peer at this address authenticated: its earlier failures are forgiven.
          if (entry.remoteAddress !== undefined) context.admission.authBackoff.succeeded(entry.remoteAddress);
        }
        context.halfOpen.delete(event.id);
        return {};
      }),
      /** RFC 7296 5: online guessing of the PSK; the address backs off after repeated failures. */
      backOffAddress: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'IKE_SA_AUTH_FAILED') return;
        const address = context.entries.get(event.id)?.remoteAddress;
        if (address === undefined) return;
        context.counters.authFailures++;
        const { settings } = ports.config.current();
        const outcome = context.admission.authBackoff.failed(address, ports.clock.now(), {
          threshold: settings.authFailuresBeforeBackoff,
          baseSeconds: settings.authBackoffSeconds,
          maxSeconds: settings.authBackoffMaxSeconds,
        });
        if (outcome !== undefined) {
          enqueue(
            log(
              'warn',
              { remote: address, failures: outcome.failures, blockedSeconds: outcome.blockedForMs / 1000 },
              'authentication failed repeatedly from this address: its IKE_SA_INIT requests are dropped for a while',
            ),
          );
        }
      }),
      /** An IKE SA actor threw: tear it down and free what it held (see the top of this file). */
      recoverFromFailure: enqueueActions(({ context, event, enqueue, self }) => {
        if (!event.type.startsWith('xstate.error.actor.')) return;
        const failure = event as IkeSaActorError;
        const entry = context.entries.get(failure.actorId);
        if (entry === undefined) return;
        const actor = context.actors.get(failure.actorId);
        for (const action of cleanUpAfterFailedIkeSa({ entry, actor, error: failure.error, now: ports.clock.now(), actorOf: (id) => actorOf(self, id) })) enqueue(action);
        release(context, failure.actorId);
        context.counters.crashed++;
        context.counters.closed++;
      }),
      /** The daemon stops: no new IKE SA here (each IKE SA reads MachinePorts.refusingNewSas for its Child SAs). */
      refuseNewSas: assign(({ context }) => {
        context.admission.refusingNewSas = true;
        return {};
      }),
      /** RFC 7296 2.4: INITIAL_CONTACT says the peer has no other IKE SA with us; ours are stale. */
      dropStaleSas: enqueueActions(({ context, event, enqueue, self }) => {
        if (event.type !== 'IKE_SA_INITIAL_CONTACT') return;
        // Only this peer's SAs of this connection: an index, not a scan of the table (established-peers.ts).
        for (const id of context.established.of(event.connection, event.peerId)) {
          const entry = context.entries.get(id);
          if (entry === undefined || entry.id === event.id || !entry.established) continue;
          enqueue(log('info', { connection: event.connection, stale: entry.id }, 'INITIAL_CONTACT: dropping an older IKE SA with this peer'));
          const actor = actorOf(self, entry.id);
          if (actor !== undefined) enqueue.sendTo(actor, { type: 'DISCARD', reason: 'INITIAL_CONTACT from the peer' } satisfies IkeSaEvent);
        }
      }),
      /** The old SA of a rekey collision closes: the peer's redundant SA stops waiting (2.8.2). */
      tellRedundant: enqueueActions(({ event, enqueue, self }) => {
        if (event.type !== 'IKE_SA_PREDECESSOR_GONE') return;
        const actor = actorOf(self, event.successor);
        if (actor !== undefined) enqueue.sendTo(actor, { type: 'PREDECESSOR_GONE' } satisfies IkeSaEvent);
      }),
      forget: assign(({ context, event }) => {
        if (event.type !== 'IKE_SA_CLOSED') return {};
        if (release(context, event.id) !== undefined) context.counters.closed++;
        return {};
      }),
      /** TERMINATE, TERMINATE_ALL, DISCARD_ALL, TO_IKE_SA, TELL_EACH: an event for some or all IKE SAs. */
      tell: enqueueActions(({ context, event, enqueue, self }) => {
        const send = (id: string, e: IkeSaEvent): void => {
          const actor = actorOf(self, id);
          if (actor !== undefined) enqueue.sendTo(actor, e);
        };
        const sendEach = (ids: readonly string[], from: number, e: IkeSaEvent): void => {
          const batch = batchOf(ids, from, (next) => ({ type: 'TELL_EACH', ids, from: next, event: e }));
          for (const id of batch.ids) send(id, e);
          if (batch.rest !== undefined) enqueue.sendTo(self, batch.rest);
        };
        switch (event.type) {
          case 'TERMINATE':
            if (event.id !== undefined) {
              if (context.entries.has(event.id)) send(event.id, { type: 'TERMINATE', reason: event.reason });
            } else if (event.connection !== undefined) {
              sendEach(context.byConnection.of(event.connection), 0, { type: 'TERMINATE', reason: event.reason });
            }
            return;
          case 'TERMINATE_ALL':
            sendEach([...context.entries.keys()], 0, { type: 'TERMINATE', reason: event.reason });
            return;
          case 'DISCARD_ALL':
            sendEach([...context.entries.keys()], 0, { type: 'DISCARD', reason: event.reason });
            return;
          case 'TELL_EACH':
            sendEach(event.ids, event.from, event.event);
            return;
          case 'TO_IKE_SA':
            send(event.id, event.event);
            return;
        }
      }),
      /**
       * IKE SA actors are not this actor's children (createActor with a parent): stopped one by
       * one, a batch at a time (STOP_EACH, see "Scale" above).
       */
      stopEach: enqueueActions(({ event, enqueue, self }) => {
        if (event.type !== 'STOP_EACH') return;
        const batch = batchOf(event.ids, event.from, (next) => ({ type: 'STOP_EACH', ids: event.ids, from: next }));
        for (const id of batch.ids) {
          const actor = actorOf(self, id);
          if (actor !== undefined) enqueue.stopChild(actor);
        }
        if (batch.rest !== undefined) enqueue.sendTo(self, batch.rest);
      }),
      stopAll: enqueueActions(({ context, enqueue }) => {
        enqueue.raise({ type: 'STOP_EACH', ids: [...context.entries.keys()], from: 0 });
        enqueue.assign(() => {
          context.counters.closed += context.entries.size;
          context.entries.clear();
          context.actors.clear();
          context.bySpi.clear();
          context.byInit.clear();
          context.halfOpen.clear();
          context.established.clear();
          context.byConnection.clear();
          return {};
        });
      }),
    },
  }).createMachine({
    id: 'supervisor',
    context: () => ({
      bySpi: new Map(),
      entries: new Map(),
      actors: new Map(),
      byInit: new Map(),
      halfOpen: new HalfOpenTable(),
      established: new EstablishedPeers(),
      byConnection: new SasByConnection(),
      admission: new AdmissionState(),
      counters: {
        datagrams: 0,
        malformed: 0,
        unknownSpi: 0,
        unknownSpiResponses: 0,
        invalidSpiSent: 0,
        invalidSpiRateLimited: 0,
        noConnection: 0,
        cookiesSent: 0,
        refusedLimits: 0,
        refusedShutdown: 0,
        refusedAuthBackoff: 0,
        refusedPerAddress: 0,
        refusedBudget: 0,
        refusedRate: 0,
        refusedLoad: 0,
        admittedConfiguredPeer: 0,
        authFailures: 0,
        created: 0,
        closed: 0,
        crashed: 0,
      },
    }),
    initial: 'running',
    states: {
      running: {
        on: {
          DATAGRAM: { actions: 'route' },
          INITIATE: { actions: 'initiate' },
          IKE_SA_REKEYED: { actions: 'startSuccessor' },
          IKE_SA_ESTABLISHED: { actions: 'markEstablished' },
          IKE_SA_INITIAL_CONTACT: { actions: 'dropStaleSas' },
          IKE_SA_PREDECESSOR_GONE: { actions: 'tellRedundant' },
          IKE_SA_CLOSED: { actions: 'forget' },
          IKE_SA_AUTH_FAILED: { actions: 'backOffAddress' },
          'xstate.error.actor.*': { actions: 'recoverFromFailure' },
          REFUSE_NEW_SAS: { actions: 'refuseNewSas' },
          TERMINATE: { actions: 'tell' },
          TERMINATE_ALL: { actions: 'tell' },
          DISCARD_ALL: { actions: 'tell' },
          TO_IKE_SA: { actions: 'tell' },
          TELL_EACH: { actions: 'tell' },
          STOP_ALL: { target: 'stopped', actions: 'stopAll' },
        },
      },
      // The engine stopped: nothing is routed or started any more; the IKE SA actors are stopped.
      stopped: {
        on: { STOP_EACH: { actions: 'stopEach' } },
      },
    },
  });
}

export type SupervisorLogic = ReturnType<typeof createSupervisorLogic>;
