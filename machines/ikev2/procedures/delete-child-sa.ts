/**
 * Deleting Child SAs (RFC 7296 1.4.1): INFORMATIONAL with a Delete payload naming our inbound
 * SPIs; the peer answers with its own for the same SAs. Whatever the answer, the SAs we asked to
 * delete are gone. Reasons to delete: a command, the hard lifetime (2.8), a kernel that refused
 * the SA, the old SA after a rekey, a redundant SA of a collision (2.8.1).
 *
 * Chart: ours in `window.deletingChild` (entry `start`, RESPONSE `onResponse`); the peer's Delete
 * in `answering` (PEER_REQUEST `answerPeer`).
 */
import { INFORMATIONAL_RESPONSE, deleteChildSaPayloads, readDeletes } from '../../../src/ikev2/exchanges/informational.js';
import { checkMessage, describeViolation } from '../../../src/ikev2/exchanges/message-rules.js';
import { ExchangeType, espSpiHex } from '../../../src/wire/index.js';
import { DELETED_BY_THE_PEER, childByOutboundSpi, childRecord, deleteChildLocally, updateChild } from '../child-records.js';
import type { IkeSaEvent } from '../ike-sa-context.js';
import type { Step } from '../ike-sa-step.js';
import { answer } from '../peer-request.js';
import { enqueue, finishRequest, sendRequest, takeNextRequest } from '../request-window.js';
import { refuseHeldAnswer } from './rekey-child-sa.js';

/** DELETE_CHILD_SA command from the engine. */
export function requestByCommand(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'DELETE_CHILD_SA' || childRecord(step.ctx, event.inboundSpi) === undefined) return;
  enqueue(step, { kind: 'delete-child', inboundSpis: [event.inboundSpi], reason: 'deleted by request' });
}

/**
 * CHILD_SA_EXPIRED: the actor removes itself from the kernel; the peer is told (1.4.1). A rekeyed
 * SA waits for our DELETE, so that the SA replacing it first gets its outbound SA if that still
 * waits (2.8), and keeps the policies that SA shares; one that was not rekeyed is already on its
 * way out and ignores the DELETE.
 */
export function onExpired(step: Step, event: IkeSaEvent): void {
  const record = event.type === 'CHILD_SA_EXPIRED' ? childRecord(step.ctx, event.inboundSpi) : undefined;
  if (record === undefined) return;
  step.info({ childSa: espSpiHex(record.params.inboundSpi) }, 'Child SA hard lifetime reached: deleted');
  deleteChildLocally(step, record, 'hard lifetime');
  enqueue(step, { kind: 'delete-child', inboundSpis: [record.params.inboundSpi], reason: 'hard lifetime' });
}

/**
 * CHILD_SA_INSTALL_FAILED: the kernel refused the SA; the peer has it, so it is told. The SA of
 * the peer's rekey whose answer still waits for it never reaches the peer: that rekey is refused.
 */
export function onInstallFailed(step: Step, event: IkeSaEvent): void {
  if (event.type !== 'CHILD_SA_INSTALL_FAILED' || childRecord(step.ctx, event.inboundSpi) === undefined) return;
  updateChild(step, event.inboundSpi, { state: 'deleting' });
  if (refuseHeldAnswer(step, event.inboundSpi, event.reason)) return;
  enqueue(step, { kind: 'delete-child', inboundSpis: [event.inboundSpi], reason: `kernel refused the SA: ${event.reason}` });
}

/** Entry of `window.deletingChild`. */
export function start(step: Step): void {
  const request = takeNextRequest(step, 'delete-child');
  const spis = request?.inboundSpis.filter((spi) => childRecord(step.ctx, spi) !== undefined) ?? [];
  if (request === undefined || spis.length === 0) {
    finishRequest(step);
    return;
  }
  step.info({ childSas: spis.map(espSpiHex), reason: request.reason }, 'deleting Child SAs at the peer');
  step.set({ childDeletion: { ...request, inboundSpis: spis } });
  sendRequest(step, ExchangeType.INFORMATIONAL, deleteChildSaPayloads(spis));
}

/** RESPONSE in `window.deletingChild`. */
export function onResponse(step: Step, event: IkeSaEvent): void {
  const deletion = step.ctx.childDeletion;
  if (event.type !== 'RESPONSE' || deletion === undefined) return;
  step.set({ childDeletion: undefined });
  const checked = checkMessage(INFORMATIONAL_RESPONSE, event.response.inner);
  if (!checked.ok) step.warn({ problem: describeViolation(checked.error) }, 'malformed delete response');
  // RFC 7296 1.4.1: whatever the answer, the SAs we asked to delete are gone.
  for (const spi of deletion.inboundSpis) {
    const r = childRecord(step.ctx, spi);
    if (r !== undefined) deleteChildLocally(step, r, deletion.reason);
  }
  if (checked.ok) step.debug({ peerDeleted: readDeletes(checked.value.D).espSpis.map(espSpiHex) }, 'Child SAs deleted at the peer');
  finishRequest(step);
}

/** The peer deletes Child SAs (named by its inbound SPIs, our outbound ones); our answer names ours (1.4.1). */
export function answerPeer(step: Step, event: IkeSaEvent): void {
  const request = event.type === 'PEER_REQUEST' ? event.request : undefined;
  if (request?.kind !== 'informational') return;
  const named = readDeletes(request.D).espSpis;
  const ours: number[] = [];
  for (const spi of named) {
    const r = childByOutboundSpi(step.ctx, spi);
    if (r === undefined) continue;
    ours.push(r.params.inboundSpi);
    deleteChildLocally(step, r, DELETED_BY_THE_PEER);
  }
  step.info({ peerSpis: named.map(espSpiHex), ours: ours.map(espSpiHex) }, 'the peer deleted Child SAs');
  answer(step, request, deleteChildSaPayloads(ours));
}
