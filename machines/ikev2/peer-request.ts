/**
 * The peer's requests on an established IKE SA, classified before any procedure sees them:
 * CREATE_CHILD_SA in its three forms (RFC 7296 1.3.1 new Child SA, 1.3.2 IKE SA rekey, 1.3.3
 * Child SA rekey) and INFORMATIONAL (1.4). A malformed request is answered INVALID_SYNTAX here
 * (2.21.2 lets us); an exchange type we do not serve on an established SA likewise.
 */
import { CREATE_CHILD_SA_REQUEST, errorNotify, formOf, nonceProblem } from '../../src/ikev2/exchanges/create-child-sa.js';
import { INFORMATIONAL_REQUEST } from '../../src/ikev2/exchanges/informational.js';
import { checkMessage, describeViolation } from '../../src/ikev2/exchanges/message-rules.js';
import { ExchangeType, NotifyType, nameOf, type Payload } from '../../src/wire/index.js';
import type { Incoming, PeerRequest } from './ike-sa-messages.js';
import type { Step } from './ike-sa-step.js';
import { sendResponse } from './request-window.js';

/** The classified request, or undefined when it was malformed and answered with an error. */
export function classifyPeerRequest(step: Step, incoming: Incoming): PeerRequest | undefined {
  const invalidSyntax = (): undefined => {
    sendResponse(step, incoming.exchangeType, incoming.messageId, [errorNotify(NotifyType.INVALID_SYNTAX)]);
    return undefined;
  };
  const malformed = (problem: string): undefined => {
    step.warn({ problem }, `malformed ${nameOf(ExchangeType, incoming.exchangeType)} request`);
    return invalidSyntax();
  };
  const base = { messageId: incoming.messageId, exchangeType: incoming.exchangeType, inner: incoming.inner };
  switch (incoming.exchangeType) {
    case ExchangeType.CREATE_CHILD_SA: {
      const checked = checkMessage(CREATE_CHILD_SA_REQUEST, incoming.inner);
      if (!checked.ok) return malformed(describeViolation(checked.error));
      const message = checked.value;
      const Ni = Buffer.from(message.Nonce.data);
      const form = formOf(message);
      if (form.kind === 'invalid') return malformed(form.reason);
      const badNonce = nonceProblem(Ni);
      if (badNonce !== undefined) return malformed(badNonce);
      return form.kind === 'rekey-child' ? { ...base, kind: 'rekey-child', message, Ni, spi: form.spi } : { ...base, kind: form.kind, message, Ni };
    }
    case ExchangeType.INFORMATIONAL: {
      const checked = checkMessage(INFORMATIONAL_REQUEST, incoming.inner);
      if (!checked.ok) return invalidSyntax();
      return { ...base, kind: 'informational', D: checked.value.D };
    }
    default:
      step.warn({ exchange: nameOf(ExchangeType, incoming.exchangeType) }, 'request of an unexpected exchange on an established IKE SA');
      return invalidSyntax();
  }
}

/** Answers the peer's request being handled (and frees the `answering` slot). */
export function answer(step: Step, request: PeerRequest, payloads: readonly Payload[]): void {
  sendResponse(step, request.exchangeType, request.messageId, payloads);
  if (step.ctx.answering?.messageId === request.messageId) step.set({ answering: undefined });
}

/** PEER_REQUEST that must wait (2.25: TEMPORARY_FAILURE while the IKE SA is rekeyed, replaced or busy). */
export function refuseBusy(step: Step, event: { type: string; request?: PeerRequest }): void {
  if (event.request !== undefined) answer(step, event.request, [errorNotify(NotifyType.TEMPORARY_FAILURE)]);
}

/** PEER_REQUEST for a Child SA: our inbound SPI first (SPI_ALLOCATED), then the answer. */
export function awaitSpi(step: Step, event: { type: string; request?: PeerRequest }): void {
  if (event.request === undefined) return;
  step.set({ answering: event.request });
  step.allocateSpi('peer-request');
  step.raise({ type: 'PEER_REQUEST_NEEDS_SPI' });
}

/** SPI_ALLOCATION_FAILED for the peer's Child SA: the kernel is the trouble, so the peer may try again later (2.25). */
export function refuseForLackOfSpi(step: Step, reason: string): void {
  const request = step.ctx.answering;
  step.warn({ reason }, "the kernel gave no inbound SPI: the peer's Child SA request is refused with TEMPORARY_FAILURE");
  step.raise({ type: 'PEER_REQUEST_ANSWERED' });
  if (request !== undefined) answer(step, request, [errorNotify(NotifyType.TEMPORARY_FAILURE)]);
}

/** SPI_ALLOCATED for a Child SA request that can no longer be served (the IKE SA is being rekeyed or replaced). */
export function refuseBusyWithSpi(step: Step, event: { type: string; spi?: number }): void {
  const request = step.ctx.answering;
  if (event.spi !== undefined) step.releaseSpi(event.spi);
  step.raise({ type: 'PEER_REQUEST_ANSWERED' });
  if (request !== undefined) answer(step, request, [errorNotify(NotifyType.TEMPORARY_FAILURE)]);
}
