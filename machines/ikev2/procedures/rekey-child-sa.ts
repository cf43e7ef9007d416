/**
 * Rekeying a Child SA (RFC 7296 1.3.3, 2.8): CREATE_CHILD_SA with REKEY_SA naming the old SA.
 * Make before break: the new SA is installed, then the initiator of the exchange deletes the old
 * one (delete-child-sa.ts); until then both stay in the kernel.
 *
 * On Linux the kernel sends on the newest outbound SA of a reqid as soon as it is installed, so
 * the two ends install differently (as strongSwan does). The initiator installs both new SAs on
 * the response: the responder had the inbound one in before it answered. The responder installs
 * the new inbound SA and the policies, answers once they are in, and installs the new outbound SA
 * only when the old SA goes: normally the initiator's Delete of it, which shows the initiator has
 * our response and the new inbound SA (child-records.ts `deleteChildLocally`). Until then our
 * traffic keeps leaving on the old SA.
 *
 * Collision (2.8.1): when both ends rekey the same SA at once, each answers the other's request,
 * so two new SAs exist where one was wanted; "the SA created with the lowest of the four nonces
 * used in the two exchanges SHOULD be closed by the endpoint that created it", and the initiator
 * of the surviving exchange deletes the old SA. Both ends see the same four nonces once their own
 * exchange completes, so they reach the same verdict without talking. Whichever new SA survives
 * ends with its outbound SA installed: ours at once when ours wins; the peer's when the peer
 * deletes the old SA when the peer's wins. A redundant SA never gets one: the peer's (we won)
 * stays without until the peer deletes it, and ours (we lost) is installed without its outbound
 * SA and deleted (strongSwan likewise never installs it), so no traffic is sent on an SA about to
 * go. A peer's rekey of an SA we are about to rekey, have just replaced, or whose own outbound SA
 * still waits, is refused with TEMPORARY_FAILURE (2.25).
 *
 * Chart: ours in `window.rekeyingChild` (entry `start` → `allocatingSpi`, SPI_ALLOCATED `send` →
 * `awaitingResponse`, RESPONSE `onResponse`; the peer's crossing rekey moves it to
 * `simultaneous`, where RESPONSE `onResponse` resolves the collision); the peer's in `answering`
 * (SPI_ALLOCATED `answerPeer` / `answerPeerCrossingOurs` → `awaitingInboundSa`, answered on
 * CHILD_SA_INSTALLED `onInstalled`).
 */
import type { ChildSaParams } from '../../../src/ikev2/exchanges/child-sa-negotiation.js';
import { childSaRequestPayloads, errorNotify } from '../../../src/ikev2/exchanges/create-child-sa.js';
import { MAX_KE_RETRIES } from '../../../src/ikev2/exchanges/negotiation.js';
import { ExchangeType, NotifyType, espSpiHex, nameOf } from '../../../src/wire/index.js';
import { childByOutboundSpi, childConnection, childRecord, deleteChildLocally, liveChildren, spawnChildSa, updateChild } from '../child-records.js';
import type { IkeSaEvent } from '../ike-sa-context.js';
import type { Step } from '../ike-sa-step.js';
import { answer } from '../peer-request.js';
import { enqueue, finishRequest, sendRequest, takeNextRequest } from '../request-window.js';
import { childSaFailed } from '../sa-reports.js';
import { AllocatedSpi, answerChildRequest, childOffer, readChildResponse } from './child-sa-exchange.js';
import { lowestNonceIn } from './lowest-nonce.js';

/** After a failed rekey, try again this much later (strongSwan retries after 30..60 s). */
export const REKEY_RETRY_MS = 60_000;
/** After TEMPORARY_FAILURE (2.25: the peer is busy with another exchange), sooner (strongSwan: 15 s). */
export const TEMPORARY_FAILURE_RETRY_MS = 15_000;

/** CHILD_SA_REKEY_DUE from a Child SA (its soft lifetime, 2.8). */
export function requestFromChild(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'CHILD_SA_REKEY_DUE' || childRecord(step.ctx, event.inboundSpi)?.state !== 'installed') return;
  enqueue(step, { kind: 'rekey-child', inboundSpi: event.inboundSpi });
}

/** REKEY_CHILD_SA command: one Child SA, or every installed one. */
export function requestByCommand(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'REKEY_CHILD_SA') return;
  for (const r of liveChildren(step.ctx)) {
    // One still waiting for its outbound SA is rekeyed once complete (its soft lifetime says so).
    if (r.state !== 'installed' || r.outboundPending === true) continue;
    if (event.inboundSpi === undefined || event.inboundSpi === r.params.inboundSpi) enqueue(step, { kind: 'rekey-child', inboundSpi: r.params.inboundSpi });
  }
}

/** Entry of `window.rekeyingChild`: the SA is being rekeyed from now on; our inbound SPI first. */
export function start(step: Step): void {
  const request = takeNextRequest(step, 'rekey-child');
  const record = request === undefined ? undefined : childRecord(step.ctx, request.inboundSpi);
  if (request === undefined || record === undefined) {
    finishRequest(step);
    return;
  }
  updateChild(step, request.inboundSpi, { state: 'rekeying' });
  step.toChild(record.actorId, { type: 'REKEYING' });
  step.info({ childSa: espSpiHex(request.inboundSpi) }, 'rekeying Child SA');
  step.set({ childRekey: { request } });
  step.allocateSpi('our-request');
}

/** SPI_ALLOCATED in `rekeyingChild.allocatingSpi`: the request, offering the old SA's data policy and traffic. */
export function send(step: Step, event: IkeSaEvent): void {
  const rekey = step.ctx.childRekey;
  if (event.type !== 'SPI_ALLOCATED' || rekey === undefined) return;
  const spi = new AllocatedSpi(event.spi);
  const oldSpi = rekey.request.inboundSpi;
  const record = childRecord(step.ctx, oldSpi);
  const conn = childConnection(step, oldSpi);
  if (record?.state !== 'rekeying' || conn === undefined) {
    // Deleted meanwhile (by the peer, or its hard lifetime), or its connection is gone.
    spi.releaseIfUnused(step);
    if (record?.state === 'rekeying') abandon(step, oldSpi, REKEY_RETRY_MS);
    step.set({ childRekey: undefined });
    finishRequest(step);
    return;
  }
  const offer = childOffer(step, conn, spi, record.params.localTs, record.params.remoteTs, rekey.request.dhGroup);
  const Ni = step.nonce();
  step.set({ childRekey: { ...rekey, offer, Ni } });
  sendRequest(step, ExchangeType.CREATE_CHILD_SA, childSaRequestPayloads(offer, Ni, oldSpi));
  step.raise({ type: 'REQUEST_SENT' });
}

/** SPI_ALLOCATION_FAILED in `rekeyingChild.allocatingSpi`: the old SA carries on and the rekey is tried again later. */
export function noSpi(step: Step, reason: string): void {
  const rekey = step.ctx.childRekey;
  step.set({ childRekey: undefined });
  if (rekey !== undefined) abandon(step, rekey.request.inboundSpi, REKEY_RETRY_MS);
  childSaFailed(step, `the kernel gave no inbound SPI: ${reason}`);
  finishRequest(step);
}

/** The old SA carries on as it was; its actor retries the rekey at `retryAtMs`. */
function abandon(step: Step, oldSpi: number, retryAfterMs: number): void {
  const r = childRecord(step.ctx, oldSpi);
  if (r === undefined || r.state !== 'rekeying') return;
  updateChild(step, oldSpi, { state: 'installed' });
  step.toChild(r.actorId, { type: 'REKEY_ABORTED', retryAtMs: step.now + retryAfterMs });
}

/** RESPONSE in `rekeyingChild.awaitingResponse` or `.simultaneous` (then the collision is resolved). */
export function onResponse(step: Step, event: IkeSaEvent): void {
  const rekey = step.ctx.childRekey;
  if (event.type !== 'RESPONSE' || rekey?.offer === undefined || rekey.Ni === undefined) return;
  const { offer, request, collision } = rekey;
  const oldSpi = request.inboundSpi;
  const outcome = readChildResponse(step, offer, rekey.Ni, event.response);
  step.set({ childRekey: undefined });
  if (outcome.kind !== 'created') step.releaseSpi(offer.inboundSpi);
  const fail = (reason: string, notify?: string): void => {
    const busy = notify === 'TEMPORARY_FAILURE';
    // A crossing rekey of the peer's that we answered is then simply the rekey (2.8.1).
    abandon(step, oldSpi, busy ? TEMPORARY_FAILURE_RETRY_MS : REKEY_RETRY_MS);
    // The peer being busy (2.25) is no failure: the rekey is simply tried again.
    if (busy) step.info({ reason }, 'the peer is busy: Child SA rekey postponed');
    else childSaFailed(step, reason, notify);
  };
  switch (outcome.kind) {
    case 'created': {
      const oursRedundant = collision !== undefined && lowestNonceIn({ Ni: outcome.params.Ni, Nr: outcome.params.Nr }, collision);
      // Lost on nonces: ours goes without ever carrying our traffic, so its outbound SA never goes in.
      spawnChildSa(step, outcome.params, oldSpi, undefined, { outboundPending: oursRedundant });
      updateChild(step, oldSpi, { replacedBy: outcome.params.inboundSpi });
      if (collision !== undefined) resolveCollision(step, oldSpi, outcome.params, collision, oursRedundant);
      break;
    }
    case 'invalid-ke': {
      const keRetries = request.keRetries ?? 0;
      if (keRetries >= MAX_KE_RETRIES) {
        fail(`INVALID_KE_PAYLOAD for group ${outcome.group} again`, 'INVALID_KE_PAYLOAD');
        break;
      }
      step.info({ group: outcome.group }, 'peer wants another PFS group: retrying CREATE_CHILD_SA');
      updateChild(step, oldSpi, { state: 'installed' });
      enqueue(step, { kind: 'rekey-child', inboundSpi: oldSpi, dhGroup: outcome.group, keRetries: keRetries + 1 }, { front: true });
      break;
    }
    case 'refused':
      if (outcome.notify === nameOf(NotifyType, NotifyType.CHILD_SA_NOT_FOUND)) {
        const r = childRecord(step.ctx, oldSpi);
        if (r !== undefined) deleteChildLocally(step, r, 'the peer no longer has this Child SA');
        break;
      }
      fail(outcome.reason, outcome.notify);
      break;
    case 'failed':
      fail(outcome.reason);
      break;
  }
  finishRequest(step);
}

/** Our exchange created `ours`; the peer's crossing one created `collision.peerCreated` (2.8.1). */
function resolveCollision(step: Step, oldSpi: number, ours: ChildSaParams, collision: { peerCreated: number }, oursRedundant: boolean): void {
  step.info(
    { childSa: espSpiHex(oldSpi), ours: espSpiHex(ours.inboundSpi), peers: espSpiHex(collision.peerCreated), oursRedundant },
    'simultaneous Child SA rekey: resolved on the lowest nonce (RFC 7296 2.8.1)',
  );
  if (oursRedundant) {
    // Ours goes (we delete it once installed); the peer's replaces the old SA and the peer,
    // initiator of the surviving exchange, deletes the old one: then the peer's gets its outbound SA.
    updateChild(step, ours.inboundSpi, { redundant: true });
    updateChild(step, oldSpi, { replacedBy: collision.peerCreated });
    return;
  }
  // Otherwise the peer deletes the SA it created, which never gets its outbound SA (the old SA's
  // `replacedBy` is ours); we delete the old one once ours is installed.
}

/** SPI_ALLOCATED in `answering.allocatingSpi` for the peer's rekey: the new SA keeps the old one's traffic. */
export function answerPeer(step: Step, event: IkeSaEvent): void {
  answerPeerRekey(step, event, false);
}

/** The same, while our own rekey of that SA is in flight: a collision (2.8.1), decided when ours completes. */
export function answerPeerCrossingOurs(step: Step, event: IkeSaEvent): void {
  answerPeerRekey(step, event, true);
}

function answerPeerRekey(step: Step, event: IkeSaEvent, crossing: boolean): void {
  const request = step.ctx.answering;
  if (event.type !== 'SPI_ALLOCATED' || request?.kind !== 'rekey-child') return;
  const spi = new AllocatedSpi(event.spi);
  const old = childByOutboundSpi(step.ctx, request.spi);
  const refuse = (notifyType: number): void => {
    step.raise({ type: 'PEER_REQUEST_ANSWERED' });
    spi.releaseIfUnused(step);
    answer(step, request, [errorNotify(notifyType)]);
  };
  if (old === undefined || old.state === 'deleting') return refuse(NotifyType.CHILD_SA_NOT_FOUND);
  // Not installed yet (or its outbound SA not yet), already replaced, or about to be rekeyed by
  // us: later (2.25).
  if ((old.state !== 'installed' || old.outboundPending === true) && !crossing) return refuse(NotifyType.TEMPORARY_FAILURE);
  const conn = childConnection(step, old.params.inboundSpi);
  if (conn === undefined) return refuse(NotifyType.NO_PROPOSAL_CHOSEN);
  const created = answerChildRequest(step, request, conn, spi, old.params.localTs, old.params.remoteTs, { hold: true });
  if (created === undefined) {
    step.raise({ type: 'PEER_REQUEST_ANSWERED' });
    return;
  }
  // The inbound SA and the policies first, the answer once they are in (onInstalled), the
  // outbound SA when the old SA goes (2.8).
  spawnChildSa(step, created.params, old.params.inboundSpi, conn.name, { outboundPending: true });
  step.set({ childRekeyAnswer: { request, payloads: created.payloads, inboundSpi: created.params.inboundSpi } });
  step.raise({ type: 'ANSWER_AWAITS_INBOUND_SA' });
  if (crossing && step.ctx.childRekey !== undefined) {
    step.set({ childRekey: { ...step.ctx.childRekey, collision: { peerCreated: created.params.inboundSpi, Ni: request.Ni, Nr: created.Nr } } });
    step.info({ childSa: espSpiHex(old.params.inboundSpi) }, 'the peer rekeys a Child SA we are rekeying: collision');
    step.raise({ type: 'CHILD_REKEY_COLLISION' });
  }
}

/** Sends our held answer to the peer's rekey (the new inbound SA is in, or it has to go now). */
export function sendHeldAnswer(step: Step): void {
  const held = step.ctx.childRekeyAnswer;
  if (held === undefined) return;
  step.set({ childRekeyAnswer: undefined });
  answer(step, held.request, held.payloads);
  step.raise({ type: 'PEER_REQUEST_ANSWERED' });
}

/**
 * CHILD_SA_INSTALL_FAILED for the SA of the peer's rekey whose answer we hold: the peer never
 * hears of it; the rekey is refused with TEMPORARY_FAILURE (2.25: the kernel is the trouble, the
 * peer may try again later) and the old SA carries on. Returns whether it was that SA.
 */
export function refuseHeldAnswer(step: Step, inboundSpi: number, reason: string): boolean {
  const held = step.ctx.childRekeyAnswer;
  if (held?.inboundSpi !== inboundSpi) return false;
  step.set({ childRekeyAnswer: undefined });
  // A crossing rekey of ours is then no collision: the peer takes ours as the rekey (2.8.1).
  const rekey = step.ctx.childRekey;
  if (rekey?.collision?.peerCreated === inboundSpi) step.set({ childRekey: { ...rekey, collision: undefined } });
  step.warn({ childSa: espSpiHex(inboundSpi), reason }, "the kernel refused the new Child SA: the peer's rekey is refused with TEMPORARY_FAILURE");
  answer(step, held.request, [errorNotify(NotifyType.TEMPORARY_FAILURE)]);
  step.raise({ type: 'PEER_REQUEST_ANSWERED' });
  return true;
}

/**
 * CHILD_SA_INSTALLED: the record follows its actor; the peer's rekey whose answer waited for this
 * SA's inbound SA is answered; and make before break completes (2.8): the old SA is marked
 * replaced, and deleted by us when our exchange made the survivor; a redundant SA of a collision
 * we lost is deleted by us, its creator (2.8.1).
 */
export function onInstalled(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'CHILD_SA_INSTALLED') return;
  const record = childRecord(step.ctx, event.inboundSpi);
  if (record === undefined) return;
  if (step.ctx.childRekeyAnswer?.inboundSpi === event.inboundSpi) sendHeldAnswer(step);
  const updated = updateChild(step, event.inboundSpi, {
    state: record.state === 'installing' ? 'installed' : record.state,
    deadlines: event.deadlines,
    installedAtMs: event.installedAtMs,
  })!;
  if (updated.redundant === true) {
    enqueue(step, { kind: 'delete-child', inboundSpis: [updated.params.inboundSpi], reason: 'redundant after a simultaneous rekey (RFC 7296 2.8.1)' });
    return;
  }
  if (updated.rekeyOf === undefined) return;
  const old = childRecord(step.ctx, updated.rekeyOf);
  if (old === undefined || old.state === 'deleting') return;
  updateChild(step, old.params.inboundSpi, { state: 'rekeyed', replacedBy: old.replacedBy ?? updated.params.inboundSpi });
  step.toChild(old.actorId, { type: 'REKEYED' });
  const ourExchange = updated.params.exchangeRole === 'initiator';
  if (ourExchange && (old.replacedBy === undefined || old.replacedBy === updated.params.inboundSpi)) {
    enqueue(step, { kind: 'delete-child', inboundSpis: [old.params.inboundSpi], reason: 'rekeyed' });
  }
}
