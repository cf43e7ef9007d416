/**
 * The supervisor: one per engine. It owns the table SPI → IKE SA actor, routes every inbound
 * datagram to its actor by SPI (RFC 7296 2.2: our SPI identifies the SA), starts an IKE SA actor
 * for each initiation and for each acceptable IKE_SA_INIT request, demands COOKIEs (2.6) once
 * half-open SAs pass a threshold, refuses work beyond its limits, and forgets actors that end.
 *
 * Scale: IKE SA actors are created with `createActor(logic, { parent, systemId })`, not
 * `spawnChild`, because XState copies the parent's children map on every spawn (quadratic,
 * STACK.md); the table is a Map in context that actions update in place for the same reason.
 * Such actors are not part of the supervisor's persisted snapshot; they report up with events
 * (`sendParent`) and are found with `system.get(id)`.
 */
import { createActor, enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { EnginePorts } from '../src/engine/engine-ports.js';
import { createCookieGenerator, type CookieGenerator } from '../src/ikev2/cookie.js';
import { connectionsForAddresses } from '../src/ikev2/exchanges/connection-policy.js';
import { cookieOf, cookieResponse } from '../src/ikev2/exchanges/ike-sa-init.js';
import { spiHex } from '../src/ikev2/ike-sa-session.js';
import type { Datagram } from '../src/ports.js';
import { ExchangeType, PayloadType, decodeMessage, findPayload, type IkeMessage } from '../src/wire/index.js';
import type { IkeSaEvent, IkeSaInput, IkeSaReport } from './ikev2/ike-sa-context.js';
import type { IkeSaLogic } from './ikev2/ike-sa.js';

export interface SupervisorCounters {
  datagrams: number;
  malformed: number;
  unknownSpi: number;
  noConnection: number;
  cookiesSent: number;
  refusedLimits: number;
  created: number;
  closed: number;
}

export interface IkeSaEntry {
  readonly id: string;
  readonly localSpi: string;
  connection: string | undefined;
  peerId: string | undefined;
  established: boolean;
  /** Key of the IKE_SA_INIT that created a responder (remote address, port, SPIi). */
  readonly initKey: string | undefined;
}

export interface SupervisorContext {
  /** Our SPI (hex) → IKE SA actor system id. */
  readonly table: Map<string, string>;
  /** IKE SA id → what the supervisor knows of it. */
  readonly entries: Map<string, IkeSaEntry>;
  /** (remote, SPIi) of IKE_SA_INIT requests → responder actor, so retransmissions reach it (2.1). */
  readonly byInit: Map<string, string>;
  /** Responder SAs that have not completed IKE_AUTH (2.6 half-open). */
  readonly halfOpen: Set<string>;
  readonly counters: SupervisorCounters;
}

export type SupervisorEvent =
  | { type: 'DATAGRAM'; datagram: Datagram }
  | { type: 'INITIATE'; connection: string; localSpi: Buffer }
  | { type: 'TERMINATE'; connection?: string; id?: string; reason: string }
  | { type: 'TERMINATE_ALL'; reason: string }
  | { type: 'DISCARD_ALL'; reason: string }
  /** Engine stop: every IKE SA actor (and with it its Child SA actors) stopped, the table emptied. */
  | { type: 'STOP_ALL' }
  | { type: 'TO_IKE_SA'; id: string; event: IkeSaEvent }
  | IkeSaReport;

export const ikeSaId = (localSpi: Uint8Array): string => `ike-${spiHex(localSpi)}`;

const initKeyOf = (d: Datagram, spiI: Uint8Array): string => `${d.remote.address}|${d.remote.port}|${spiHex(spiI)}`;
const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);
const WILDCARDS = new Set(['0.0.0.0', '::', '%any']);

export interface SupervisorOptions {
  readonly ports: EnginePorts;
  readonly ikeSaLogic: IkeSaLogic;
  /** Default: a generator with rotating secrets from the RandomPort and the ClockPort. */
  readonly cookies?: CookieGenerator;
}

export function createSupervisorLogic(options: SupervisorOptions) {
  const { ports, ikeSaLogic } = options;
  const cookies = options.cookies ?? createCookieGenerator({ random: ports.random, now: () => ports.clock.now() });
  const log = ports.log.child({ component: 'supervisor' });

  const start = (self: AnyActorRef, context: SupervisorContext, input: IkeSaInput, entry: IkeSaEntry): void => {
    context.table.set(entry.localSpi, input.id);
    context.entries.set(input.id, entry);
    if (entry.initKey !== undefined) context.byInit.set(entry.initKey, input.id);
    context.counters.created++;
    createActor(ikeSaLogic, { parent: self, id: input.id, systemId: input.id, input }).start();
  };

  const forget = (context: SupervisorContext, id: string): void => {
    const entry = context.entries.get(id);
    if (entry === undefined) return;
    context.entries.delete(id);
    if (context.table.get(entry.localSpi) === id) context.table.delete(entry.localSpi);
    if (entry.initKey !== undefined && context.byInit.get(entry.initKey) === id) context.byInit.delete(entry.initKey);
    context.halfOpen.delete(id);
    context.counters.closed++;
  };

  /** A fresh 8-octet SPI that no SA of ours uses (RFC 7296 2.6: SPIs must be unique per side). */
  const drawSpi = (context: SupervisorContext): Buffer => {
    for (;;) {
      const spi = ports.random(8);
      if (!isZero(spi) && !context.table.has(spiHex(spi))) return spi;
    }
  };

  const newResponder = (
    self: AnyActorRef,
    context: SupervisorContext,
    datagram: Datagram,
    message: IkeMessage,
    send: (d: Datagram) => void,
  ): void => {
    const settings = ports.config.current().settings;
    const local = WILDCARDS.has(datagram.local.address) ? undefined : datagram.local.address;
    // A socket bound to a wildcard does not know the address the peer used: any connection's
    // local address is then possible.
    const candidates = connectionsForAddresses(ports.config.current().connections, local ?? '%any', datagram.remote.address, local === undefined);
    if (candidates.length === 0) {
      context.counters.noConnection++;
      log.info({ remote: datagram.remote.address }, 'IKE_SA_INIT from a peer no connection is configured for: dropped');
      return;
    }
    if (context.entries.size >= settings.maxIkeSas || context.halfOpen.size >= settings.maxHalfOpen) {
      context.counters.refusedLimits++;
      log.warn({ ikeSas: context.entries.size, halfOpen: context.halfOpen.size }, 'IKE_SA_INIT refused: limits reached');
      return;
    }
    const h = message.header;
    if (context.halfOpen.size >= settings.cookieThreshold) {
      // RFC 7296 2.6: under load, answer statelessly with a cookie until the initiator returns it.
      const Ni = findPayload(message.payloads, PayloadType.Nonce)?.data ?? Buffer.alloc(0);
      const cookie = cookieOf(message);
      if (cookie === undefined || !cookies.verify(cookie, Ni, datagram.remote.address, h.spiI)) {
        context.counters.cookiesSent++;
        send({
          local: datagram.local,
          remote: datagram.remote,
          bytes: cookieResponse(h, cookies.cookie(Ni, datagram.remote.address, h.spiI)),
        });
        return;
      }
    }
    const localSpi = drawSpi(context);
    const id = ikeSaId(localSpi);
    const initKey = initKeyOf(datagram, h.spiI);
    context.halfOpen.add(id);
    start(
      self,
      context,
      {
        id,
        kind: 'respond',
        localSpi,
        candidates: candidates.map((c) => c.name),
        local: datagram.local,
        remote: datagram.remote,
        request: { bytes: Buffer.from(datagram.bytes), message },
      },
      { id, localSpi: spiHex(localSpi), connection: undefined, peerId: undefined, established: false, initKey },
    );
  };

  const route = (
    self: AnyActorRef,
    context: SupervisorContext,
    datagram: Datagram,
    forward: (id: string | undefined, e: IkeSaEvent) => boolean,
    send: (d: Datagram) => void,
  ): void => {
    context.counters.datagrams++;
    const decoded = decodeMessage(datagram.bytes);
    if (!decoded.ok) {
      context.counters.malformed++;
      log.debug({ remote: datagram.remote.address, error: decoded.error.message }, 'malformed IKE datagram dropped');
      return;
    }
    const message = decoded.value;
    const h = message.header;
    let id: string | undefined;
    if (h.flags.initiator) {
      // From the original initiator: we are the responder and our SPI is SPIr.
      if (isZero(h.spiR)) {
        if (h.exchangeType !== ExchangeType.IKE_SA_INIT || h.flags.response || h.messageId !== 0) {
          context.counters.unknownSpi++;
          return;
        }
        id = context.byInit.get(initKeyOf(datagram, h.spiI));
        if (id === undefined) {
          newResponder(self, context, datagram, message, send);
          return;
        }
      } else {
        id = context.table.get(spiHex(h.spiR));
      }
    } else {
      id = context.table.get(spiHex(h.spiI));
    }
    if (!forward(id, { type: 'MESSAGE', datagram, message })) context.counters.unknownSpi++;
  };

  return setup({
    types: {
      context: {} as SupervisorContext,
      events: {} as SupervisorEvent,
    },
    actions: {
      /**
       * All of the supervisor's work, done while the action list is collected rather than inside a
       * custom action: IKE SA actors are started here and messages reach them through the
       * built-in sendTo, so no actor ever processes an event nested inside another's action.
       */
      handle: enqueueActions(({ context, event, enqueue, self }) => {
        const forward = (id: string | undefined, e: IkeSaEvent): boolean => {
          const actor = id === undefined ? undefined : (self.system.get(id) as AnyActorRef | undefined);
          if (actor === undefined) return false;
          enqueue.sendTo(actor, e);
          return true;
        };
        switch (event.type) {
          case 'DATAGRAM':
            route(self, context, event.datagram, forward, (d) => enqueue(() => ports.network.send(d)));
            return;
          case 'INITIATE': {
            const conn = ports.config.connection(event.connection);
            if (conn === undefined) {
              log.error({ connection: event.connection }, 'initiate: no such connection');
              return;
            }
            const id = ikeSaId(event.localSpi);
            start(
              self,
              context,
              {
                id,
                kind: 'initiate',
                localSpi: event.localSpi,
                connection: conn.name,
                local: { address: conn.local.address, port: conn.local.port },
                remote: { address: conn.remote.address, port: conn.remote.port },
              },
              { id, localSpi: spiHex(event.localSpi), connection: conn.name, peerId: undefined, established: false, initKey: undefined },
            );
            return;
          }
          case 'IKE_SA_ESTABLISHED': {
            const entry = context.entries.get(event.id);
            if (entry !== undefined) {
              entry.connection = event.connection;
              entry.peerId = event.peerId;
              entry.established = true;
            }
            context.halfOpen.delete(event.id);
            return;
          }
          case 'IKE_SA_INITIAL_CONTACT': {
            // RFC 7296 2.4: the peer has no other IKE SA with us; ours are stale.
            for (const entry of context.entries.values()) {
              if (entry.id === event.id || !entry.established) continue;
              if (entry.connection !== event.connection || entry.peerId !== event.peerId) continue;
              log.info({ connection: event.connection, stale: entry.id }, 'INITIAL_CONTACT: dropping an older IKE SA with this peer');
              forward(entry.id, { type: 'DISCARD', reason: 'INITIAL_CONTACT from the peer' });
            }
            return;
          }
          case 'IKE_SA_REKEYED': {
            const s = event.successor;
            const old = context.entries.get(event.id);
            start(self, context, s, {
              id: s.id,
              localSpi: spiHex(s.localSpi),
              connection: s.connection,
              peerId: old?.peerId ?? s.rekeyed?.peerId,
              established: false,
              initKey: undefined,
            });
            return;
          }
          case 'IKE_SA_PREDECESSOR_GONE':
            // The old SA of a rekey collision closes: the peer's redundant SA stops waiting (2.8.2).
            forward(event.successor, { type: 'PREDECESSOR_GONE' });
            return;
          case 'IKE_SA_CLOSED':
            forget(context, event.id);
            return;
          case 'TERMINATE':
            for (const entry of context.entries.values()) {
              if (event.id !== undefined ? entry.id !== event.id : entry.connection !== event.connection) continue;
              forward(entry.id, { type: 'TERMINATE', reason: event.reason });
            }
            return;
          case 'TERMINATE_ALL':
            for (const entry of context.entries.values()) forward(entry.id, { type: 'TERMINATE', reason: event.reason });
            return;
          case 'DISCARD_ALL':
            for (const entry of context.entries.values()) forward(entry.id, { type: 'DISCARD', reason: event.reason });
            return;
          case 'STOP_ALL':
            // IKE SA actors are not in this actor's children (createActor with a parent, above):
            // stopping the supervisor would leave them running, so they are stopped one by one.
            for (const id of [...context.entries.keys()]) {
              const actor = self.system.get(id) as AnyActorRef | undefined;
              if (actor !== undefined) enqueue.stopChild(actor);
              forget(context, id);
            }
            return;
          case 'TO_IKE_SA':
            forward(event.id, event.event);
            return;
        }
      }),
    },
  }).createMachine({
    id: 'supervisor',
    context: () => ({
      table: new Map(),
      entries: new Map(),
      byInit: new Map(),
      halfOpen: new Set(),
      counters: { datagrams: 0, malformed: 0, unknownSpi: 0, noConnection: 0, cookiesSent: 0, refusedLimits: 0, created: 0, closed: 0 },
    }),
    initial: 'running',
    states: {
      running: {
        on: {
          '*': { actions: 'handle' },
        },
      },
    },
  });
}

export type SupervisorLogic = ReturnType<typeof createSupervisorLogic>;
