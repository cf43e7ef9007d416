/**
 * The initial exchanges on the IKE SA machine: IKE_SA_INIT then IKE_AUTH (RFC 7296 1.2), in both
 * roles. The exchange modules (src/ikev2/exchanges/ike-sa-init.ts, ike-auth.ts) build and check
 * the messages; these handlers keep the state between them, retry on COOKIE and
 * INVALID_KE_PAYLOAD, start the first Child SA and decide what comes next.
 */
import { redactedKeyPair } from '../../src/ikev2/exchanges/ike-sa-init.js';
import {
  buildIkeSaInitRequest,
  processIkeSaInitResponse,
  respondToIkeSaInit,
  type IkeSaInitRequestInput,
} from '../../src/ikev2/exchanges/ike-sa-init.js';
import { buildIkeAuthRequest, processIkeAuthResponse, respondToIkeAuth } from '../../src/ikev2/exchanges/ike-auth.js';
import { createChildOffer } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import { connectionSelectors } from '../../src/ikev2/exchanges/connection-policy.js';
import { offerProposals, preferredDhGroup } from '../../src/ikev2/exchanges/negotiation.js';
import { errorNotify } from '../../src/ikev2/exchanges/create-child-sa.js';
import { headerFor, sealMessage, spiHex } from '../../src/ikev2/ike-sa-session.js';
import type { ConnectionConfig } from '../../src/config/model.js';
import { ExchangeType, NotifyType, nameOf, type IkeMessage } from '../../src/wire/index.js';
import { spawnChildSa } from './ike-sa-children.js';
import type { Handshake } from './ike-sa-context.js';
import { intake, type MessageEvent } from './ike-sa-intake.js';
import { TIMER, completeOutstanding, sendPlainRequest, sendRequest, sendResponse, type Step } from './ike-sa-step.js';

const MAX_COOKIE_RETRIES = 3;
const MAX_KE_RETRIES = 2;

/** The negotiation ends before the IKE SA was established. */
export function failNegotiation(step: Step, reason: string, notify?: string): void {
  step.set({ endReason: reason });
  step.error({ reason, ...(notify === undefined ? {} : { notify }) }, 'IKE SA negotiation failed');
  step.report({
    kind: 'ike-sa-failed',
    connection: step.ctx.connection ?? step.ctx.candidates.join('|'),
    id: step.ctx.id,
    reason,
    ...(notify === undefined ? {} : { notify }),
    atMs: step.now,
  });
  step.raise({ type: 'IKE_SA_FAILED' });
}

function requireConnection(step: Step): ConnectionConfig | undefined {
  const c = step.connection();
  if (c === undefined) failNegotiation(step, `connection ${step.ctx.connection ?? '?'} is not configured`);
  return c;
}

// ---- initiator ----

/** Entry of the initiator: the first IKE_SA_INIT request. */
export function startInitiator(step: Step): void {
  const conn = requireConnection(step);
  if (conn === undefined) return;
  const offer = offerProposals(conn.ikePolicy.proposalSets, 'ike', Buffer.alloc(0), step.ports.registry);
  const group = preferredDhGroup(offer);
  const dh = group === undefined ? undefined : step.ports.registry.dhGroup(group);
  if (dh === undefined) {
    failNegotiation(step, `IKE policy ${conn.ikePolicy.name} offers no DH group ikekm implements`);
    return;
  }
  const handshake: Handshake = {
    Ni: step.ports.random(step.ports.config.current().settings.nonceLength),
    keyPair: redactedKeyPair(dh.generateKeyPair(step.ports.random)),
    offer,
    cookieRetries: 0,
    keRetries: 0,
  };
  step.set({ handshake });
  step.info({ remote: `${step.ctx.remote.address}:${step.ctx.remote.port}`, proposals: conn.ikePolicy.proposals }, 'initiating IKE SA');
  sendInitRequest(step, conn);
}

function initRequestInput(step: Step, conn: ConnectionConfig, h: Handshake): IkeSaInitRequestInput {
  return {
    spiI: step.ctx.spiI,
    Ni: h.Ni,
    keyPair: h.keyPair!,
    offer: h.offer,
    cookie: h.cookie,
    local: step.ctx.local,
    remote: step.ctx.remote,
    fragmentation: conn.ikePolicy.fragmentation.enabled,
  };
}

function sendInitRequest(step: Step, conn: ConnectionConfig): void {
  const h = step.ctx.handshake!;
  const bytes = buildIkeSaInitRequest(initRequestInput(step, conn, h));
  step.set({ handshake: { ...h, realMessage1: bytes } });
  sendPlainRequest(step, ExchangeType.IKE_SA_INIT, bytes, { kind: 'ike-sa-init' });
}

/** The initiator gets an answer to IKE_SA_INIT. */
export function onIkeSaInitResponse(step: Step, event: MessageEvent): void {
  const { message } = event;
  const ctx = step.ctx;
  const h = ctx.handshake;
  const o = ctx.outstanding;
  if (h === undefined || o?.purpose.kind !== 'ike-sa-init' || !message.header.flags.response || message.header.messageId !== 0) {
    step.count('outOfWindow');
    return;
  }
  if (message.header.exchangeType !== ExchangeType.IKE_SA_INIT) return;
  const conn = requireConnection(step);
  if (conn === undefined) return;
  const outcome = processIkeSaInitResponse({
    request: initRequestInput(step, conn, h),
    message,
    local: ctx.local,
    remote: ctx.remote,
    registry: step.ports.registry,
  });
  switch (outcome.kind) {
    case 'cookie':
      completeOutstanding(step);
      if (h.cookieRetries >= MAX_COOKIE_RETRIES) {
        failNegotiation(step, `the responder keeps demanding cookies (${h.cookieRetries} retries)`, 'COOKIE');
        return;
      }
      step.info({}, 'responder demands a COOKIE: retrying IKE_SA_INIT with it (RFC 7296 2.6)');
      step.set({ handshake: { ...h, cookie: outcome.cookie, cookieRetries: h.cookieRetries + 1 } });
      sendInitRequest(step, conn);
      return;
    case 'invalid-ke': {
      completeOutstanding(step);
      const dh = step.ports.registry.dhGroup(outcome.group);
      if (h.keRetries >= MAX_KE_RETRIES || dh === undefined) {
        failNegotiation(step, `INVALID_KE_PAYLOAD asking for group ${outcome.group} again`, 'INVALID_KE_PAYLOAD');
        return;
      }
      step.info({ group: outcome.group, sent: h.keyPair?.group }, 'responder wants another DH group: retrying IKE_SA_INIT (RFC 7296 1.2)');
      step.set({ handshake: { ...h, keyPair: redactedKeyPair(dh.generateKeyPair(step.ports.random)), keRetries: h.keRetries + 1 } });
      sendInitRequest(step, conn);
      return;
    }
    case 'failed':
      completeOutstanding(step);
      failNegotiation(step, outcome.reason, outcome.notify);
      return;
    case 'established':
      break;
  }
  completeOutstanding(step);
  const settings = step.ports.config.current().settings;
  const natted = outcome.nat.localBehindNat || outcome.nat.remoteBehindNat;
  step.set({
    security: outcome.security,
    spiR: outcome.security.spiR,
    handshake: { ...h, keyPair: undefined, Nr: outcome.Nr, realMessage2: Buffer.from(event.datagram.bytes) },
    nat: outcome.nat,
    peerFragmentation: outcome.peerFragmentation && conn.ikePolicy.fragmentation.enabled,
    // RFC 7296 2.23: behind a NAT, IKE moves to the NAT-T port from IKE_AUTH on.
    ...(natted
      ? { local: { ...ctx.local, port: settings.nattPort }, remote: { ...ctx.remote, port: settings.nattPort } }
      : {}),
  });
  if (natted) step.info({ localBehindNat: outcome.nat.localBehindNat, remoteBehindNat: outcome.nat.remoteBehindNat }, 'NAT detected: moving to the NAT-T port');
  step.info({ spiR: spiHex(outcome.security.spiR), transforms: outcome.security.transforms }, 'IKE_SA_INIT done');
  sendIkeAuthRequest(step, conn);
  step.raise({ type: 'IKE_SA_INIT_DONE' });
}

function sendIkeAuthRequest(step: Step, conn: ConnectionConfig): void {
  const ctx = step.ctx;
  const h = ctx.handshake!;
  const ts = connectionSelectors(conn);
  const childOffer = createChildOffer({
    sets: conn.dataPolicy.proposalSets,
    inIkeAuth: true,
    localTs: ts.local,
    remoteTs: ts.remote,
    mode: conn.dataPolicy.mode,
    registry: step.ports.registry,
    random: step.ports.random,
    allocateSpi: step.allocateSpi,
  });
  const inner = buildIkeAuthRequest({
    sa: ctx.security!,
    registry: step.ports.registry,
    realMessage1: h.realMessage1!,
    Nr: h.Nr!,
    local: conn.local,
    remoteId: conn.remote.id,
    child: childOffer,
    initialContact: conn.initialContact ?? true,
  });
  step.set({ handshake: { ...h, childOffer } });
  sendRequest(step, ExchangeType.IKE_AUTH, inner, { kind: 'ike-auth' });
}

/** The initiator gets the IKE_AUTH response. */
export function onIkeAuthResponse(step: Step, event: MessageEvent): void {
  const incoming = intake(step, event);
  if (incoming === undefined) return;
  if (incoming.kind !== 'response' || incoming.exchangeType !== ExchangeType.IKE_AUTH) return;
  const ctx = step.ctx;
  const conn = requireConnection(step);
  if (conn === undefined) return;
  const h = ctx.handshake!;
  completeOutstanding(step);
  const outcome = processIkeAuthResponse({
    sa: ctx.security!,
    registry: step.ports.registry,
    realMessage2: h.realMessage2!,
    Ni: h.Ni,
    Nr: h.Nr!,
    connection: conn,
    inner: incoming.inner,
    child: h.childOffer,
  });
  if (outcome.kind !== 'authenticated' || outcome.child?.kind !== 'created') step.releaseSpi(h.childOffer?.inboundSpi);
  switch (outcome.kind) {
    case 'auth-failed':
      if (!outcome.byPeer) {
        // RFC 7296 2.21.2: tell the responder, which considers the IKE SA established.
        const sa = ctx.security!;
        const bytes = sealMessage(sa, headerFor(sa, ExchangeType.INFORMATIONAL, ctx.nextRequestId, false), [errorNotify(NotifyType.AUTHENTICATION_FAILED)], step.ports.registry, step.ports.random);
        step.send([bytes]);
      }
      failNegotiation(step, outcome.reason, 'AUTHENTICATION_FAILED');
      return;
    case 'failed':
      failNegotiation(step, outcome.reason);
      return;
    case 'authenticated':
      break;
  }
  step.set({ peerId: outcome.peerId, handshake: undefined });
  step.info({ peerId: outcome.peerId, method: 'PSK' }, 'IKE_AUTH done: IKE SA established');
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

export function childSaFailed(step: Step, reason: string, notify?: string): void {
  step.warn({ reason, ...(notify === undefined ? {} : { notify }) }, 'Child SA not created; the IKE SA stays (RFC 7296 2.21.3)');
  step.report({
    kind: 'child-sa-failed',
    connection: step.ctx.connection ?? '',
    ikeSa: step.ctx.id,
    reason,
    ...(notify === undefined ? {} : { notify }),
    atMs: step.now,
  });
}

// ---- responder ----

/** Entry of the responder: answer the IKE_SA_INIT request the supervisor created us for. */
export function startResponder(step: Step, request: { bytes: Buffer; message: IkeMessage }): void {
  const ctx = step.ctx;
  const candidates = ctx.candidates.map((n) => step.ports.config.connection(n)).filter((c): c is ConnectionConfig => c !== undefined);
  if (candidates.length === 0) {
    failNegotiation(step, `no connection for ${ctx.remote.address}`);
    return;
  }
  const sets = candidates.flatMap((c) => c.ikePolicy.proposalSets);
  const settings = step.ports.config.current().settings;
  const fragmentation = candidates.some((c) => c.ikePolicy.fragmentation.enabled);
  const outcome = respondToIkeSaInit({
    message: request.message,
    spiR: ctx.spiR,
    sets,
    registry: step.ports.registry,
    random: step.ports.random,
    nonceLength: settings.nonceLength,
    local: ctx.local,
    remote: ctx.remote,
    fragmentation,
  });
  if (outcome.kind === 'reject') {
    step.send([outcome.response]);
    failNegotiation(step, outcome.reason, outcome.notify);
    return;
  }
  step.set({
    security: outcome.security,
    handshake: { Ni: outcome.Ni, Nr: outcome.Nr, offer: [], cookieRetries: 0, keRetries: 0, realMessage1: request.bytes, realMessage2: outcome.response },
    nat: outcome.nat,
    peerFragmentation: outcome.peerFragmentation && fragmentation,
    lastResponse: { messageId: 0, datagrams: [outcome.response] },
    expectedRequestId: 1,
    lastHeardMs: step.now,
  });
  step.send([outcome.response]);
  // strongSwan's half_open_timeout is 30 s too.
  step.arm(TIMER.halfOpen, step.now + settings.halfOpenTimeoutSeconds * 1000, { type: 'HALF_OPEN_TIMEOUT' });
  step.info({ transforms: outcome.security.transforms }, 'IKE_SA_INIT answered');
  step.raise({ type: 'IKE_SA_INIT_DONE' });
}

/** The responder gets IKE_AUTH (or a retransmitted IKE_SA_INIT). */
export function onIkeAuthRequest(step: Step, event: MessageEvent): void {
  const h = event.message.header;
  if (h.exchangeType === ExchangeType.IKE_SA_INIT) {
    // A retransmitted IKE_SA_INIT request: the cached response again (2.1).
    if (!h.flags.response && h.messageId === 0 && step.ctx.lastResponse?.messageId === 0) {
      step.count('answeredFromCache');
      step.send(step.ctx.lastResponse.datagrams);
    }
    return;
  }
  const incoming = intake(step, event);
  if (incoming === undefined) return;
  if (incoming.kind !== 'request' || incoming.exchangeType !== ExchangeType.IKE_AUTH) {
    step.count('outOfWindow');
    return;
  }
  const ctx = step.ctx;
  const hs = ctx.handshake!;
  const candidates = ctx.candidates.map((n) => step.ports.config.connection(n)).filter((c): c is ConnectionConfig => c !== undefined);
  const outcome = respondToIkeAuth({
    sa: ctx.security!,
    registry: step.ports.registry,
    random: step.ports.random,
    realMessage1: hs.realMessage1!,
    realMessage2: hs.realMessage2!,
    Ni: hs.Ni,
    Nr: hs.Nr!,
    candidates,
    inner: incoming.inner,
    allocateSpi: step.allocateSpi,
  });
  step.cancel(TIMER.halfOpen);
  if (outcome.kind !== 'authenticated') {
    sendResponse(step, ExchangeType.IKE_AUTH, incoming.messageId, outcome.response);
    failNegotiation(step, outcome.reason, outcome.kind === 'auth-failed' ? 'AUTHENTICATION_FAILED' : 'INVALID_SYNTAX');
    return;
  }
  step.set({ connection: outcome.connection.name, peerId: outcome.peerId, handshake: undefined });
  sendResponse(step, ExchangeType.IKE_AUTH, incoming.messageId, outcome.response);
  step.info({ peerId: outcome.peerId, method: 'PSK' }, 'IKE_AUTH answered: IKE SA established');
  if (outcome.childConfig !== undefined) {
    step.info({ connection: outcome.connection.name, why: outcome.childConfig }, outcome.child?.kind === 'refused' && outcome.child.notify.notifyType === NotifyType.TS_UNACCEPTABLE ? 'no connection for the first Child SA\'s traffic selectors' : 'first Child SA: connection chosen by traffic selectors');
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
