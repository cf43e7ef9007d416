/**
 * A new Child SA on an established IKE SA (RFC 7296 1.3.1): CREATE_CHILD_SA without REKEY_SA,
 * with PFS when the data policy names a DH group.
 *
 * Chart: ours in `window.creatingChild` (entry `start` → `allocatingSpi`, SPI_ALLOCATED `send` →
 * `awaitingResponse`, RESPONSE `onResponse`); the peer's in `answering` (PEER_REQUEST `admitPeer`
 * unless `refuseBeyondLimit` or `refuseTooFast`, then SPI_ALLOCATED `answerPeer`, once the kernel
 * gave us our inbound SPI).
 *
 * Limits per IKE SA (EngineSettings): an authenticated peer could otherwise fill the kernel with
 * Child SAs, one CREATE_CHILD_SA after another. Beyond `maxChildSasPerIkeSa` its new Child SA is
 * refused with NO_ADDITIONAL_SAS (RFC 7296 3.10.1: "this IKE SA cannot accept any more Child
 * SAs"); beyond `maxNewChildSasPerMinute` with TEMPORARY_FAILURE (2.25: it may try again later).
 * Rekeys (1.3.3) replace a Child SA rather than add one: they always pass. While the daemon stops
 * (MachinePorts.refusingNewSas, then the Delete) every new Child SA of the peer gets
 * NO_ADDITIONAL_SAS.
 */
import { childConfigCandidates, connectionSelectors, offeredSelectors, selectChildConfig } from '../../../src/ikev2/exchanges/connection-policy.js';
import { childSaRequestPayloads, errorNotify } from '../../../src/ikev2/exchanges/create-child-sa.js';
import { MAX_KE_RETRIES } from '../../../src/ikev2/exchanges/negotiation.js';
import { fromWireSelectors } from '../../../src/policy/traffic-selectors.js';
import { ExchangeType, NotifyType } from '../../../src/wire/index.js';
import type { EngineSettings } from '../../../src/config/model.js';
import { spawnChildSa } from '../child-records.js';
import type { IkeSaContext, IkeSaEvent } from '../ike-sa-context.js';
import type { Step } from '../ike-sa-step.js';
import { answer, awaitSpi } from '../peer-request.js';
import { enqueue, finishRequest, sendRequest, takeNextRequest } from '../request-window.js';
import { childSaFailed } from '../sa-reports.js';
import { AllocatedSpi, answerChildRequest, childOffer, readChildResponse } from './child-sa-exchange.js';

/** CREATE_CHILD_SA command from the engine (for a packet, when an on-demand trap asked for it). */
export function request(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'CREATE_CHILD_SA') return;
  enqueue(step, { kind: 'create-child', ...(event.trigger === undefined ? {} : { trigger: event.trigger }) });
}

/** Entry of `window.creatingChild`: our inbound SPI first. */
export function start(step: Step): void {
  const request = takeNextRequest(step, 'create-child');
  if (request === undefined) {
    finishRequest(step);
    return;
  }
  step.set({ childCreation: { request } });
  step.allocateSpi('our-request');
}

/** SPI_ALLOCATED in `creatingChild.allocatingSpi`: the request. */
export function send(step: Step, event: IkeSaEvent): void {
  const creation = step.ctx.childCreation;
  if (event.type !== 'SPI_ALLOCATED' || creation === undefined) return;
  const spi = new AllocatedSpi(event.spi);
  const conn = step.connection();
  if (conn === undefined) {
    spi.releaseIfUnused(step);
    step.set({ childCreation: undefined });
    finishRequest(step);
    return;
  }
  // The triggering packet's selectors first, when there is one (RFC 7296 2.9).
  const ts = offeredSelectors(conn, creation.request.trigger);
  const offer = childOffer(step, conn, spi, ts.local, ts.remote, creation.request.dhGroup);
  const Ni = step.nonce();
  step.set({ childCreation: { ...creation, offer, Ni } });
  sendRequest(step, ExchangeType.CREATE_CHILD_SA, childSaRequestPayloads(offer, Ni));
  step.raise({ type: 'REQUEST_SENT' });
}

/** SPI_ALLOCATION_FAILED in `creatingChild.allocatingSpi`: no request goes out. */
export function noSpi(step: Step, reason: string): void {
  step.set({ childCreation: undefined });
  childSaFailed(step, `the kernel gave no inbound SPI: ${reason}`);
  finishRequest(step);
}

/** RESPONSE in `creatingChild.awaitingResponse`. */
export function onResponse(step: Step, event: IkeSaEvent): void {
  const creation = step.ctx.childCreation;
  if (event.type !== 'RESPONSE' || creation?.offer === undefined || creation.Ni === undefined) return;
  const { offer, request } = creation;
  const outcome = readChildResponse(step, offer, creation.Ni, event.response);
  step.set({ childCreation: undefined });
  if (outcome.kind !== 'created') step.releaseSpi(offer.inboundSpi);
  switch (outcome.kind) {
    case 'created':
      spawnChildSa(step, outcome.params);
      break;
    case 'invalid-ke': {
      const keRetries = request.keRetries ?? 0;
      if (keRetries >= MAX_KE_RETRIES) {
        childSaFailed(step, `INVALID_KE_PAYLOAD for group ${outcome.group} again`, 'INVALID_KE_PAYLOAD');
        break;
      }
      step.info({ group: outcome.group }, 'peer wants another PFS group: retrying CREATE_CHILD_SA');
      enqueue(step, { kind: 'create-child', dhGroup: outcome.group, keRetries: keRetries + 1 }, { front: true });
      break;
    }
    case 'refused':
      // The peer being busy (2.25) is no failure of the Child SA's configuration.
      if (outcome.notify === 'TEMPORARY_FAILURE') step.info({ reason: outcome.reason }, 'the peer is busy: new Child SA not created');
      else childSaFailed(step, outcome.reason, outcome.notify);
      break;
    case 'failed':
      childSaFailed(step, outcome.reason);
      break;
  }
  finishRequest(step);
}

/**
 * SPI_ALLOCATED in `answering.allocatingSpi` for the peer's new Child SA: the child config is the
 * connection (of those sharing this IKE SA's peer, IDs and IKE policy) whose selectors fit (2.9).
 */
export function answerPeer(step: Step, event: IkeSaEvent): void {
  const request = step.ctx.answering;
  if (event.type !== 'SPI_ALLOCATED' || request?.kind !== 'new-child') return;
  const spi = new AllocatedSpi(event.spi);
  step.raise({ type: 'PEER_REQUEST_ANSWERED' });
  const conn = step.connection();
  if (conn === undefined) {
    spi.releaseIfUnused(step);
    answer(step, request, [errorNotify(NotifyType.NO_PROPOSAL_CHOSEN)]);
    return;
  }
  const choice = selectChildConfig(childConfigCandidates(conn, step.ports.config.current().connections), {
    TSi: fromWireSelectors(request.message.TSi?.selectors ?? []),
    TSr: fromWireSelectors(request.message.TSr?.selectors ?? []),
  });
  if (choice.kind === 'none') {
    spi.releaseIfUnused(step);
    answer(step, request, [errorNotify(NotifyType.TS_UNACCEPTABLE)]);
    childSaFailed(step, choice.why, 'TS_UNACCEPTABLE');
    return;
  }
  const childConn = choice.connection;
  step.info({ childConnection: childConn.name, why: choice.why }, 'new Child SA: connection chosen by traffic selectors');
  const ts = connectionSelectors(childConn);
  const created = answerChildRequest(step, request, childConn, spi, ts.local, ts.remote);
  if (created !== undefined) spawnChildSa(step, created.params, undefined, childConn.name);
}

/** The window over which `maxNewChildSasPerMinute` counts. */
const CHILD_RATE_WINDOW_MS = 60_000;

const recentCreations = (ctx: IkeSaContext, now: number): readonly number[] =>
  (ctx.peerChildCreations ?? []).filter((at) => at > now - CHILD_RATE_WINDOW_MS);

type ChildLimits = Pick<EngineSettings, 'maxChildSasPerIkeSa' | 'maxNewChildSasPerMinute'>;

/** Guard: the IKE SA carries as many Child SAs as it may (3.10.1). */
export function childSaLimitReached(ctx: IkeSaContext, limits: ChildLimits): boolean {
  return ctx.children.length >= limits.maxChildSasPerIkeSa;
}

/** Guard: the peer created its share of new Child SAs in the last 60 s (2.25). */
export function childSaRateExceeded(ctx: IkeSaContext, limits: ChildLimits, now: number): boolean {
  return recentCreations(ctx, now).length >= limits.maxNewChildSasPerMinute;
}

/** PEER_REQUEST for a new Child SA within the limits: counted, then our inbound SPI first. */
export function admitPeer(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'PEER_REQUEST') return;
  step.set({ peerChildCreations: [...recentCreations(step.ctx, step.now), step.now] });
  awaitSpi(step, event);
}

/**
 * PEER_REQUEST for a new Child SA while the daemon stops: NO_ADDITIONAL_SAS (3.10.1), so that the
 * kernel gets no Child SA the shutdown would delete a moment later.
 */
export function refuseStopping(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'PEER_REQUEST') return;
  answer(step, event.request, [errorNotify(NotifyType.NO_ADDITIONAL_SAS)]);
  step.info({ notify: 'NO_ADDITIONAL_SAS' }, "the peer's new Child SA refused: stopping");
}

/** PEER_REQUEST for a new Child SA beyond `maxChildSasPerIkeSa`: NO_ADDITIONAL_SAS (3.10.1). */
export function refuseBeyondLimit(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'PEER_REQUEST') return;
  answer(step, event.request, [errorNotify(NotifyType.NO_ADDITIONAL_SAS)]);
  noteRefusal(step, 'NO_ADDITIONAL_SAS', `the IKE SA carries ${step.ctx.children.length} Child SAs, its limit (maxChildSasPerIkeSa)`);
}

/** PEER_REQUEST for a new Child SA beyond `maxNewChildSasPerMinute`: TEMPORARY_FAILURE (2.25). */
export function refuseTooFast(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'PEER_REQUEST') return;
  answer(step, event.request, [errorNotify(NotifyType.TEMPORARY_FAILURE)]);
  noteRefusal(step, 'TEMPORARY_FAILURE', `the peer created ${recentCreations(step.ctx, step.now).length} Child SAs in the last 60 s, its limit (maxNewChildSasPerMinute)`);
}

/** One warning at the 1st, 10th, 100th … refusal: a storm does not become a log flood. */
function noteRefusal(step: Step, notify: string, why: string): void {
  const refusals = (step.ctx.peerChildRefusals ?? 0) + 1;
  step.set({ peerChildRefusals: refusals });
  if (Number.isInteger(Math.log10(refusals))) step.warn({ notify, refusals, why }, "the peer's new Child SA refused: limit per IKE SA reached");
  else step.debug({ notify, refusals, why }, "the peer's new Child SA refused: limit per IKE SA reached");
}
