/**
 * The peer's INVALID_IKE_SPI (RFC 7296 2.21.4): an unprotected message naming this IKE SA's SPIs,
 * which a peer that restarted and lost the SA sends in answer to our request. "A node receiving
 * such an unprotected INVALID_IKE_SPI message MUST NOT respond and MUST NOT change the state of
 * any existing SAs" — it may be forged — but it "should treat such a message ... as a hint that
 * there might be problems with SAs to that IP destination and should initiate a liveness test".
 *
 * So the hint changes nothing by itself: it starts a liveness check (2.4) at once, ahead of other
 * queued work (when the window is free, 2.3), unless one is queued already or the request in
 * flight is the one the hint answers (its own retransmissions are the test: unanswered, the SA is
 * deleted, 2.1). A peer
 * that really lost the SA is then found dead in one retransmission schedule rather than at the
 * next DPD interval (or never, without DPD), and the daemon's restart policy brings it back.
 */
import { isUnknownPayload, NotifyType, PayloadType, type IkeMessage } from '../../../src/wire/index.js';
import type { Step } from '../ike-sa-step.js';
import { enqueue } from '../request-window.js';

/** An unprotected message (no SK, no SKF) carrying INVALID_IKE_SPI. */
export function isInvalidIkeSpiHint(message: IkeMessage): boolean {
  let hint = false;
  for (const p of message.payloads) {
    if (isUnknownPayload(p)) continue;
    if (p.type === PayloadType.SK || p.type === PayloadType.SKF) return false;
    if (p.type === PayloadType.N && p.notifyType === NotifyType.INVALID_IKE_SPI) hint = true;
  }
  return hint;
}

/** The hint on an established IKE SA: a liveness check, and nothing else. */
export function onInvalidIkeSpiHint(step: Step, message: IkeMessage): void {
  const ctx = step.ctx;
  const h = message.header;
  const fields = { messageId: h.messageId, response: h.flags.response };
  const inFlight = ctx.request;
  if (inFlight !== undefined && h.flags.response && inFlight.messageId === h.messageId) {
    step.info({ ...fields, exchange: inFlight.exchangeType }, 'INVALID_IKE_SPI from the peer (RFC 7296 2.21.4): our request in flight is the liveness test; unanswered, the IKE SA goes');
    return;
  }
  if (ctx.queue.some((r) => r.kind === 'liveness')) return;
  step.info(fields, 'INVALID_IKE_SPI from the peer (RFC 7296 2.21.4): the peer may have lost the IKE SA; checking its liveness now');
  enqueue(step, { kind: 'liveness' }, { front: true });
}
