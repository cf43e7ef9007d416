/**
 * The IKE SA machine's context, input and events: plain data only (Buffers, numbers, strings,
 * records), so a snapshot persists and the inspector can show it. Key material sits in the
 * redacted key sets of src/crypto (JSON prints "[redacted]").
 */
import type { DhKeyPair } from '../../src/crypto/types.js';
import type { ChildSaOffer, ChildSaParams } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import type { NatDetection } from '../../src/ikev2/exchanges/nat-notifies.js';
import type { IkeRole, IkeSaSecurity } from '../../src/ikev2/ike-sa-session.js';
import type { ChildSaPlacement } from '../../src/ikev2/child-sa-kernel.js';
import type { Lifetime } from '../../src/config/model.js';
import type { LifetimeDeadlines } from '../../src/timers/lifetime.js';
import type { Datagram, Endpoint } from '../../src/ports.js';
import type { IkeMessage, Proposal } from '../../src/wire/index.js';
import type { ChildSaEvent, ChildSaReport } from './child-sa.js';

/** A Child SA as its IKE SA knows it: enough to recreate the actor on an IKE SA rekey (2.18). */
export interface ChildRecord {
  readonly actorId: string;
  readonly state: 'installing' | 'installed' | 'rekeying' | 'rekeyed' | 'deleting';
  readonly params: ChildSaParams;
  readonly placement: ChildSaPlacement;
  readonly lifetime: Lifetime;
  readonly rekeyOf?: number | undefined;
  readonly deadlines?: LifetimeDeadlines | undefined;
  readonly installedAtMs?: number | undefined;
  /** Inbound SPI of the SA that replaced this one. */
  readonly replacedBy?: number | undefined;
  /** Created by our side of a rekey collision and lost on nonces (2.8.1): delete it once installed. */
  readonly redundant?: boolean | undefined;
}

/** A Child SA handed from an IKE SA to its rekeyed successor. */
export interface AdoptedChild {
  readonly record: ChildRecord;
}

/** The work of one of our requests (RFC 7296 2.3: we wait for its response before the next). */
export type RequestPurpose =
  | { readonly kind: 'ike-sa-init' }
  | { readonly kind: 'ike-auth' }
  | { readonly kind: 'create-child'; readonly offer: ChildSaOffer; readonly Ni: Buffer; readonly keRetries: number }
  | { readonly kind: 'rekey-child'; readonly oldInboundSpi: number; readonly offer: ChildSaOffer; readonly Ni: Buffer; readonly keRetries: number }
  | { readonly kind: 'rekey-ike'; readonly newSpi: Buffer; readonly offer: readonly Proposal[]; readonly keyPair: DhKeyPair; readonly Ni: Buffer; readonly keRetries: number }
  | { readonly kind: 'delete-child'; readonly inboundSpis: readonly number[]; readonly reason: string }
  | { readonly kind: 'delete-ike'; readonly reason: string }
  | { readonly kind: 'liveness' };

/** A request waiting for its turn. */
export type PendingRequest =
  | { readonly kind: 'create-child' }
  | { readonly kind: 'rekey-child'; readonly inboundSpi: number; readonly dhGroup?: number | undefined; readonly keRetries?: number }
  | { readonly kind: 'rekey-ike'; readonly dhGroup?: number | undefined; readonly keRetries?: number }
  | { readonly kind: 'delete-child'; readonly inboundSpis: readonly number[]; readonly reason: string }
  | { readonly kind: 'delete-ike'; readonly reason: string }
  | { readonly kind: 'liveness' };

export interface Outstanding {
  readonly messageId: number;
  readonly exchangeType: number;
  readonly purpose: RequestPurpose;
  /** The datagram payloads (one, or the RFC 7383 fragments) as sent, for retransmission. */
  readonly datagrams: readonly Buffer[];
  readonly firstSentAtMs: number;
  /** Retransmissions sent so far. */
  readonly attempt: number;
  /** An absolute give-up time overriding the schedule's (liveness checks: the DPD timeout). */
  readonly giveUpAtMs?: number | undefined;
}

/** Scratch of the initial exchanges, dropped once the IKE SA is established. */
export interface Handshake {
  readonly Ni: Buffer;
  readonly Nr?: Buffer | undefined;
  /** Initiator: our DH pair until the response arrives (redacted). */
  readonly keyPair?: DhKeyPair | undefined;
  readonly offer: readonly Proposal[];
  readonly cookie?: Buffer | undefined;
  readonly cookieRetries: number;
  readonly keRetries: number;
  /** RealMessage1 / RealMessage2 for AUTH (2.15). */
  readonly realMessage1?: Buffer | undefined;
  readonly realMessage2?: Buffer | undefined;
  readonly childOffer?: ChildSaOffer | undefined;
}

/**
 * Which side created the redundant IKE SA of a simultaneous rekey (2.8.2): the SA "created with
 * the lowest of the four nonces", which "SHOULD be closed by the endpoint that created it".
 */
export type RedundantIkeSa = 'ours' | 'peers';

/** A peer's rekey that crossed one of ours (2.8.1 / 2.8.2), kept until ours completes. */
export type RekeyCollision =
  | {
      readonly kind: 'child';
      /** Our inbound SPI of the Child SA both sides rekeyed. */
      readonly oldInboundSpi: number;
      /** Our inbound SPI of the Child SA the peer's exchange created. */
      readonly peerCreated: number;
      readonly Ni: Buffer;
      readonly Nr: Buffer;
    }
  | {
      readonly kind: 'ike';
      /** The IKE SA the peer's exchange created (not started yet). */
      readonly security: IkeSaSecurity;
      readonly Ni: Buffer;
      readonly Nr: Buffer;
    };

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
  /** Responder: the IKE_SA_INIT request that created this actor. */
  readonly request?: { readonly bytes: Buffer; readonly message: IkeMessage } | undefined;
  /** An IKE SA created by a rekey (2.18): keys, peer facts and the Child SAs that move to it. */
  readonly rekeyed?:
    | {
        readonly security: IkeSaSecurity;
        readonly children: readonly AdoptedChild[];
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
  readonly adoption: { readonly children: readonly AdoptedChild[] } | undefined;
  /** The redundant SA of a simultaneous IKE SA rekey (2.8.2): held in `redundant`, never up. */
  readonly redundant: RedundantIkeSa | undefined;
  /** Old SA, winner of a simultaneous rekey: the peer's redundant SA, told when this one goes. */
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
  readonly nat: NatDetection;
  readonly peerFragmentation: boolean;
  readonly peerId: string | undefined;
  readonly nextRequestId: number;
  readonly expectedRequestId: number;
  readonly outstanding: Outstanding | undefined;
  readonly queue: readonly PendingRequest[];
  readonly lastResponse: { readonly messageId: number; readonly datagrams: readonly Buffer[] } | undefined;
  readonly children: Readonly<Record<string, ChildRecord>>;
  readonly lifetime: LifetimeDeadlines | undefined;
  readonly establishedAtMs: number | undefined;
  readonly lastHeardMs: number;
  readonly counters: IkeSaCounters;
  readonly endReason: string | undefined;
  /** The Child SAs went to the rekeyed IKE SA: closing must not delete them. */
  readonly handedOver: boolean;
  /** A CREATE_CHILD_SA of the peer's rekeyed this IKE SA (2.18): we await its Delete. */
  readonly replacedBy: string | undefined;
  readonly collisions: readonly RekeyCollision[];
  /** Created by a rekey of `predecessor` (2.18). */
  readonly predecessor: string | undefined;
  /** We answered the peer's Delete of this IKE SA: linger to answer its retransmissions. */
  readonly lingerAfterClose: boolean;
  /** `ike-sa-down` was reported (at the start of lingering, or at the end): never twice. */
  readonly downReported: boolean;
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

/** Events from outside: the supervisor, the engine, timers. */
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
  | { type: 'CREATE_CHILD_SA' }
  | { type: 'REKEY_IKE_SA' }
  | { type: 'REKEY_CHILD_SA'; inboundSpi?: number | undefined }
  /** Delete one Child SA (by our inbound SPI) at the peer and locally (1.4.1). */
  | { type: 'DELETE_CHILD_SA'; inboundSpi: number }
  | ChildSaReport;

/** Events the machine raises to itself after a decision (they drive the state chart). */
export type IkeSaInternalEvent =
  | { type: 'IKE_SA_INIT_DONE' }
  | { type: 'IKE_AUTH_DONE' }
  | { type: 'IKE_SA_FAILED' }
  | { type: 'IKE_SA_ENDED' }
  | { type: 'CHILDREN_GONE' };

export type IkeSaEvent = IkeSaExternalEvent | IkeSaInternalEvent;

/** What an IKE SA tells the supervisor. */
export type IkeSaReport =
  | { type: 'IKE_SA_ESTABLISHED'; id: string; connection: string; peerId: string | undefined }
  | { type: 'IKE_SA_INITIAL_CONTACT'; id: string; connection: string; peerId: string | undefined }
  | { type: 'IKE_SA_REKEYED'; id: string; successor: IkeSaInput }
  /** The old SA of a rekey collision is closing: tell the peer's redundant SA (2.8.2). */
  | { type: 'IKE_SA_PREDECESSOR_GONE'; id: string; successor: string }
  | { type: 'IKE_SA_CLOSED'; id: string };

export type { ChildSaEvent };
