/**
 * Liveness checks, dead peer detection (RFC 7296 2.4): when nothing verified came from the peer
 * for the DPD interval, an empty INFORMATIONAL request; unanswered until the DPD timeout (or the
 * retransmission schedule, 2.1), the peer is dead and the IKE SA with its Child SAs is deleted.
 * The peer's empty INFORMATIONAL gets an empty answer.
 *
 * Chart: DPD_DUE `due` / `dueWhileBusy` in `succession.current`; ours in `window.checkingLiveness`
 * (entry `start`, RESPONSE `onResponse`); any unanswered request of the window `peerNotResponding`.
 */
import { ExchangeType } from '../../../src/wire/index.js';
import type { IkeSaEvent } from '../ike-sa-context.js';
import { TIMER, type Step } from '../ike-sa-step.js';
import { answer } from '../peer-request.js';
import { completeRequest, enqueue, finishRequest, sendRequest, takeNextRequest } from '../request-window.js';

/** DPD_DUE with the window idle: check when the peer has been silent for the interval. */
export function due(step: Step): void {
  const dpd = step.connection()?.ikePolicy.dpd;
  if (dpd === undefined) return;
  const intervalMs = dpd.intervalSeconds * 1000;
  const dueAt = step.ctx.lastHeardMs + intervalMs;
  if (step.now >= dueAt) {
    enqueue(step, { kind: 'liveness' });
    step.arm(TIMER.dpd, step.now + intervalMs, { type: 'DPD_DUE' });
  } else {
    step.arm(TIMER.dpd, Math.max(dueAt, step.now + 1000), { type: 'DPD_DUE' });
  }
}

/** DPD_DUE while a request is in flight: its answer (or its loss) tells us; look again later. */
export function dueWhileBusy(step: Step): void {
  const dpd = step.connection()?.ikePolicy.dpd;
  if (dpd === undefined) return;
  step.arm(TIMER.dpd, Math.max(step.ctx.lastHeardMs + dpd.intervalSeconds * 1000, step.now + 1000), { type: 'DPD_DUE' });
}

/** Entry of `window.checkingLiveness`: an empty INFORMATIONAL, given up after the DPD timeout. */
export function start(step: Step): void {
  takeNextRequest(step, 'liveness');
  const dpd = step.connection()?.ikePolicy.dpd;
  step.debug({}, 'liveness check');
  sendRequest(step, ExchangeType.INFORMATIONAL, [], dpd === undefined ? {} : { giveUpAtMs: step.now + dpd.timeoutSeconds * 1000 });
}

/** RESPONSE in `window.checkingLiveness`: alive (intake already noted when we last heard). */
export function onResponse(step: Step): void {
  finishRequest(step);
}

/**
 * REQUEST_TIMED_OUT in the window (2.1: "the IKE SA is deleted" when a peer stays silent): `what`
 * is the procedure that went unanswered.
 */
export function peerNotResponding(step: Step, what: string): void {
  const attempts = step.ctx.request?.attempt ?? 0;
  completeRequest(step);
  step.warn({ exchange: what, retransmissions: attempts }, 'peer not responding: IKE SA and its Child SAs are deleted (dead peer)');
  step.set({ endReason: `peer not responding (${what} unanswered)`, endCause: 'peer-dead' });
  step.raise({ type: 'IKE_SA_ENDED' });
}

/** The peer's INFORMATIONAL without deletes (its liveness check): an empty answer. */
export function answerPeer(step: Step, event: IkeSaEvent): void {
  if (event.type === 'PEER_REQUEST') answer(step, event.request, []);
}
