/**
 * Deleting the IKE SA (RFC 7296 1.4.1): INFORMATIONAL with a Delete payload for the IKE SA, which
 * takes its Child SAs with it. Reasons: a command, the hard lifetime (2.8), shutdown, the old SA
 * after a rekey we initiated (2.18), a redundant SA we created (2.8.2). When the peer deletes it,
 * we answer (empty) and the SA is gone for both; we linger to answer a retransmitted Delete.
 *
 * Chart: ours in `window.deletingIke` (entry `start`, RESPONSE `onResponse`, REQUEST_TIMED_OUT
 * `onTimeout`); TERMINATE / HARD_EXPIRE `terminate` in `succession`; the peer's Delete in
 * `answering` (PEER_REQUEST `answerPeer`), then `established`'s IKE_SA_DELETED_BY_PEER.
 */
import { deleteIkeSaPayloads } from '../../../src/ikev2/exchanges/informational.js';
import { ExchangeType } from '../../../src/wire/index.js';
import type { IkeSaEvent } from '../ike-sa-context.js';
import type { Step } from '../ike-sa-step.js';
import { answer } from '../peer-request.js';
import { completeRequest, sendRequest, takeNextRequest } from '../request-window.js';

/** TERMINATE or HARD_EXPIRE: the Delete goes next; other queued work is dropped. */
export function terminate(step: Step, event: IkeSaEvent): void {
  const reason = event.type === 'TERMINATE' ? event.reason : 'IKE SA hard lifetime expired';
  step.set({ queue: [{ kind: 'delete-ike', reason }], endReason: reason, endCause: event.type === 'TERMINATE' ? 'local' : 'expired' });
}

/** Entry of `window.deletingIke`. */
export function start(step: Step): void {
  const request = takeNextRequest(step, 'delete-ike');
  const reason = request?.reason ?? step.ctx.endReason ?? 'IKE SA deleted';
  step.info({ reason }, 'deleting IKE SA at the peer');
  step.set({ ikeDeletion: { kind: 'delete-ike', reason } });
  sendRequest(step, ExchangeType.INFORMATIONAL, deleteIkeSaPayloads());
}

/** RESPONSE in `window.deletingIke`: gone at the peer, so gone here. */
export function onResponse(step: Step): void {
  const reason = step.ctx.ikeDeletion?.reason ?? 'IKE SA deleted';
  completeRequest(step);
  step.info({ reason }, 'IKE SA deleted at the peer');
  step.set({ endReason: reason });
  step.raise({ type: 'IKE_SA_ENDED' });
}

/** REQUEST_TIMED_OUT in `window.deletingIke`: the peer did not answer; the SA goes anyway. */
export function onTimeout(step: Step): void {
  const reason = step.ctx.ikeDeletion?.reason ?? 'IKE SA deleted';
  completeRequest(step);
  step.set({ endReason: step.ctx.endReason ?? reason });
  step.raise({ type: 'IKE_SA_ENDED' });
}

/** The peer deletes this IKE SA: an empty answer, then it and its Child SAs are gone (1.4.1). */
export function answerPeer(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'PEER_REQUEST') return;
  answer(step, event.request, []);
  step.raise({ type: 'IKE_SA_DELETED_BY_PEER' });
}

/** IKE_SA_DELETED_BY_PEER in `succession.current`. */
export function deletedByPeer(step: Step): void {
  step.info({}, 'the peer deleted the IKE SA');
  step.set({ endReason: 'deleted by the peer', endCause: 'peer-deleted' });
}

/** IKE_SA_DELETED_BY_PEER in `succession.handingOver`: the end of a rekey the peer made (2.18). */
export function deletedByPeerAfterRekey(step: Step): void {
  step.info({}, 'the peer deleted the IKE SA');
  step.set({ endReason: 'rekeyed', endCause: 'rekeyed' });
}
