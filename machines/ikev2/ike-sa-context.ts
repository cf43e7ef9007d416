/**
 * The IKE SA machine's context, input and events: plain data only (Buffers, numbers, strings,
 * records), so a snapshot persists and the inspector can show it. Key material sits in the
 * redacted key sets of src/crypto (JSON prints "[redacted]").
 *
 * The context holds data (keys, SPIs, nonces, queues); which procedure runs is the chart's state
 * (ike-sa.ts). Each procedure keeps its own data in its own field while it runs (`childCreation`,
 * `childRekey`, `ikeRekey`, `childDeletion`, `ikeDeletion`), set on entry and cleared when done.
 */
import type { DhKeyPair } from '../../src/crypto/types.js';
import type { Lifetime } from '../../src/config/model.js';
import type { ChildSaPlacement } from '../../src/ikev2/child-sa-kernel.js';
import type { ChildSaOffer, KeptChildSaParams } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import type { TriggerSelectors } from '../../src/ikev2/exchanges/connection-policy.js';
import type { NatDetection } from '../../src/ikev2/exchanges/nat-notifies.js';
import type { IkeRole, IkeSaSecurity } from '../../src/ikev2/ike-sa-session.js';
import type { SignatureChoice } from '../../src/ikev2/signature-auth.js';
import type { LifetimeDeadlines } from '../../src/timers/lifetime.js';
import type { Datagram, Endpoint } from '../../src/ports.js';
import type { IkeMessage, Payload, Proposal } from '../../src/wire/index.js';
import type { EffectAnswer, IkeSaEndCause } from '../effects.js';
import type { ChildSaReport } from './child-sa-context.js';
import type { Incoming, PeerRequest } from './ike-sa-messages.js';

/** A Child SA as its IKE SA knows it: enough to recreate the actor on an IKE SA rekey (2.18). */
export interface ChildRecord {
  readonly actorId: string;
  /** The Child SA actor's state as last reported (its chart is child-sa.ts). */
  readonly state: 'installing' | 'installed' | 'rekeying' | 'rekeyed' | 'deleting';
  readonly params: KeptChildSaParams;
  readonly placement: ChildSaPlacement;
  readonly lifetime: Lifetime;
  readonly rekeyOf: number | undefined;
  readonly deadlines: LifetimeDeadlines | undefined;
  readonly installedAtMs: number | undefined;
  /** Inbound SPI of the SA that replaced this one. */
  readonly replacedBy: number | undefined;
  /** Created by our side of a rekey collision and lost on nonces (2.8.1): delete it once installed. */
  readonly redundant: boolean | undefined;
  /**
   * Its outbound SA is not in the kernel yet (the peer's rekey we answered, 2.8): it goes in when
   * the SA this one replaces goes (INSTALL_OUTBOUND), never for a redundant SA of a collision.
   */
  readonly outboundPending: boolean | undefined;
}

/** Work for our request window, waiting for its turn (RFC 7296 2.3: one request at a time). */
export type PendingRequest =
  | { readonly kind: 'create-child'; readonly dhGroup?: number | undefined; readonly keRetries?: number; readonly trigger?: TriggerSelectors | undefined }
  | { readonly kind: 'rekey-child'; readonly inboundSpi: number; readonly dhGroup?: number | undefined; readonly keRetries?: number }
  | { readonly kind: 'rekey-ike'; readonly dhGroup?: number | undefined; readonly keRetries?: number }
  | { readonly kind: 'delete-child'; readonly inboundSpis: readonly number[]; readonly reason: string }
  | { readonly kind: 'delete-ike'; readonly reason: string }
  | { readonly kind: 'liveness' };

/** Our request in flight (2.1: retransmitted until answered or given up). */
export interface OutstandingRequest {
  readonly messageId: number;
  readonly exchangeType: number;
  /** The datagram payloads (one, or the RFC 7383 fragments) as sent, for retransmission. */
  readonly datagrams: readonly Buffer[];
  readonly firstSentAtMs: number;
  /** Retransmissions sent so far. */
  readonly attempt: number;
  /** An absolute give-up time overriding the schedule's (liveness checks: the DPD timeout). */
  readonly giveUpAtMs?: number | undefined;
}

/**
 * Scratch of the initial exchanges, dropped once the IKE SA is established.
 *
 * Every key is there from the start (undefined until known), so the steps that fill one in
 * (`{ ...h, childOffer }`) replace a key: V8 (Node 20) gives an object made by a spread plus a
 * key its source lacks a hidden class of its own, and microseconds to make it.
 */
export interface Handshake {
  readonly Ni: Buffer;
  readonly Nr: Buffer | undefined;
  /** Initiator: our DH pair until the response arrives (redacted). */
  readonly keyPair: DhKeyPair | undefined;
  readonly offer: readonly Proposal[];
  readonly cookie: Buffer | undefined;
  readonly cookieRetries: number;
  readonly keRetries: number;
  /** RealMessage1 / RealMessage2 for AUTH (2.15). */
  readonly realMessage1: Buffer | undefined;
  readonly realMessage2: Buffer | undefined;
  readonly childOffer: ChildSaOffer | undefined;
  /** RFC 7427 4: the hashes the peer accepts in Digital Signature AUTH payloads (undefined: it announced none). */
  readonly peerSignatureHashes: readonly number[] | undefined;
  /** RFC 7296 3.7: the CA hashes of the peer's CERTREQ (undefined: it sent none). */
  readonly peerCertReq: readonly Buffer[] | undefined;
  /** Signature authentication: how we sign, then our signature over our AUTH octets. */
  readonly signing: { readonly choice: SignatureChoice; readonly signature?: Buffer | undefined } | undefined;
  /** Initiator with signatures: the IKE_AUTH response, held while the responder's certificates are checked. */
  readonly response: readonly Payload[] | undefined;
  /** Responder with signatures: what the initiator proved, once its certificate and AUTH checked out. */
  readonly peerVerified: string | undefined;
}

/** Our CREATE_CHILD_SA for a new Child SA (1.3.1). */
export interface ChildCreation {
  readonly request: Extract<PendingRequest, { kind: 'create-child' }>;
  readonly offer?: ChildSaOffer | undefined;
  readonly Ni?: Buffer | undefined;
}

/** Our CREATE_CHILD_SA rekeying a Child SA (1.3.3), and the peer's crossing rekey of it (2.8.1). */
export interface ChildRekey {
  readonly request: Extract<PendingRequest, { kind: 'rekey-child' }>;
  readonly offer?: ChildSaOffer | undefined;
  readonly Ni?: Buffer | undefined;
  readonly collision?: { readonly peerCreated: number; readonly Ni: Buffer; readonly Nr: Buffer } | undefined;
}

/**
 * Our answer to the peer's Child SA rekey (1.3.3), held until the new inbound SA is in the kernel:
 * the peer may send on the new SA as soon as it has the answer (2.8).
 */
export interface ChildRekeyAnswer {
  readonly request: PeerRequest;
  readonly payloads: readonly Payload[];
  /** The new Child SA's inbound SPI. */
  readonly inboundSpi: number;
}

/** Our CREATE_CHILD_SA rekeying this IKE SA (1.3.2), and the peer's crossing rekey (2.8.2). */
export interface IkeRekey {
  readonly newSpi: Buffer;
  readonly offer: readonly Proposal[];
  readonly keyPair: DhKeyPair;
  readonly Ni: Buffer;
  readonly keRetries: number;
  /** The IKE SA the peer's exchange created (not started yet). */
  readonly collision?: { readonly security: IkeSaSecurity; readonly Ni: Buffer; readonly Nr: Buffer } | undefined;
}

/**
 * Which side created the redundant IKE SA of a simultaneous rekey (2.8.2): the SA "created with
 * the lowest of the four nonces", which "SHOULD be closed by the endpoint that created it".
 */
export type RedundantIkeSa = 'ours' | 'peers';

export interface IkeSaCounters {
  /** Messages outside the window (RFC 7296 2.3), dropped. */
  readonly outOfWindow: number;
  /** Retransmitted requests answered from the cached response. */
  readonly answeredFromCache: number;
  /** Our requests retransmitted. */
  readonly retransmissions: number;
  /** Messages whose SK payload did not verify, dropped (2.21.1). */
  readonly undecryptable: number;
}

export interface IkeSaInput {
  readonly id: string;
  readonly kind: 'initiate' | 'respond' | 'rekeyed';
  readonly localSpi: Buffer;
  readonly connection?: string | undefined;
  /** Responder: connections whose addresses fit, in configuration order. */
  readonly candidates?: readonly string[] | undefined;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /**
   * Responder: the IKE_SA_INIT request that created this actor, as bytes only. They are kept for
   * AUTH (RFC 7296 2.15 signs the whole first message) and decoded once, to answer; a decoded
   * message here would stay for the actor's life (an actor keeps its input), and a hostile one
   * is thousands of objects (RFC 7296 2.6: half-open SAs must cost little).
   */
  readonly request?: { readonly bytes: Buffer } | undefined;
  /** Initiator: the packet the SA is started for, offered first in IKE_AUTH's TSi/TSr (2.9). */
  readonly trigger?: TriggerSelectors | undefined;
  /** An IKE SA created by a rekey (2.18): keys, peer facts and the Child SAs that move to it. */
  readonly rekeyed?:
    | {
        readonly security: IkeSaSecurity;
        readonly children: readonly ChildRecord[];
        readonly nat: NatDetection;
        readonly peerFragmentation: boolean;
        readonly peerId: string | undefined;
        readonly predecessor: string;
        /** Requests of the predecessor that concern Child SAs, carried over. */
        readonly queue: readonly PendingRequest[];
        /**
         * The redundant SA of an IKE SA rekey collision (2.8.2), never reported up: `ours` (our
         * exchange created it) we delete at once; `peers` we hold until the peer deletes it.
         */
        readonly redundant?: RedundantIkeSa | undefined;
      }
    | undefined;
}

export interface IkeSaContext {
  readonly id: string;
  /** How this SA came to be: we initiated it, answered an IKE_SA_INIT, or rekeyed one (2.18). */
  readonly origin: IkeSaInput['kind'];
  /** Responder: the IKE_SA_INIT request to answer (dropped once answered). */
  readonly initRequest: IkeSaInput['request'];
  /** Rekeyed: the Child SAs to restart here (dropped once done). */
  readonly adopted: readonly ChildRecord[] | undefined;
  /** Created as the redundant SA of a simultaneous IKE SA rekey (2.8.2), and by whom. */
  readonly redundantOf: RedundantIkeSa | undefined;
  /** The peer's redundant SA that this old SA holds (we won the collision): told when we go. */
  readonly heldRedundant: string | undefined;
  readonly connection: string | undefined;
  readonly candidates: readonly string[];
  readonly role: IkeRole;
  readonly local: Endpoint;
  readonly remote: Endpoint;
  readonly spiI: Buffer;
  readonly spiR: Buffer;
  readonly security: IkeSaSecurity | undefined;
  readonly handshake: Handshake | undefined;
  /** Initiator, until IKE_AUTH is sent: the packet the SA is started for (IkeSaInput.trigger). */
  readonly trigger: TriggerSelectors | undefined;
  readonly nat: NatDetection;
  readonly peerFragmentation: boolean;
  readonly peerId: string | undefined;
  /** Our requests (request-window.ts). */
  readonly nextRequestId: number;
  readonly request: OutstandingRequest | undefined;
  readonly queue: readonly PendingRequest[];
  /** The peer's requests: the next Message ID we accept, our last answer (2.1), and one being answered. */
  readonly expectedRequestId: number;
  readonly lastResponse: { readonly messageId: number; readonly datagrams: readonly Buffer[] } | undefined;
  readonly answering: PeerRequest | undefined;
  /** The running procedures' own data (one of ours at a time). */
  readonly childCreation: ChildCreation | undefined;
  readonly childRekey: ChildRekey | undefined;
  readonly childRekeyAnswer: ChildRekeyAnswer | undefined;
  readonly ikeRekey: IkeRekey | undefined;
  readonly childDeletion: Extract<PendingRequest, { kind: 'delete-child' }> | undefined;
  readonly ikeDeletion: Extract<PendingRequest, { kind: 'delete-ike' }> | undefined;
  /** By our inbound SPI, at most a few (child-records.ts). */
  readonly children: readonly ChildRecord[];
  readonly lifetime: LifetimeDeadlines | undefined;
  readonly establishedAtMs: number | undefined;
  readonly lastHeardMs: number;
  readonly counters: IkeSaCounters;
  readonly endReason: string | undefined;
  /** When the peer's recent new Child SA requests were admitted (the last 60 s; create-child-sa.ts). */
  readonly peerChildCreations?: readonly number[];
  /** The peer's new Child SA requests refused for the limits on this IKE SA. */
  readonly peerChildRefusals?: number;
  /** Why it ended, set beside endReason (`local` when unset). */
  readonly endCause?: IkeSaEndCause;
  /** Created by a rekey of `predecessor` (2.18). */
  readonly predecessor: string | undefined;
  /** Fragments of a message being reassembled (RFC 7383). */
  readonly reassembly: Reassembly | undefined;
}

export interface Reassembly {
  readonly messageId: number;
  readonly response: boolean;
  readonly total: number;
  readonly firstInnerPayload: number;
  /** Decrypted fragment contents by fragment number. */
  readonly parts: Readonly<Record<number, Buffer>>;
}

/** Events from outside: the supervisor, the engine, timers, the effect interpreter. */
export type IkeSaExternalEvent =
  | { type: 'MESSAGE'; datagram: Datagram; message: IkeMessage }
  | { type: 'RETRANSMIT'; messageId: number }
  | { type: 'SOFT_EXPIRE' }
  | { type: 'HARD_EXPIRE' }
  | { type: 'DPD_DUE' }
  | { type: 'HALF_OPEN_TIMEOUT' }
  | { type: 'CLOSE_TIMEOUT' }
  | { type: 'HANDOVER_TIMEOUT' }
  /** A redundant SA of the peer's (2.8.2) waited long enough for the peer's Delete. */
  | { type: 'REDUNDANT_TIMEOUT' }
  /** Supervisor: the old IKE SA of the collision that left us redundant is gone. */
  | { type: 'PREDECESSOR_GONE' }
  /** Delete the IKE SA and its Child SAs at the peer, then locally (engine: `terminate`). */
  | { type: 'TERMINATE'; reason: string }
  /** Drop everything locally without telling the peer (INITIAL_CONTACT from the peer, shutdown). */
  | { type: 'DISCARD'; reason: string }
  | { type: 'CREATE_CHILD_SA'; trigger?: TriggerSelectors | undefined }
  | { type: 'REKEY_IKE_SA' }
  | { type: 'REKEY_CHILD_SA'; inboundSpi?: number | undefined }
  /** Delete one Child SA (by our inbound SPI) at the peer and locally (1.4.1). */
  | { type: 'DELETE_CHILD_SA'; inboundSpi: number }
  | EffectAnswer
  | ChildSaReport
  /** XState: a Child SA actor threw and was stopped. */
  | { type: `xstate.error.actor.${string}`; actorId: string; error: unknown };

/**
 * Events the machine raises to itself after a decision: they move the chart. Each names what
 * happened in protocol terms, so the inspector's event list reads as the negotiation.
 */
export type IkeSaInternalEvent =
  | { type: 'IKE_SA_INIT_DONE' }
  /**
   * Responder: the IKE_AUTH request verified (SK); it is answered once our inbound SPI is there.
   * `certificates`: its connection authenticates with signatures, so the initiator's certificate
   * is checked and our signature made first.
   */
  | { type: 'IKE_AUTH_RECEIVED'; certificates: boolean }
  /** Initiator with signatures: the responder's answer names the expected ID; its certificate is checked next. */
  | { type: 'RESPONDER_IDENTIFIED' }
  /** Responder with signatures: the initiator's certificate and AUTH checked out; our signature is made next. */
  | { type: 'INITIATOR_AUTHENTICATED' }
  | { type: 'IKE_AUTH_DONE' }
  | { type: 'IKE_SA_FAILED' }
  /** The IKE SA ends here (our Delete answered, dead peer, the peer rejected us): remove and close. */
  | { type: 'IKE_SA_ENDED' }
  /** The peer deleted this IKE SA (1.4.1): remove it, then linger to answer retransmissions (2.1). */
  | { type: 'IKE_SA_DELETED_BY_PEER' }
  | { type: 'CHILDREN_GONE' }
  /** Our request window (request-window.ts). */
  | { type: 'REQUEST_SENT' }
  | { type: 'RESPONSE'; response: Incoming }
  | { type: 'REQUEST_DONE' }
  | { type: 'REQUEST_TIMED_OUT' }
  /** The peer's request (peer-request.ts), classified. */
  | { type: 'PEER_REQUEST'; request: PeerRequest }
  | { type: 'PEER_REQUEST_NEEDS_SPI' }
  /** Our answer to the peer's Child SA rekey waits for the new inbound SA (ChildRekeyAnswer). */
  | { type: 'ANSWER_AWAITS_INBOUND_SA' }
  | { type: 'PEER_REQUEST_ANSWERED' }
  /** Collisions (2.8.1, 2.8.2): the peer's rekey crossed ours. */
  | { type: 'CHILD_REKEY_COLLISION' }
  | { type: 'IKE_REKEY_COLLISION' }
  /** This IKE SA was rekeyed (2.18): we delete it (we initiated the surviving exchange) or the peer does. */
  | { type: 'IKE_SA_HANDED_OVER'; deletedBy: 'us' | 'peer' };

export type IkeSaEvent = IkeSaExternalEvent | IkeSaInternalEvent;

/** What an IKE SA tells the supervisor. */
export type IkeSaReport =
  | { type: 'IKE_SA_ESTABLISHED'; id: string; connection: string; peerId: string | undefined }
  | { type: 'IKE_SA_INITIAL_CONTACT'; id: string; connection: string; peerId: string | undefined }
  | { type: 'IKE_SA_REKEYED'; id: string; successor: IkeSaInput }
  /** The old SA of a rekey collision is closing: tell the peer's redundant SA (2.8.2). */
  | { type: 'IKE_SA_PREDECESSOR_GONE'; id: string; successor: string }
  /** Responder: the initiator's AUTH did not verify (2.15); the supervisor slows its address down. */
  | { type: 'IKE_SA_AUTH_FAILED'; id: string }
  | { type: 'IKE_SA_CLOSED'; id: string };
