/**
 * IKE_AUTH (RFC 7296 1.2) with preshared keys (2.15): both sides prove their identity and the
 * first Child SA is created. Everything is inside SK, protected with the IKE_SA_INIT keys.
 *
 *     Initiator                         Responder
 *     HDR, SK {IDi, [CERT,] [CERTREQ,]
 *         [IDr,] AUTH, SAi2,
 *         TSi, TSr}               -->
 *                                 <--   HDR, SK {IDr, [CERT,] AUTH, SAr2, TSi, TSr}
 *
 * AUTH (2.15, method 2 "Shared Key Message Integrity Code"):
 *     AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> )
 *     InitiatorSignedOctets = RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload)
 *     ResponderSignedOctets = RealMessage2 | NonceIData | prf(SK_pr, RestOfRespIDPayload)
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
import type { LocalPeerConfig } from '../../config/model.js';
import { pskAuth, signedOctets, verifyPskAuth } from '../../crypto/psk-auth.js';
import type { CryptoRegistry } from '../../crypto/registry.js';
import type { RandomPort } from '../../crypto/types.js';
import type { ConnectionConfig } from '../../config/model.js';
import { formatIdentity } from '../../config/model.js';
import {
  AuthMethod,
  ExchangeType,
  NotifyType,
  PayloadType,
  authPayload,
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
import { ikeTransformsOf, type IkeSaSecurity } from '../ike-sa-session.js';
import {
  acceptChildRequest,
  childRequestPayloads,
  completeChildResponse,
  type ChildRequestOutcome,
  type ChildResponseOutcome,
  type ChildSaOffer,
} from './child-sa-negotiation.js';
import { childConfigCandidates, connectionSelectors, identityMatches, selectChildConfig } from './connection-policy.js';
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

/** RestOfInitIDPayload / RestOfRespIDPayload (2.15): ID Type, three RESERVED octets, data. */
export function idPayloadBody(id: Pick<IdPayload, 'idType' | 'data' | 'reserved'>): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt8(id.idType, 0);
  head.writeUIntBE(id.reserved ?? 0, 1, 3);
  return Buffer.concat([head, id.data]);
}

interface AuthInput {
  readonly sa: IkeSaSecurity;
  readonly registry: CryptoRegistry;
  /** RealMessage1 (for the initiator's AUTH) or RealMessage2 (responder's). */
  readonly realMessage: Buffer;
  /** The nonce of the other side of the AUTH's author. */
  readonly peerNonce: Buffer;
  readonly id: Pick<IdPayload, 'idType' | 'data' | 'reserved'>;
  /** Whose AUTH: selects SK_pi or SK_pr. */
  readonly author: 'initiator' | 'responder';
}

function octetsOf(input: AuthInput): Buffer {
  const { prf } = ikeTransformsOf(input.sa.transforms, input.registry);
  return signedOctets({
    realMessage: input.realMessage,
    peerNonce: input.peerNonce,
    prf,
    SK_p: input.author === 'initiator' ? input.sa.keys.SK_pi : input.sa.keys.SK_pr,
    idPayloadBody: idPayloadBody(input.id),
  });
}

function computeAuth(input: AuthInput, psk: Buffer): Buffer {
  const { prf } = ikeTransformsOf(input.sa.transforms, input.registry);
  return pskAuth(prf, psk, octetsOf(input));
}

function checkAuth(input: AuthInput, psk: Buffer, data: Buffer): boolean {
  const { prf } = ikeTransformsOf(input.sa.transforms, input.registry);
  return verifyPskAuth(prf, psk, octetsOf(input), data);
}

// ---- initiator ----

export interface IkeAuthRequestInput {
  readonly sa: IkeSaSecurity;
  readonly registry: CryptoRegistry;
  readonly realMessage1: Buffer;
  readonly Nr: Buffer;
  readonly local: LocalPeerConfig;
  /** The remote ID we expect; sent as IDr so a responder with several identities picks it. */
  readonly remoteId: Identity | undefined;
  readonly child: ChildSaOffer | undefined;
  readonly initialContact: boolean;
}

/** The inner payloads of our IKE_AUTH request. */
export function buildIkeAuthRequest(input: IkeAuthRequestInput): Payload[] {
  const idi = idPayload(PayloadType.IDi, input.local.id);
  const auth = computeAuth(
    { sa: input.sa, registry: input.registry, realMessage: input.realMessage1, peerNonce: input.Nr, id: idi, author: 'initiator' },
    input.local.psk.bytes,
  );
  const payloads: Payload[] = [idi];
  if (input.initialContact) payloads.push(notifyPayload({ name: 'INITIAL_CONTACT' }));
  if (input.remoteId !== undefined) payloads.push(idPayload(PayloadType.IDr, input.remoteId));
  payloads.push(authPayload(AuthMethod.SHARED_KEY_MIC, auth));
  if (input.child !== undefined) payloads.push(...childRequestPayloads(input.child));
  return payloads;
}

export type IkeAuthResponseOutcome =
  | { readonly kind: 'authenticated'; readonly peerId: string; readonly child: ChildResponseOutcome | undefined }
  | { readonly kind: 'auth-failed'; readonly reason: string; readonly byPeer: boolean }
  | { readonly kind: 'failed'; readonly reason: string };

export interface IkeAuthResponseInput {
  readonly sa: IkeSaSecurity;
  readonly registry: CryptoRegistry;
  readonly realMessage2: Buffer;
  readonly Ni: Buffer;
  readonly Nr: Buffer;
  readonly connection: ConnectionConfig;
  readonly inner: readonly Payload[];
  readonly child: ChildSaOffer | undefined;
}

export function processIkeAuthResponse(input: IkeAuthResponseInput): IkeAuthResponseOutcome {
  const c = input.connection;
  const error = firstErrorNotify(input.inner);
  if (error !== undefined && error.notifyType === NotifyType.AUTHENTICATION_FAILED) {
    return {
      kind: 'auth-failed',
      byPeer: true,
      reason: `the responder did not accept our ID ${formatIdentity(c.local.id)} with method PSK (AUTHENTICATION_FAILED)`,
    };
  }
  const checked = checkMessage(IKE_AUTH_RESPONSE, input.inner);
  if (!checked.ok) {
    if (error !== undefined) return { kind: 'failed', reason: `the responder answered ${nameOf(NotifyType, error.notifyType)}` };
    return { kind: 'failed', reason: describeViolation(checked.error) };
  }
  const { IDr, AUTH, SA, TSi, TSr } = checked.value;
  const peerId = identityOf(IDr);
  if (!identityMatches(c.remote.id, peerId)) {
    return { kind: 'auth-failed', byPeer: false, reason: `the responder is ${formatIdentity(peerId)}, we expect ${formatIdentity(c.remote.id)}` };
  }
  if (AUTH.method !== AuthMethod.SHARED_KEY_MIC) {
    return { kind: 'auth-failed', byPeer: false, reason: `the responder ${formatIdentity(peerId)} used auth method ${nameOf(AuthMethod, AUTH.method)}, we expect PSK` };
  }
  const valid = checkAuth(
    { sa: input.sa, registry: input.registry, realMessage: input.realMessage2, peerNonce: input.Ni, id: IDr, author: 'responder' },
    c.local.psk.bytes,
    AUTH.data,
  );
  if (!valid) {
    return { kind: 'auth-failed', byPeer: false, reason: `the AUTH of responder ${formatIdentity(peerId)} (method PSK) does not verify: wrong preshared key?` };
  }
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
      errorNotify: error,
      registry: input.registry,
    });
  }
  return { kind: 'authenticated', peerId: formatIdentity(peerId), child };
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
      readonly initialContact: boolean;
      readonly response: Payload[];
      /** undefined when the initiator asked for no Child SA. */
      readonly child: ChildRequestOutcome | undefined;
    };

function notifyOnly(notifyType: number): NotifyPayload {
  return notifyPayload({ name: 'other', notifyType, protocolId: 0, spi: Buffer.alloc(0), data: Buffer.alloc(0) });
}

/** The responder checks the initiator's IKE_AUTH and builds its answer. */
export function respondToIkeAuth(input: IkeAuthResponderInput): IkeAuthRequestOutcome {
  const checked = checkMessage(IKE_AUTH_REQUEST, input.inner);
  if (!checked.ok) {
    return { kind: 'invalid', response: [notifyOnly(NotifyType.INVALID_SYNTAX)], reason: describeViolation(checked.error) };
  }
  const { IDi, IDr, AUTH, SA, TSi, TSr } = checked.value;
  const peerId = identityOf(IDi);
  const failed = (reason: string): IkeAuthRequestOutcome => ({
    kind: 'auth-failed',
    response: [notifyOnly(NotifyType.AUTHENTICATION_FAILED)],
    reason,
  });
  const wantedLocal = IDr === undefined ? undefined : identityOf(IDr);
  const byIdentity = input.candidates.filter(
    (c) => identityMatches(c.remote.id, peerId) && (wantedLocal === undefined || identityMatches(c.local.id, wantedLocal)),
  );
  const connection = byIdentity[0];
  if (connection === undefined) {
    const known = input.candidates.map((c) => `${c.name}: ${formatIdentity(c.remote.id)}`).join(', ');
    return failed(
      `no connection for initiator ID ${formatIdentity(peerId)}${wantedLocal === undefined ? '' : ` asking for ${formatIdentity(wantedLocal)}`} (method PSK); configured peers: ${known || 'none'}`,
    );
  }
  if (AUTH.method !== AuthMethod.SHARED_KEY_MIC) {
    return failed(`initiator ${formatIdentity(peerId)} used auth method ${nameOf(AuthMethod, AUTH.method)}, connection ${connection.name} expects PSK`);
  }
  const valid = checkAuth(
    { sa: input.sa, registry: input.registry, realMessage: input.realMessage1, peerNonce: input.Nr, id: IDi, author: 'initiator' },
    connection.local.psk.bytes,
    AUTH.data,
  );
  if (!valid) {
    return failed(`the AUTH of initiator ${formatIdentity(peerId)} (method PSK, connection ${connection.name}) does not verify: wrong preshared key?`);
  }

  const idr = { type: PayloadType.IDr, ...encodeIdentity(connection.local.id) } satisfies IdPayload;
  const auth = computeAuth(
    { sa: input.sa, registry: input.registry, realMessage: input.realMessage2, peerNonce: input.Ni, id: idr, author: 'responder' },
    connection.local.psk.bytes,
  );
  const response: Payload[] = [idr, authPayload(AuthMethod.SHARED_KEY_MIC, auth)];

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
    initialContact: hasNotify(input.inner, NotifyType.INITIAL_CONTACT),
    response,
    child,
  };
}
