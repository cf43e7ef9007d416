/**
 * IKE_SA_INIT (RFC 7296 1.2), both roles: the first exchange, in the clear, that agrees the IKE
 * SA's algorithms, exchanges nonces and Diffie-Hellman values and detects NAT (2.23). The
 * exchange module (src/ikev2/exchanges/ike-sa-init.ts) builds and checks the messages; here the
 * state between them: retries on COOKIE (2.6) and INVALID_KE_PAYLOAD (1.2), and the move to the
 * NAT-T port.
 *
 * Chart: initiator `ikeSaInit` (entry `start`, MESSAGE `onResponse`); responder
 * `answeringIkeSaInit` (entry `answer`).
 */
import type { ConnectionConfig } from '../../../src/config/model.js';
import { offerProposals, preferredDhGroup, MAX_KE_RETRIES } from '../../../src/ikev2/exchanges/negotiation.js';
import {
  announcesSignatureHashes,
  buildIkeSaInitRequest,
  processIkeSaInitResponse,
  respondToIkeSaInit,
  type IkeSaInitRequestInput,
} from '../../../src/ikev2/exchanges/ike-sa-init.js';
import { ExchangeType, decodeMessage, ikeSpiHex } from '../../../src/wire/index.js';
import type { Handshake, IkeSaExternalEvent } from '../ike-sa-context.js';
import { TIMER, type Step } from '../ike-sa-step.js';
import { completeRequest, sendPlainRequest } from '../request-window.js';
import { failNegotiation } from '../sa-reports.js';

const MAX_COOKIE_RETRIES = 3;

type MessageEvent = Extract<IkeSaExternalEvent, { type: 'MESSAGE' }>;

export function requireConnection(step: Step): ConnectionConfig | undefined {
  const c = step.connection();
  if (c === undefined) failNegotiation(step, `connection ${step.ctx.connection ?? '?'} is not configured`);
  return c;
}

// ---- initiator ----

/** Entry of `ikeSaInit`: the first IKE_SA_INIT request. */
export function start(step: Step): void {
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
    Ni: step.nonce(),
    Nr: undefined,
    keyPair: dh.generateKeyPair(step.ports.random),
    offer,
    cookie: undefined,
    cookieRetries: 0,
    keRetries: 0,
    realMessage1: undefined,
    realMessage2: undefined,
    childOffer: undefined,
    peerSignatureHashes: undefined,
    peerCertReq: undefined,
    signing: undefined,
    response: undefined,
    peerVerified: undefined,
  };
  step.set({ handshake });
  step.info({ remote: `${step.ctx.remote.address}:${step.ctx.remote.port}`, proposals: conn.ikePolicy.proposals }, 'initiating IKE SA');
  sendInitRequest(step, conn);
}

/**
 * Whether we announce SIGNATURE_HASH_ALGORITHMS for this connection (RFC 7427 4): it signs, and
 * its policy allows Digital Signature (method 14). With `digitalSignature: false` the notify stays
 * out, so the peer signs with the older methods as well, as strongSwan's
 * `signature_authentication = no` does.
 */
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
    signatures: announcesSignatureHashes(conn),
  };
}

function sendInitRequest(step: Step, conn: ConnectionConfig): void {
  const h = step.ctx.handshake!;
  const bytes = buildIkeSaInitRequest(initRequestInput(step, conn, h));
  step.set({ handshake: { ...h, realMessage1: bytes } });
  sendPlainRequest(step, ExchangeType.IKE_SA_INIT, bytes);
}

/** MESSAGE in `ikeSaInit`: the responder's answer, a demand for a cookie or another group, or a refusal. */
export function onResponse(step: Step, event: MessageEvent): void {
  const { message } = event;
  const ctx = step.ctx;
  const h = ctx.handshake;
  if (h === undefined || ctx.request === undefined || !message.header.flags.response || message.header.messageId !== 0) {
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
  completeRequest(step);
  switch (outcome.kind) {
    case 'cookie':
      if (h.cookieRetries >= MAX_COOKIE_RETRIES) {
        failNegotiation(step, `the responder keeps demanding cookies (${h.cookieRetries} retries)`, 'COOKIE');
        return;
      }
      step.info({}, 'responder demands a COOKIE: retrying IKE_SA_INIT with it (RFC 7296 2.6)');
      step.set({ handshake: { ...h, cookie: outcome.cookie, cookieRetries: h.cookieRetries + 1 } });
      sendInitRequest(step, conn);
      return;
    case 'invalid-ke': {
      const dh = step.ports.registry.dhGroup(outcome.group);
      if (h.keRetries >= MAX_KE_RETRIES || dh === undefined) {
        failNegotiation(step, `INVALID_KE_PAYLOAD asking for group ${outcome.group} again`, 'INVALID_KE_PAYLOAD');
        return;
      }
      step.info({ group: outcome.group, sent: h.keyPair?.group }, 'responder wants another DH group: retrying IKE_SA_INIT (RFC 7296 1.2)');
      step.set({ handshake: { ...h, keyPair: dh.generateKeyPair(step.ports.random), keRetries: h.keRetries + 1 } });
      sendInitRequest(step, conn);
      return;
    }
    case 'failed':
      failNegotiation(step, outcome.reason, outcome.notify);
      return;
    case 'established':
      break;
  }
  const settings = step.ports.config.current().settings;
  const natted = outcome.nat.localBehindNat || outcome.nat.remoteBehindNat;
  step.set({
    security: outcome.security,
    spiR: outcome.security.spiR,
    handshake: {
      ...h,
      keyPair: undefined,
      Nr: outcome.Nr,
      realMessage2: Buffer.from(event.datagram.bytes),
      peerSignatureHashes: outcome.peerSignatureHashes,
      peerCertReq: outcome.peerCertReq,
    },
    nat: outcome.nat,
    peerFragmentation: outcome.peerFragmentation && conn.ikePolicy.fragmentation.enabled,
    // RFC 7296 2.23: behind a NAT, IKE moves to the NAT-T port from IKE_AUTH on.
    ...(natted ? { local: { ...ctx.local, port: settings.nattPort }, remote: { ...ctx.remote, port: settings.nattPort } } : {}),
  });
  if (natted) step.info({ localBehindNat: outcome.nat.localBehindNat, remoteBehindNat: outcome.nat.remoteBehindNat }, 'NAT detected: moving to the NAT-T port');
  step.info({ spiR: ikeSpiHex(outcome.security.spiR), transforms: outcome.security.transforms }, 'IKE_SA_INIT done');
  step.raise({ type: 'IKE_SA_INIT_DONE' });
}

/** REQUEST_TIMED_OUT in `ikeSaInit` or the initiator's `ikeAuth`. */
export function onTimeout(step: Step, exchange: 'IKE_SA_INIT' | 'IKE_AUTH'): void {
  const attempts = step.ctx.request?.attempt ?? 0;
  completeRequest(step);
  failNegotiation(step, `no answer to ${exchange} after ${attempts} retransmissions`);
}

// ---- responder ----

/**
 * The responder's records before IKE_AUTH: anyone can cause them, one per datagram, from spoofed
 * addresses (RFC 7296 2.6), so they are summarised (machines/effects.ts, LogSummary).
 */
const ANSWERED_SUMMARY = { key: 'ike-sa-init-answered', events: 'IKE_SA_INIT requests answered (half-open IKE SAs)' };
const REJECTED_SUMMARY = { key: 'ike-sa-init-rejected', events: 'IKE_SA_INIT requests refused with an error notify' };

/** Entry of `answeringIkeSaInit`: answer the IKE_SA_INIT request the supervisor created us for. */
export function answer(step: Step): void {
  const ctx = step.ctx;
  const request = ctx.initRequest;
  step.set({ initRequest: undefined });
  if (request === undefined) {
    failNegotiation(step, 'responder without a request');
    return;
  }
  const candidates = ctx.candidates.map((n) => step.ports.config.connection(n)).filter((c): c is ConnectionConfig => c !== undefined);
  if (candidates.length === 0) {
    failNegotiation(step, `no connection for ${ctx.remote.address}`);
    return;
  }
  // The supervisor decoded these bytes already to admit them; decoded again here, the message
  // lives for this step only (ike-sa-context.ts, IkeSaInput.request).
  const decoded = decodeMessage(request.bytes);
  if (!decoded.ok) {
    failNegotiation(step, `IKE_SA_INIT request does not decode: ${decoded.error.message}`);
    return;
  }
  const settings = step.ports.config.current().settings;
  const fragmentation = candidates.some((c) => c.ikePolicy.fragmentation.enabled);
  // RFC 7296 1.2: the responder asks for the initiator's certificate here, naming the CAs every
  // candidate that authenticates with certificates trusts (which one applies, IKE_AUTH's IDs say).
  const signing = candidates.filter((c) => c.ikePolicy.auth === 'pubkey');
  const certReq = signing.length === 0 ? undefined : uniqueHashes(signing.flatMap((c) => c.remote.trust?.caHashes ?? []));
  const signatures = signing.some(announcesSignatureHashes);
  const outcome = respondToIkeSaInit({
    message: decoded.value,
    spiR: ctx.spiR,
    sets: candidates.flatMap((c) => c.ikePolicy.proposalSets),
    registry: step.ports.registry,
    random: step.ports.random,
    nonceLength: settings.nonceLength,
    local: ctx.local,
    remote: ctx.remote,
    fragmentation,
    certReq,
    signatures,
  });
  if (outcome.kind === 'reject') {
    step.send([outcome.response]);
    failNegotiation(step, outcome.reason, outcome.notify, REJECTED_SUMMARY);
    return;
  }
  step.set({
    security: outcome.security,
    handshake: {
      Ni: outcome.Ni,
      Nr: outcome.Nr,
      keyPair: undefined,
      offer: [],
      cookie: undefined,
      cookieRetries: 0,
      keRetries: 0,
      realMessage1: request.bytes,
      realMessage2: outcome.response,
      childOffer: undefined,
      peerSignatureHashes: outcome.peerSignatureHashes,
      peerCertReq: undefined,
      signing: undefined,
      response: undefined,
      peerVerified: undefined,
    },
    nat: outcome.nat,
    peerFragmentation: outcome.peerFragmentation && fragmentation,
    lastResponse: { messageId: 0, datagrams: [outcome.response] },
    expectedRequestId: 1,
    lastHeardMs: step.now,
  });
  step.send([outcome.response]);
  // strongSwan's half_open_timeout is 30 s too.
  step.arm(TIMER.halfOpen, step.now + settings.halfOpenTimeoutSeconds * 1000, { type: 'HALF_OPEN_TIMEOUT' });
  step.info({ transforms: outcome.security.transforms }, 'IKE_SA_INIT answered', ANSWERED_SUMMARY);
  step.raise({ type: 'IKE_SA_INIT_DONE' });
}

function uniqueHashes(hashes: readonly Buffer[]): Buffer[] {
  const seen = new Set<string>();
  return hashes.filter((h) => {
    const key = h.toString('hex');
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** A retransmitted IKE_SA_INIT request while we wait for IKE_AUTH: the cached response again (2.1). */
export function answerAgain(step: Step, event: MessageEvent): void {
  const h = event.message.header;
  if (!h.flags.response && h.messageId === 0 && step.ctx.lastResponse?.messageId === 0) {
    step.count('answeredFromCache');
    step.send(step.ctx.lastResponse.datagrams);
  }
}
