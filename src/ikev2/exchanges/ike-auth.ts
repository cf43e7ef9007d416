/**
 * IKE_AUTH (RFC 7296 1.2): both sides prove their identity, with a preshared key or a signature
 * and certificates (2.15, authenticator.ts), and the first Child SA is created. Everything is
 * inside SK, protected with the IKE_SA_INIT keys.
 *
 *     Initiator                         Responder
 *     HDR, SK {IDi, [CERT,] [CERTREQ,]
 *         [IDr,] AUTH, SAi2,
 *         TSi, TSr}               -->
 *                                 <--   HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
 *
 * AUTH (2.15) covers InitiatorSignedOctets / ResponderSignedOctets: MACed with the preshared key
 * (method 2) or signed (methods 1, 9-11, 14). With signatures, CERT payloads carry the signer's
 * certificate and intermediates (3.6), and a CERTREQ names the CAs whose chains the sender wants
 * (3.7). The certificate chain is checked, and the signature made, outside these functions (the
 * machine's `checkingPeer` and `signing` states); they take the results as credentials.
 *
 * Failures:
 * - the responder cannot authenticate the initiator: the response is only N(AUTHENTICATION_FAILED)
 *   and the IKE SA is gone (2.21.2);
 * - the initiator cannot authenticate the responder: it drops the IKE SA (and tells the peer in an
 *   INFORMATIONAL with AUTHENTICATION_FAILED, 2.21.2);
 * - the Child SA fails (NO_PROPOSAL_CHOSEN, TS_UNACCEPTABLE, ...): the response carries IDr and AUTH
 *   plus the error notify instead of SAr2/TSi/TSr, and the IKE SA stays up (2.21.3).
 * INITIAL_CONTACT (2.4) in the request: the responder drops every other IKE SA with this peer.
 *
 * Next: the IKE SA is established; CREATE_CHILD_SA and INFORMATIONAL follow.
 */
import type { CryptoRegistry } from '../../crypto/registry.js';
import type { RandomPort } from '../../crypto/types.js';
import { err, type Result } from '../../result.js';
import type { ConnectionConfig } from '../../config/model.js';
import { formatIdentity } from '../../config/model.js';
import {
  AuthMethod,
  ExchangeType,
  NotifyType,
  PayloadType,
  encodeIdentity,
  idPayload,
  identityOf,
  nameOf,
  notifyPayload,
  type IdPayload,
  type Identity,
  type NotifyPayload,
  type Payload,
  type TsPayload,
} from '../../wire/index.js';
import type { IkeSaSecurity } from '../ike-sa-session.js';
import { authOctets, describeOwnCredential, describePeerCredential, ownAuthPayloads, verifyPeerAuth, type OwnCredential, type PeerCredential } from '../authenticator.js';
import {
  acceptChildRequest,
  childRequestPayloads,
  completeChildResponse,
  type ChildRequestOutcome,
  type ChildResponseOutcome,
  type ChildSaOffer,
} from './child-sa-negotiation.js';
import { certificateRequest, certificateRequestsOf, certificatesOf } from './certificate-payloads.js';
import { childConfigCandidates, connectionSelectors, identityMatches, isExactIdentity, selectChildConfig } from './connection-policy.js';
import { fromWireSelectors } from '../../policy/traffic-selectors.js';
import { checkMessage, describeViolation, firstErrorNotify, hasNotify, type MessageRule } from './message-rules.js';

// ---- the exchange, declaratively ----

export const IKE_AUTH_REQUEST = {
  name: 'IKE_AUTH request',
  rfc: 'RFC 7296 1.2',
  exchangeType: ExchangeType.IKE_AUTH,
  response: false,
  encrypted: true,
  payloads: {
    IDi: 'required',
    CERT: 'repeated',
    CERTREQ: 'repeated',
    IDr: 'optional',
    AUTH: 'required',
    CP: 'optional',
    // The first Child SA: all three or none (childless IKE SAs, RFC 6023, are not offered).
    SA: 'optional',
    TSi: 'optional',
    TSr: 'optional',
  },
  notifies: [
    { notify: 'INITIAL_CONTACT', meaning: 'the sender has no other IKE SA with us: drop stale ones (2.4)' },
    { notify: 'USE_TRANSPORT_MODE', meaning: 'the Child SA is to be in transport mode (1.3.1)' },
    { notify: 'ESP_TFC_PADDING_NOT_SUPPORTED', meaning: 'no TFC padding on the Child SA (1.3.1)' },
  ],
} as const satisfies MessageRule;

export const IKE_AUTH_RESPONSE = {
  name: 'IKE_AUTH response',
  rfc: 'RFC 7296 1.2',
  exchangeType: ExchangeType.IKE_AUTH,
  response: true,
  encrypted: true,
  payloads: { IDr: 'required', CERT: 'repeated', AUTH: 'required', CP: 'optional', SA: 'optional', TSi: 'optional', TSr: 'optional' },
  notifies: [
    { notify: 'AUTHENTICATION_FAILED', meaning: 'alone, instead of IDr/AUTH: the initiator was not authenticated (2.21.2)' },
    { notify: 'NO_PROPOSAL_CHOSEN', meaning: 'with IDr/AUTH: the Child SA was refused, the IKE SA stays (2.21.3)' },
    { notify: 'TS_UNACCEPTABLE', meaning: 'with IDr/AUTH: the Child SA was refused, the IKE SA stays (2.21.3)' },
    { notify: 'USE_TRANSPORT_MODE', meaning: 'the Child SA is in transport mode (1.3.1)' },
  ],
} as const satisfies MessageRule;

// ---- initiator ----

/** Our IDi, as the request carries it and the AUTH covers it. */
export function initiatorIdPayload(connection: ConnectionConfig): IdPayload {
  return idPayload(PayloadType.IDi, connection.local.id);
}

/** Our IDr, as the response carries it and the AUTH covers it. */
export function responderIdPayload(connection: ConnectionConfig): IdPayload {
  return { type: PayloadType.IDr, ...encodeIdentity(connection.local.id) } satisfies IdPayload;
}

export interface IkeAuthRequestInput {
  readonly sa: IkeSaSecurity;
  readonly registry: CryptoRegistry;
  readonly realMessage1: Buffer;
  readonly Nr: Buffer;
  readonly connection: ConnectionConfig;
  readonly own: OwnCredential;
  /** The SHA-1 hashes of the CAs we trust for the peer's certificate (CERTREQ); empty with PSK. */
  readonly certReq: readonly Buffer[];
  readonly child: ChildSaOffer | undefined;
  readonly initialContact: boolean;
}

/**
 * The inner payloads of our IKE_AUTH request, in strongSwan's order: IDi, [CERT+],
 * [N(INITIAL_CONTACT)], [CERTREQ], [IDr], AUTH, SAi2, TSi, TSr. IDr names the peer we expect so a
 * responder with several identities picks it; a DN pattern is not an identity and is not sent.
 */
export function buildIkeAuthRequest(input: IkeAuthRequestInput): Payload[] {
  const idi = initiatorIdPayload(input.connection);
  const octets = authOctets({ sa: input.sa, registry: input.registry, realMessage: input.realMessage1, peerNonce: input.Nr, id: idi, author: 'initiator' });
  const built = ownAuthPayloads(input.own, octets, input.registry, input.sa);
  // The signature was made and checked for its key when it arrived; a PSK cannot fail here.
  if (!built.ok) throw new RangeError(`connection ${input.connection.name}: ${built.error}`);
  const remoteId = input.connection.remote.id;
  const payloads: Payload[] = [idi, ...built.value.certs];
  if (input.initialContact) payloads.push(notifyPayload({ name: 'INITIAL_CONTACT' }));
  payloads.push(...certificateRequest(input.certReq));
  if (isExactIdentity(remoteId)) payloads.push(idPayload(PayloadType.IDr, remoteId));
  payloads.push(built.value.auth);
  if (input.child !== undefined) payloads.push(...childRequestPayloads(input.child));
  return payloads;
}

/** The responder's IKE_AUTH answer, read before its AUTH is checked: who it says it is and its certificates. */
export type IkeAuthResponseIdentity =
  | { readonly kind: 'identified'; readonly peerId: Identity; readonly certificates: readonly Buffer[] }
  | Extract<IkeAuthResponseOutcome, { kind: 'auth-failed' | 'failed' }>;

export type IkeAuthResponseOutcome =
  | { readonly kind: 'authenticated'; readonly peerId: string; readonly method: string; readonly child: ChildResponseOutcome | undefined }
  | { readonly kind: 'auth-failed'; readonly reason: string; readonly byPeer: boolean }
  | { readonly kind: 'failed'; readonly reason: string };

/** Identifies the responder from its answer: errors, syntax and whether its ID is the one we expect. */
export function identifyIkeAuthResponder(connection: ConnectionConfig, inner: readonly Payload[], own: string): IkeAuthResponseIdentity {
  const error = firstErrorNotify(inner);
  if (error !== undefined && error.notifyType === NotifyType.AUTHENTICATION_FAILED) {
    return {
      kind: 'auth-failed',
      byPeer: true,
      reason: `the responder did not accept our ID ${formatIdentity(connection.local.id)} with ${own} (AUTHENTICATION_FAILED)`,
    };
  }
  const checked = checkMessage(IKE_AUTH_RESPONSE, inner);
  if (!checked.ok) {
    if (error !== undefined) return { kind: 'failed', reason: `the responder answered ${nameOf(NotifyType, error.notifyType)}` };
    return { kind: 'failed', reason: describeViolation(checked.error) };
  }
  const peerId = identityOf(checked.value.IDr);
  if (!identityMatches(connection.remote.id, peerId)) {
    return { kind: 'auth-failed', byPeer: false, reason: `the responder is ${formatIdentity(peerId)}, we expect ${formatIdentity(connection.remote.id)}` };
  }
  return { kind: 'identified', peerId, certificates: certificatesOf(inner) };
}

export interface IkeAuthResponseInput {
  readonly sa: IkeSaSecurity;
  readonly registry: CryptoRegistry;
  readonly realMessage2: Buffer;
  readonly Ni: Buffer;
  readonly Nr: Buffer;
  readonly connection: ConnectionConfig;
  /** How we authenticated (for the words of a refusal). */
  readonly own: OwnCredential;
  /** What the responder must prove: the PSK, or its certificate's key once the chain is checked. */
  readonly peer: PeerCredential;
  readonly inner: readonly Payload[];
  readonly child: ChildSaOffer | undefined;
}

export function processIkeAuthResponse(input: IkeAuthResponseInput): IkeAuthResponseOutcome {
  const identified = identifyIkeAuthResponder(input.connection, input.inner, describeOwnCredential(input.own));
  if (identified.kind !== 'identified') return identified;
  const checked = checkMessage(IKE_AUTH_RESPONSE, input.inner);
  if (!checked.ok) return { kind: 'failed', reason: describeViolation(checked.error) };
  const { IDr, AUTH, SA, TSi, TSr } = checked.value;
  const peerId = formatIdentity(identified.peerId);
  const octets = authOctets({ sa: input.sa, registry: input.registry, realMessage: input.realMessage2, peerNonce: input.Ni, id: IDr, author: 'responder' });
  const verified = verifyPeerAuth(input.peer, AUTH, octets, input.registry, input.sa);
  if (!verified.ok) return { kind: 'auth-failed', byPeer: false, reason: `responder ${peerId} (method ${describePeerCredential(input.peer)}): ${verified.error}` };
  let child: ChildResponseOutcome | undefined;
  if (input.child !== undefined) {
    child = completeChildResponse({
      offer: input.child,
      sa: input.sa,
      Ni: input.Ni,
      Nr: input.Nr,
      SA,
      KE: undefined,
      TSi,
      TSr,
      payloads: input.inner,
      errorNotify: firstErrorNotify(input.inner),
      registry: input.registry,
    });
  }
  return { kind: 'authenticated', peerId, method: verified.value, child };
}

// ---- responder ----

export interface IkeAuthResponderInput {
  readonly sa: IkeSaSecurity;
  readonly registry: CryptoRegistry;
  readonly random: RandomPort;
  readonly realMessage1: Buffer;
  readonly realMessage2: Buffer;
  readonly Ni: Buffer;
  readonly Nr: Buffer;
  /** Connections whose addresses fit this IKE SA, in configuration order. */
  readonly candidates: readonly ConnectionConfig[];
  readonly inner: readonly Payload[];
  /** Our inbound SPI for the first Child SA, unique on this node; default a fresh random one. */
  readonly allocateSpi?: (() => Buffer) | undefined;
  /**
   * With signature authentication, what the states before found and made: the connection the
   * IDs chose, the initiator's AUTH as checked with its certificate's key, and our own signature.
   */
  readonly signatures?: SignatureAuthentication | undefined;
}

/** The initiator authenticated by its certificate, and our signature for the answer. */
export interface SignatureAuthentication {
  readonly connection: string;
  /** What the initiator proved with (verifyIkeAuthInitiator's words, for the log). */
  readonly verified: string;
  readonly own: OwnCredential;
}

export type IkeAuthRequestOutcome =
  | { readonly kind: 'auth-failed'; readonly response: Payload[]; readonly reason: string }
  | { readonly kind: 'invalid'; readonly response: Payload[]; readonly reason: string }
  | {
      readonly kind: 'authenticated';
      /**
       * The IKE SA's connection: chosen by IDs (and PSK); when the first Child SA is asked for,
       * the connection among those with the same peer, IDs and IKE policy whose traffic
       * selectors fit it (strongSwan: peer config by IDs, child config by TS).
       */
      readonly connection: ConnectionConfig;
      /** Why that connection's data policy was chosen for the first Child SA (for the log). */
      readonly childConfig: string | undefined;
      readonly peerId: string;
      /** How the initiator proved its identity, for the log: 'PSK', or the signature and certificate. */
      readonly method: string;
      readonly initialContact: boolean;
      readonly response: Payload[];
      /** undefined when the initiator asked for no Child SA. */
      readonly child: ChildRequestOutcome | undefined;
    };

function notifyOnly(notifyType: number): NotifyPayload {
  return notifyPayload({ name: 'other', notifyType, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.alloc(0) });
}

type Refusal = Extract<IkeAuthRequestOutcome, { kind: 'auth-failed' | 'invalid' }>;

const authFailed = (reason: string): Refusal => ({ kind: 'auth-failed', response: [notifyOnly(NotifyType.AUTHENTICATION_FAILED)], reason });

/** The initiator's request, read: which connection its IDs choose, and what it sent to prove them. */
export interface IkeAuthInitiator {
  readonly kind: 'chosen';
  readonly connection: ConnectionConfig;
  readonly peerId: Identity;
  readonly IDi: IdPayload;
  readonly certificates: readonly Buffer[];
  /** The CA hashes of its CERTREQ payloads (RFC 7296 3.7); undefined when it sent none. */
  readonly certReq: readonly Buffer[] | undefined;
}

/**
 * The connection for an initiator's IKE_AUTH (strongSwan: the peer config by IDs): the first
 * candidate whose remote ID matches IDi and, when IDr is sent, whose local ID is IDr.
 */
export function chooseIkeAuthConnection(candidates: readonly ConnectionConfig[], inner: readonly Payload[]): IkeAuthInitiator | Refusal {
  const checked = checkMessage(IKE_AUTH_REQUEST, inner);
  if (!checked.ok) return { kind: 'invalid', response: [notifyOnly(NotifyType.INVALID_SYNTAX)], reason: describeViolation(checked.error) };
  const { IDi, IDr, AUTH } = checked.value;
  const peerId = identityOf(IDi);
  const wantedLocal = IDr === undefined ? undefined : identityOf(IDr);
  const connection = candidates.find(
    (c) => identityMatches(c.remote.id, peerId) && (wantedLocal === undefined || identityMatches(c.local.id, wantedLocal)),
  );
  if (connection === undefined) {
    const known = candidates.map((c) => `${c.name}: ${formatIdentity(c.remote.id)}`).join(', ');
    return authFailed(
      `no connection for initiator ID ${formatIdentity(peerId)}${wantedLocal === undefined ? '' : ` asking for ${formatIdentity(wantedLocal)}`} (AUTH method ${nameOf(AuthMethod, AUTH.method)}); configured peers: ${known || 'none'}`,
    );
  }
  return { kind: 'chosen', connection, peerId, IDi, certificates: certificatesOf(inner), certReq: certificateRequestsOf(inner) };
}

/** Checks the initiator's AUTH with what it must prove (its PSK, or its certificate's key). */
export function verifyIkeAuthInitiator(
  input: Pick<IkeAuthResponderInput, 'sa' | 'registry' | 'realMessage1' | 'Nr' | 'inner'>,
  initiator: IkeAuthInitiator,
  peer: PeerCredential,
): Result<string, string> {
  const auth = checkMessage(IKE_AUTH_REQUEST, input.inner);
  if (!auth.ok) return err(describeViolation(auth.error));
  const octets = authOctets({ sa: input.sa, registry: input.registry, realMessage: input.realMessage1, peerNonce: input.Nr, id: initiator.IDi, author: 'initiator' });
  const verified = verifyPeerAuth(peer, auth.value.AUTH, octets, input.registry, input.sa);
  return verified.ok ? verified : err(`initiator ${formatIdentity(initiator.peerId)} (method ${describePeerCredential(peer)}, connection ${initiator.connection.name}): ${verified.error}`);
}

/** The responder checks the initiator's IKE_AUTH and builds its answer. */
export function respondToIkeAuth(input: IkeAuthResponderInput): IkeAuthRequestOutcome {
  const initiator = chooseIkeAuthConnection(input.candidates, input.inner);
  if (initiator.kind !== 'chosen') return initiator;
  const checked = checkMessage(IKE_AUTH_REQUEST, input.inner);
  if (!checked.ok) return { kind: 'invalid', response: [notifyOnly(NotifyType.INVALID_SYNTAX)], reason: describeViolation(checked.error) };
  const { SA, TSi, TSr } = checked.value;
  const connection = initiator.connection;
  const peerId = initiator.peerId;

  let own: OwnCredential;
  let method: string;
  if (connection.ikePolicy.auth === 'pubkey') {
    const signatures = input.signatures;
    if (signatures === undefined || signatures.connection !== connection.name) {
      return authFailed(`connection ${connection.name} authenticates with certificates, but the initiator's certificate was not checked for it`);
    }
    own = signatures.own;
    method = signatures.verified;
  } else {
    const psk = connection.local.psk;
    if (psk === undefined) return authFailed(`connection ${connection.name} has no preshared key`);
    own = { kind: 'psk', psk: psk.bytes };
    const verified = verifyIkeAuthInitiator(input, initiator, { kind: 'psk', psk: psk.bytes });
    if (!verified.ok) return authFailed(verified.error);
    method = verified.value;
  }

  const idr = responderIdPayload(connection);
  const octets = authOctets({ sa: input.sa, registry: input.registry, realMessage: input.realMessage2, peerNonce: input.Ni, id: idr, author: 'responder' });
  const built = ownAuthPayloads(own, octets, input.registry, input.sa);
  if (!built.ok) return authFailed(`connection ${connection.name}: our AUTH cannot be built: ${built.error}`);
  const response: Payload[] = [idr, ...built.value.certs, built.value.auth];

  let child: ChildRequestOutcome | undefined;
  let childConnection = connection;
  let childConfig: string | undefined;
  if (SA !== undefined || TSi !== undefined || TSr !== undefined) {
    if (SA === undefined || TSi === undefined || TSr === undefined) {
      child = { kind: 'refused', notify: notifyOnly(NotifyType.INVALID_SYNTAX), reason: 'the first Child SA needs SA, TSi and TSr together' };
    } else {
      // RFC 7296 2.9: the responder picks the policy for the offered selectors; connections that
      // share this IKE SA's peer, IDs and IKE policy are its child configs.
      const choice = selectChildConfig(childConfigCandidates(connection, input.candidates), {
        TSi: fromWireSelectors((TSi as TsPayload).selectors),
        TSr: fromWireSelectors((TSr as TsPayload).selectors),
      });
      childConfig = choice.why;
      if (choice.kind === 'none') {
        child = { kind: 'refused', notify: notifyOnly(NotifyType.TS_UNACCEPTABLE), reason: choice.why };
      } else {
        childConnection = choice.connection;
        const ts = connectionSelectors(childConnection);
        child = acceptChildRequest({
          sa: input.sa,
          sets: childConnection.dataPolicy.proposalSets,
          inIkeAuth: true,
          localTs: ts.local,
          remoteTs: ts.remote,
          mode: childConnection.dataPolicy.mode,
          Ni: input.Ni,
          Nr: input.Nr,
          SA,
          KE: undefined,
          TSi,
          TSr,
          payloads: input.inner,
          registry: input.registry,
          random: input.random,
          allocateSpi: input.allocateSpi,
        });
      }
    }
  }
  if (child !== undefined) {
    if (child.kind === 'created') response.push(...child.responsePayloads);
    else response.push(child.notify);
  }
  return {
    kind: 'authenticated',
    connection: childConnection,
    childConfig,
    peerId: formatIdentity(peerId),
    method,
    initialContact: hasNotify(input.inner, NotifyType.INITIAL_CONTACT),
    response,
    child,
  };
}
