/** The supervisor's context and events (supervisor.ts). */
import type { AnyActorRef } from 'xstate';
import type { TriggerSelectors } from '../../src/ikev2/exchanges/connection-policy.js';
import type { Datagram } from '../../src/ports.js';
import type { IkeSaEvent, IkeSaReport } from '../ikev2/ike-sa-context.js';
import type { AdmissionState } from './admission-state.js';
import type { EstablishedPeers } from './established-peers.js';
import type { HalfOpenTable } from './half-open-table.js';
import type { SasByConnection } from './sas-by-connection.js';

export interface SupervisorCounters {
  datagrams: number;
  malformed: number;
  /** Datagrams for an IKE SA we do not know (RFC 7296 2.21.4), requests and responses. */
  unknownSpi: number;
  /** Responses with an unknown SPI: never answered (2.21.4). */
  unknownSpiResponses: number;
  /** INVALID_IKE_SPI answers sent to requests with an unknown SPI (2.21.4). */
  invalidSpiSent: number;
  /** Requests with an unknown SPI left unanswered: over the rate of INVALID_IKE_SPI answers. */
  invalidSpiRateLimited: number;
  noConnection: number;
  cookiesSent: number;
  refusedLimits: number;
  /** IKE_SA_INIT dropped: the daemon is stopping (refuseNewSas). */
  refusedShutdown: number;
  /** IKE_SA_INIT dropped: the address is backing off after failed authentications. */
  refusedAuthBackoff: number;
  /** IKE_SA_INIT dropped: the address has blockThresholdPerAddress half-open SAs. */
  refusedPerAddress: number;
  /** IKE_SA_INIT dropped: the half-open memory budget is spent. */
  refusedBudget: number;
  /** IKE_SA_INIT dropped: over ikeSaInitPerSecond. */
  refusedRate: number;
  /** IKE_SA_INIT dropped: the event loop had no time to spare (loadLimitPercent). */
  refusedLoad: number;
  /**
   * IKE_SA_INITs from the address a connection names, with a valid COOKIE, admitted past the
   * half-open limits and the rate (admission.ts).
   */
  admittedConfiguredPeer: number;
  /** Failed authentications of peers (responder side), the backoff's input. */
  authFailures: number;
  created: number;
  closed: number;
  /** IKE SA actors that threw: torn down, their Child SAs deleted, their entries freed. */
  crashed: number;
}

export interface IkeSaEntry {
  readonly id: string;
  readonly localSpi: string;
  connection: string | undefined;
  peerId: string | undefined;
  established: boolean;
  /** Key of the IKE_SA_INIT that created a responder (remote address, port, SPIi). */
  readonly initKey: string | undefined;
  /** Responder: the address its IKE_SA_INIT came from (per-address limits, auth backoff). */
  readonly remoteAddress?: string | undefined;
}

export interface SupervisorContext {
  /** Our SPI (hex) → IKE SA actor system id. */
  readonly bySpi: Map<string, string>;
  /** IKE SA id → what the supervisor knows of it. */
  readonly entries: Map<string, IkeSaEntry>;
  /**
   * IKE SA id → its actor. The system forgets an actor that failed (threw), but its last
   * snapshot (its Child SAs) is still needed to clean up after it.
   */
  readonly actors: Map<string, AnyActorRef>;
  /** (remote, SPIi) of IKE_SA_INIT requests → responder actor, so retransmissions reach it (2.1). */
  readonly byInit: Map<string, string>;
  /** Responder SAs that have not completed IKE_AUTH (2.6 half-open). */
  readonly halfOpen: HalfOpenTable;
  /** Established IKE SAs by connection and peer ID, for INITIAL_CONTACT (2.4). */
  readonly established: EstablishedPeers;
  /** Every IKE SA of the table whose connection is known, by connection (sas-by-connection.ts). */
  readonly byConnection: SasByConnection;
  readonly admission: AdmissionState;
  readonly counters: SupervisorCounters;
}

/** XState's word that an IKE SA actor threw (its transition or one of its actions). */
export interface IkeSaActorError {
  type: `xstate.error.actor.${string}`;
  actorId: string;
  error: unknown;
}

export type SupervisorEvent =
  | { type: 'DATAGRAM'; datagram: Datagram }
  | { type: 'INITIATE'; connection: string; localSpi: Buffer; trigger?: TriggerSelectors | undefined }
  | { type: 'TERMINATE'; connection?: string; id?: string; reason: string }
  | { type: 'TERMINATE_ALL'; reason: string }
  | { type: 'DISCARD_ALL'; reason: string }
  /** The daemon is stopping: no new IKE SA from here on (IKE_SA_INIT dropped, successors deleted). */
  | { type: 'REFUSE_NEW_SAS' }
  /** Engine stop: every IKE SA actor (and with it its Child SA actors) stopped, the table emptied. */
  | { type: 'STOP_ALL' }
  | { type: 'TO_IKE_SA'; id: string; event: IkeSaEvent }
  /**
   * Sent by the supervisor to itself: the rest of an event for many IKE SAs (TELL_EACH) or of
   * the stop of all (STOP_EACH), from `ids[from]` on (supervisor.ts, "Scale").
   */
  | { type: 'TELL_EACH'; ids: readonly string[]; from: number; event: IkeSaEvent }
  | { type: 'STOP_EACH'; ids: readonly string[]; from: number }
  | IkeSaActorError
  | IkeSaReport;
