/**
 * The way out: `closing` takes every Child SA out of the kernel (waiting at most
 * CLOSE_TIMEOUT_MS), then the SA is `closed`, or first `lingering` when the peer deleted it: the
 * SA is gone for the peer and the user (`ike-sa-down` at once), and only the peer's retransmitted
 * Delete is still answered from the cache (RFC 7296 2.1) for LINGER_MS.
 */
import { deleteChildLocally } from '../child-records.js';
import type { IkeSaEvent } from '../ike-sa-context.js';
import { NO_PROCEDURE_DATA } from '../ike-sa-initial-context.js';
import { TIMER, type Step } from '../ike-sa-step.js';
import { reportDown } from '../sa-reports.js';

/** Closing waits this long for the Child SAs to leave the kernel. */
export const CLOSE_TIMEOUT_MS = 10_000;
/** After answering the peer's Delete, the SA answers its retransmissions this long (2.1). */
export const LINGER_MS = 60_000;

/** TERMINATE or DISCARD on the way to `closing`. */
export function setEndReason(step: Step, event: IkeSaEvent): void {
  if (event.type === 'TERMINATE' || event.type === 'DISCARD') step.set({ endReason: event.reason, endCause: 'local' });
}

/** HANDOVER_TIMEOUT: the peer rekeyed us but never deleted this SA. */
export function handoverTimeout(step: Step): void {
  step.set({ endReason: 'rekeyed; the peer never deleted the old IKE SA', endCause: 'rekeyed' });
}

/** Entry of `closing`: stop all work, give back unused SPIs, take every Child SA out of the kernel. */
export function begin(step: Step): void {
  const ctx = step.ctx;
  for (const name of [TIMER.retransmit, TIMER.rekey, TIMER.expire, TIMER.dpd, TIMER.halfOpen, TIMER.handover, TIMER.redundant]) step.cancel(name);
  if (ctx.heldRedundant !== undefined) {
    // We won a simultaneous rekey: the peer's redundant SA stops waiting for us (2.8.2).
    step.toSupervisor({ type: 'IKE_SA_PREDECESSOR_GONE', id: ctx.id, successor: ctx.heldRedundant });
  }
  step.releaseSpi(ctx.childCreation?.offer?.inboundSpi);
  step.releaseSpi(ctx.childRekey?.offer?.inboundSpi);
  step.releaseSpi(ctx.handshake?.childOffer?.inboundSpi);
  step.set({ heldRedundant: undefined, queue: [], ...NO_PROCEDURE_DATA });
  const reason = step.ctx.endReason ?? 'IKE SA deleted';
  // All of them go: an SA still waiting for its outbound SA (2.8) leaves without it.
  for (const r of step.ctx.children) deleteChildLocally(step, r, reason, { handOver: false });
  if (step.ctx.children.length === 0) step.raise({ type: 'CHILDREN_GONE' });
  else step.arm(TIMER.close, step.now + CLOSE_TIMEOUT_MS, { type: 'CLOSE_TIMEOUT' });
}

/** Leaving `closing` for `closed` (we ended it, or it failed): the user hears `ike-sa-down`. */
export function finish(step: Step): void {
  reportDown(step);
}

/** Entry of `lingering`: gone for the peer and the user. */
export function linger(step: Step): void {
  reportDown(step);
  step.arm(TIMER.close, step.now + LINGER_MS, { type: 'CLOSE_TIMEOUT' });
}

/** MESSAGE in `closing` or `lingering`: a retransmitted request of the peer (its Delete) gets our cached answer. */
export function answerFromCache(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'MESSAGE') return;
  const cached = step.ctx.lastResponse;
  const h = event.message.header;
  if (cached !== undefined && !h.flags.response && h.messageId === cached.messageId) step.send(cached.datagrams);
}

/** SPI_ALLOCATED that no procedure waits for any more: back it goes. */
export function releaseAllocatedSpi(step: Step, event: IkeSaEvent): void {
  if (event.type === 'SPI_ALLOCATED') step.releaseSpi(event.spi);
}

/** Entry of `closed` (final). */
export function close(step: Step): void {
  step.cancelAllTimers();
  step.toSupervisor({ type: 'IKE_SA_CLOSED', id: step.ctx.id });
}
