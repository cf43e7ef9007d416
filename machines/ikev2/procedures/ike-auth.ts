/**
 * IKE_AUTH (RFC 7296 1.2), both roles: authentication (2.15) and the first Child SA. Our
 * inbound SPI for that Child SA comes from the kernel first (SPI_ALLOCATED), then the initiator
 * sends its request and the responder answers. The exchange module
 * (src/ikev2/exchanges/ike-auth.ts) builds and checks the messages.
 *
 * Chart, preshared keys: initiator `ikeAuth.allocatingSpi` (entry `requestSpi`, SPI_ALLOCATED
 * `send`) → `ikeAuth.awaitingResponse` (MESSAGE `onResponse`); responder
 * `awaitingIkeAuth.waiting` (MESSAGE `receive`) → `awaitingIkeAuth.allocatingSpi` (SPI_ALLOCATED
 * `respond`).
 *
 * With signatures (auth-credentials.ts) two asynchronous steps join, each a state: `signing`
 * (our AUTH octets signed by the signing port, which holds the key) and `checkingPeer` (the
 * peer's certificates checked against the connection's CAs and CRLs). The initiator signs
 * before it allocates and sends, and checks the responder's certificate after the answer
 * (`checkingPeer`, then `finish`); the responder checks the initiator's certificate and AUTH
 * first, so it signs nothing for an initiator it refuses, then signs, allocates and answers.
 *
 * Once established, the initiator's AUTHENTICATION_FAILED notify (2.21.2) ends the responder's SA
 * (`peerRejected`).
 */
import type { ConnectionConfig } from '../../../src/config/model.js';
import { ourCertificateRequest } from '../../../src/ikev2/exchanges/certificate-payloads.js';
import { createChildOffer } from '../../../src/ikev2/exchanges/child-sa-negotiation.js';
import { offeredSelectors } from '../../../src/ikev2/exchanges/connection-policy.js';
import { errorNotify } from '../../../src/ikev2/exchanges/create-child-sa.js';
import {
  buildIkeAuthRequest,
  chooseIkeAuthConnection,
  identifyIkeAuthResponder,
  processIkeAuthResponse,
  respondToIkeAuth,
  verifyIkeAuthInitiator,
  type IkeAuthResponseOutcome,
  type SignatureAuthentication,
} from '../../../src/ikev2/exchanges/ike-auth.js';
import { describeOwnCredential, type OwnCredential, type PeerCredential } from '../../../src/ikev2/authenticator.js';
import { ExchangeType, NotifyType, nameOf, type Payload } from '../../../src/wire/index.js';
import { spawnChildSa } from '../child-records.js';
import type { IkeSaEvent, IkeSaExternalEvent } from '../ike-sa-context.js';
import { err } from '../../../src/result.js';
import { TIMER, type Step } from '../ike-sa-step.js';
import { intake } from '../message-intake.js';
import type { PeerRequest } from '../ike-sa-messages.js';
import { answer } from '../peer-request.js';
import { completeRequest, sendRequest } from '../request-window.js';
import { childSaFailed, failNegotiation } from '../sa-reports.js';
import { candidatesOf, checkedPeer, ownCredential, rejectResponder } from './auth-credentials.js';
import { AllocatedSpi } from './child-sa-exchange.js';
import { answerAgain, requireConnection } from './ike-sa-init.js';

type MessageEvent = Extract<IkeSaExternalEvent, { type: 'MESSAGE' }>;

/** Entry of `ikeAuth.allocatingSpi` / `awaitingIkeAuth.allocatingSpi`: the first Child SA's inbound SPI. */
export function requestSpi(step: Step): void {
  step.allocateSpi('ike-auth');
}

// ---- initiator ----

/** SPI_ALLOCATED in `ikeAuth.allocatingSpi`: the IKE_AUTH request with the first Child SA. */
export function send(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'SPI_ALLOCATED') return;
  const spi = new AllocatedSpi(event.spi);
  const conn = requireConnection(step);
  if (conn === undefined) {
    spi.releaseIfUnused(step);
    return;
  }
  const ctx = step.ctx;
  const h = ctx.handshake!;
  // The triggering packet's selectors first, when an acquire started this SA (RFC 7296 2.9).
  const ts = offeredSelectors(conn, ctx.trigger);
  const childOffer = createChildOffer({
    sets: conn.dataPolicy.proposalSets,
    inIkeAuth: true,
    localTs: ts.local,
    remoteTs: ts.remote,
    mode: conn.dataPolicy.mode,
    registry: step.ports.registry,
    random: step.ports.random,
    allocateSpi: spi.take,
  });
  const own = ownCredential(step, conn, h.peerCertReq !== undefined);
  if (own === undefined) {
    spi.releaseIfUnused(step);
    return;
  }
  const inner = buildIkeAuthRequest({
    sa: ctx.security!,
    registry: step.ports.registry,
    realMessage1: h.realMessage1!,
    Nr: h.Nr!,
    connection: conn,
    own,
    certReq: ourCertificateRequest(conn),
    child: childOffer,
    initialContact: conn.initialContact ?? true,
  });
  step.set({ handshake: { ...h, childOffer }, trigger: undefined });
  sendRequest(step, ExchangeType.IKE_AUTH, inner);
  step.raise({ type: 'REQUEST_SENT' });
}

/**
 * MESSAGE in `ikeAuth.awaitingResponse`: the responder's IKE_AUTH answer. With a PSK it is checked
 * at once; with signatures the responder's certificates are checked first (`checkingPeer`).
 */
export function onResponse(step: Step, event: MessageEvent): void {
  const incoming = intake(step, event);
  if (incoming === undefined) return;
  if (incoming.kind !== 'response' || incoming.exchangeType !== ExchangeType.IKE_AUTH) return;
  const conn = requireConnection(step);
  if (conn === undefined) return;
  const h = step.ctx.handshake!;
  completeRequest(step);
  if (conn.ikePolicy.auth === 'pubkey') {
    const own = ownCredential(step, conn, h.peerCertReq !== undefined);
    if (own === undefined) return;
    const identified = identifyIkeAuthResponder(conn, incoming.inner, describeOwnCredential(own));
    if (identified.kind !== 'identified') {
      finish(step, identified);
      return;
    }
    step.set({ handshake: { ...h, response: incoming.inner } });
    step.raise({ type: 'RESPONDER_IDENTIFIED' });
    return;
  }
  const psk = conn.local.psk;
  if (psk === undefined) {
    failNegotiation(step, `connection ${conn.name} has no preshared key`);
    return;
  }
  complete(step, incoming.inner, { kind: 'psk', psk: psk.bytes }, { kind: 'psk', psk: psk.bytes });
}

/**
 * PEER_CERTIFICATES_CHECKED in `checkingPeer`: the initiator checks the responder's AUTH with its
 * certificate's key and completes; the responder checks the initiator's AUTH and goes on to sign
 * (INITIATOR_AUTHENTICATED), so it signs nothing for an initiator it refuses.
 */
export function onPeerChecked(step: Step, event: Extract<IkeSaEvent, { type: 'PEER_CERTIFICATES_CHECKED' }>): void {
  const checked = checkedPeer(step, event);
  if (checked === undefined) return;
  const ctx = step.ctx;
  const h = ctx.handshake!;
  if (ctx.role === 'initiator') {
    const own = ownCredential(step, checked.connection, h.peerCertReq !== undefined);
    if (own !== undefined) complete(step, checked.inner, own, checked.peer);
    return;
  }
  const chosen = chooseIkeAuthConnection(candidatesOf(step), checked.inner);
  const verified =
    chosen.kind === 'chosen'
      ? verifyIkeAuthInitiator({ sa: ctx.security!, registry: step.ports.registry, realMessage1: h.realMessage1!, Nr: h.Nr!, inner: checked.inner }, chosen, checked.peer)
      : err(chosen.reason);
  if (!verified.ok) {
    if (ctx.answering !== undefined) answer(step, ctx.answering, [errorNotify(NotifyType.AUTHENTICATION_FAILED)]);
    failNegotiation(step, verified.error, 'AUTHENTICATION_FAILED');
    return;
  }
  step.set({ handshake: { ...h, peerVerified: verified.value } });
  step.raise({ type: 'INITIATOR_AUTHENTICATED' });
}

/** The responder's answer checked with what it must prove (its PSK, or its checked certificate's key), then `finish`. */
function complete(step: Step, inner: readonly Payload[], own: OwnCredential, peer: PeerCredential): void {
  const conn = requireConnection(step);
  if (conn === undefined) return;
  const ctx = step.ctx;
  const h = ctx.handshake!;
  finish(
    step,
    processIkeAuthResponse({
      sa: ctx.security!,
      registry: step.ports.registry,
      realMessage2: h.realMessage2!,
      Ni: h.Ni,
      Nr: h.Nr!,
      connection: conn,
      own,
      peer,
      inner,
      child: h.childOffer,
    }),
  );
}

/** The initiator's IKE_AUTH ends: the IKE SA is established (with its first Child SA, or not), or it fails. */
function finish(step: Step, outcome: IkeAuthResponseOutcome): void {
  const ctx = step.ctx;
  const h = ctx.handshake!;
  if (outcome.kind !== 'authenticated' || outcome.child?.kind !== 'created') {
    step.releaseSpi(h.childOffer?.inboundSpi);
    step.set({ handshake: { ...h, childOffer: undefined } });
  }
  switch (outcome.kind) {
    case 'auth-failed':
      // RFC 7296 2.21.2: a responder we refuse considers the IKE SA established; it is told.
      if (outcome.byPeer) failNegotiation(step, outcome.reason, 'AUTHENTICATION_FAILED');
      else rejectResponder(step, outcome.reason);
      return;
    case 'failed':
      failNegotiation(step, outcome.reason);
      return;
    case 'authenticated':
      break;
  }
  step.set({ peerId: outcome.peerId, handshake: undefined });
  step.info({ peerId: outcome.peerId, method: outcome.method }, 'IKE_AUTH done: IKE SA established');
  const child = outcome.child;
  if (child !== undefined) {
    switch (child.kind) {
      case 'created':
        spawnChildSa(step, child.params);
        break;
      case 'refused':
      case 'failed':
        childSaFailed(step, child.reason, child.kind === 'refused' ? child.notify : undefined);
        break;
      case 'invalid-ke':
        childSaFailed(step, 'INVALID_KE_PAYLOAD in IKE_AUTH', 'INVALID_KE_PAYLOAD');
        break;
    }
  }
  step.raise({ type: 'IKE_AUTH_DONE' });
}

// ---- responder ----

/** MESSAGE in `awaitingIkeAuth`: the initiator's IKE_AUTH (or a retransmitted IKE_SA_INIT). */
export function receive(step: Step, event: MessageEvent): void {
  if (event.message.header.exchangeType === ExchangeType.IKE_SA_INIT) {
    answerAgain(step, event);
    return;
  }
  const incoming = intake(step, event);
  if (incoming === undefined) return;
  if (incoming.kind !== 'request' || incoming.exchangeType !== ExchangeType.IKE_AUTH) {
    step.count('outOfWindow');
    return;
  }
  const request: PeerRequest = { kind: 'ike-auth', messageId: incoming.messageId, exchangeType: incoming.exchangeType, inner: incoming.inner };
  // The connection the IDs choose decides the way on (strongSwan: the peer config by IDs).
  const chosen = chooseIkeAuthConnection(candidatesOf(step), incoming.inner);
  const signatures = chosen.kind === 'chosen' && chosen.connection.ikePolicy.auth === 'pubkey';
  step.set({ answering: request, handshake: { ...step.ctx.handshake!, peerCertReq: chosen.kind === 'chosen' ? chosen.certReq : undefined } });
  step.raise({ type: 'IKE_AUTH_RECEIVED', certificates: signatures });
}

/** SPI_ALLOCATED in `awaitingIkeAuth.allocatingSpi`: authenticate the initiator and answer. */
export function respond(step: Step, event: IkeSaEvent): void {
  const request = step.ctx.answering;
  if (event.type !== 'SPI_ALLOCATED' || request === undefined) return;
  const spi = new AllocatedSpi(event.spi);
  const ctx = step.ctx;
  const hs = ctx.handshake!;
  const candidates = candidatesOf(step);
  const outcome = respondToIkeAuth({
    sa: ctx.security!,
    registry: step.ports.registry,
    random: step.ports.random,
    realMessage1: hs.realMessage1!,
    realMessage2: hs.realMessage2!,
    Ni: hs.Ni,
    Nr: hs.Nr!,
    candidates,
    inner: request.inner,
    allocateSpi: spi.take,
    signatures: signatureAuthentication(step, candidates, request.inner),
  });
  step.cancel(TIMER.halfOpen);
  // The SPI stays only with the Child SA it became.
  if (outcome.kind !== 'authenticated' || outcome.child?.kind !== 'created') step.releaseSpi(spi.spi);
  if (outcome.kind !== 'authenticated') {
    answer(step, request, outcome.response);
    failNegotiation(step, outcome.reason, outcome.kind === 'auth-failed' ? 'AUTHENTICATION_FAILED' : 'INVALID_SYNTAX');
    return;
  }
  step.set({ connection: outcome.connection.name, peerId: outcome.peerId, handshake: undefined });
  answer(step, request, outcome.response);
  step.info({ peerId: outcome.peerId, method: outcome.method }, 'IKE_AUTH answered: IKE SA established');
  if (outcome.childConfig !== undefined) {
    step.info(
      { connection: outcome.connection.name, why: outcome.childConfig },
      outcome.child?.kind === 'refused' && outcome.child.notify.notifyType === NotifyType.TS_UNACCEPTABLE
        ? "no connection for the first Child SA's traffic selectors"
        : 'first Child SA: connection chosen by traffic selectors',
    );
  }
  if (outcome.initialContact) {
    step.toSupervisor({ type: 'IKE_SA_INITIAL_CONTACT', id: ctx.id, connection: outcome.connection.name, peerId: outcome.peerId });
  }
  const child = outcome.child;
  if (child !== undefined) {
    if (child.kind === 'created') spawnChildSa(step, child.params);
    else childSaFailed(step, child.reason, nameOf(NotifyType, child.notify.notifyType));
  }
  step.raise({ type: 'IKE_AUTH_DONE' });
}

/** Responder with signatures: what `checkingPeer` and `signing` found and made, for the answer. */
function signatureAuthentication(step: Step, candidates: readonly ConnectionConfig[], inner: readonly Payload[]): SignatureAuthentication | undefined {
  const h = step.ctx.handshake!;
  const chosen = chooseIkeAuthConnection(candidates, inner);
  if (chosen.kind !== 'chosen' || chosen.connection.ikePolicy.auth !== 'pubkey' || h.peerVerified === undefined) return undefined;
  const own = ownCredential(step, chosen.connection, chosen.certReq !== undefined);
  return own === undefined ? undefined : { connection: chosen.connection.name, verified: h.peerVerified, own };
}

/** SPI_ALLOCATION_FAILED in `ikeAuth.allocatingSpi` or `awaitingIkeAuth.allocatingSpi`: no first Child SA, no IKE SA. */
export function noSpi(step: Step, reason: string): void {
  failNegotiation(step, `the kernel gave no inbound SPI for the first Child SA: ${reason}`);
}

/** HALF_OPEN_TIMEOUT in `awaitingIkeAuth` (RFC 7296 2.6: half-open SAs do not stay). */
export function halfOpenTimeout(step: Step): void {
  // One per spoofed IKE_SA_INIT: summarised (machines/effects.ts, LogSummary).
  failNegotiation(step, 'no IKE_AUTH request within the half-open timeout', undefined, {
    key: 'half-open-timeout',
    events: 'half-open IKE SAs closed without an IKE_AUTH request',
  });
}

/** The initiator rejected our IKE_AUTH answer (INFORMATIONAL with AUTHENTICATION_FAILED, 2.21.2). */
export function peerRejected(step: Step, request: PeerRequest): void {
  answer(step, request, []);
  step.set({ endReason: 'the peer did not accept our authentication (AUTHENTICATION_FAILED)', endCause: 'peer-rejected' });
  step.error({ notify: 'AUTHENTICATION_FAILED' }, 'the peer rejected our IKE_AUTH response');
  step.raise({ type: 'IKE_SA_ENDED' });
}
