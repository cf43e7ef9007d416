/**
 * The redundant IKE SA of a simultaneous rekey (RFC 7296 2.8.2): the one created with the lowest
 * nonce, which "SHOULD be closed by the endpoint that created it". It never becomes established
 * for the user (no `ike-sa-up`, not in status). Ours we delete at once (`window.deletingIke`);
 * the peer's we hold to answer its Delete, until a grace period after the old SA is gone (the
 * peer may have aborted its rekey and never have it), and at most as long as the responder of a
 * rekey waits for the old SA's Delete.
 *
 * Chart: `succession.redundant.deletingOurs` (entry `deleteOurs`) and
 * `succession.redundant.awaitingPeersDelete` (entry `holdPeers`, PREDECESSOR_GONE
 * `predecessorGone`, REDUNDANT_TIMEOUT `timeout`).
 */
import { retransmitSchedule } from '../../../src/timers/retransmit.js';
import { TIMER, type Step } from '../ike-sa-step.js';
import { enqueue } from '../request-window.js';
import { keylogIkeSa } from '../sa-reports.js';
import { HANDOVER_TIMEOUT_MS } from './rekey-ike-sa.js';

/**
 * How long we hold the peer's redundant IKE SA for its Delete once the old SA is gone. The peer
 * sends that Delete as soon as its own exchange completes, which is before it can answer our
 * Delete of the old SA; if the old SA went first, the peer's exchange can no longer complete, and
 * it never created the SA (strongSwan: "peer did not notice IKE_SA rekey collision, abort active
 * rekeying"). The grace covers reordering and one early retransmission.
 */
export const REDUNDANT_GRACE_MS = 5_000;

/** Entry of `redundant.deletingOurs`. */
export function deleteOurs(step: Step): void {
  keylogIkeSa(step); // our Delete travels on it: let Wireshark decrypt it too
  step.info({}, 'deleting the redundant IKE SA we created (RFC 7296 2.8.2)');
  enqueue(step, { kind: 'delete-ike', reason: 'redundant after a simultaneous IKE SA rekey (RFC 7296 2.8.2)' });
}

/** Entry of `redundant.awaitingPeersDelete`. */
export function holdPeers(step: Step): void {
  keylogIkeSa(step); // the peer's Delete travels on it
  step.info({}, "holding the peer's redundant IKE SA until the peer deletes it (RFC 7296 2.8.2)");
  const horizon = retransmitSchedule(step.retransmitPolicy()).giveUpAtOffsetMs + 10_000;
  step.arm(TIMER.redundant, step.now + Math.max(HANDOVER_TIMEOUT_MS, horizon), { type: 'REDUNDANT_TIMEOUT' });
}

/** The old SA of the collision is gone: the peer's Delete of this one comes now or never. */
export function predecessorGone(step: Step): void {
  step.arm(TIMER.redundant, step.now + REDUNDANT_GRACE_MS, { type: 'REDUNDANT_TIMEOUT' });
}

/** REDUNDANT_TIMEOUT: the peer never deleted it; it aborted its rekey and has none. Dropped silently. */
export function timeout(step: Step): void {
  step.info({}, 'the peer did not delete its redundant IKE SA: it aborted its rekey and has none; dropped without a Delete (RFC 7296 2.8.2)');
  step.set({ endReason: 'redundant after a simultaneous IKE SA rekey; the peer never had it (RFC 7296 2.8.2)' });
}

/** IKE_SA_DELETED_BY_PEER in `succession.redundant`. */
export function deletedByPeer(step: Step): void {
  step.info({}, 'the peer deleted the redundant IKE SA it created (RFC 7296 2.8.2)');
  step.set({ endReason: 'deleted by the peer', endCause: 'peer-deleted' });
}
