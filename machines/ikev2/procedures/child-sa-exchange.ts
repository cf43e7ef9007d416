/**
 * What creating a Child SA and rekeying one have in common (RFC 7296 1.3.1, 1.3.3): our offer
 * with the inbound SPI the kernel allocated, reading the responder's answer, answering the peer's
 * request, and the one-shot use of an allocated SPI (given back when no Child SA took it).
 */
import type { ConnectionConfig } from '../../../src/config/model.js';
import {
  acceptChildRequest,
  completeChildResponse,
  createChildOffer,
  type ChildResponseOutcome,
  type ChildSaOffer,
  type ChildSaParams,
} from '../../../src/ikev2/exchanges/child-sa-negotiation.js';
import { CREATE_CHILD_SA_RESPONSE, nonceProblem } from '../../../src/ikev2/exchanges/create-child-sa.js';
import { checkMessage, describeViolation, firstErrorNotify } from '../../../src/ikev2/exchanges/message-rules.js';
import type { Selector } from '../../../src/policy/traffic-selectors.js';
import { NotifyType, nameOf, type Payload } from '../../../src/wire/index.js';
import type { Incoming, PeerRequest } from '../ike-sa-messages.js';
import type { Step } from '../ike-sa-step.js';
import { answer } from '../peer-request.js';
import { childSaFailed } from '../sa-reports.js';
import { espSpiBuffer } from '../../../src/wire/index.js';

/** An allocated inbound SPI, handed out at most once; `releaseIfUnused` gives it back otherwise. */
export class AllocatedSpi {
  private taken = false;

  constructor(readonly spi: number) {}

  readonly take = (): Buffer => {
    if (this.taken) throw new Error('an allocated SPI is used once');
    this.taken = true;
    return espSpiBuffer(this.spi);
  };

  releaseIfUnused(step: Step): void {
    if (!this.taken) step.releaseSpi(this.spi);
  }
}

/** Our CREATE_CHILD_SA offer for `conn`'s data policy and the given selectors. */
export function childOffer(step: Step, conn: ConnectionConfig, spi: AllocatedSpi, localTs: readonly Selector[], remoteTs: readonly Selector[], dhGroup?: number): ChildSaOffer {
  return createChildOffer({
    sets: conn.dataPolicy.proposalSets,
    inIkeAuth: false,
    localTs,
    remoteTs,
    mode: conn.dataPolicy.mode,
    registry: step.ports.registry,
    random: step.ports.random,
    dhGroup,
    allocateSpi: spi.take,
  });
}

/** The responder's answer to our CREATE_CHILD_SA for a Child SA (new or rekey). */
export function readChildResponse(step: Step, offer: ChildSaOffer, Ni: Buffer, response: Incoming): ChildResponseOutcome {
  const checked = checkMessage(CREATE_CHILD_SA_RESPONSE, response.inner);
  if (!checked.ok) return { kind: 'failed', reason: describeViolation(checked.error) };
  const error = firstErrorNotify(response.inner);
  const Nr = checked.value.Nonce?.data;
  if (error === undefined && (Nr === undefined || nonceProblem(Buffer.from(Nr)) !== undefined)) {
    return { kind: 'failed', reason: Nr === undefined ? 'CREATE_CHILD_SA response without Nr' : (nonceProblem(Buffer.from(Nr)) as string) };
  }
  return completeChildResponse({
    offer,
    sa: step.ctx.security!,
    Ni,
    Nr: Nr === undefined ? Buffer.alloc(0) : Buffer.from(Nr),
    SA: checked.value.SA,
    KE: checked.value.KE,
    TSi: checked.value.TSi,
    TSr: checked.value.TSr,
    payloads: response.inner,
    errorNotify: error,
    registry: step.ports.registry,
  });
}

/**
 * Answers the peer's CREATE_CHILD_SA for a Child SA under `conn`'s data policy and the given
 * selectors (proposal chosen, selectors narrowed, KEYMAT derived, 2.17); returns the new Child
 * SA's parameters, its Nr and our answer, or undefined when refused (the notify sent, the
 * failure reported). With `hold` the answer is not sent: the caller sends it later.
 */
export function answerChildRequest(
  step: Step,
  request: Extract<PeerRequest, { kind: 'new-child' | 'rekey-child' }>,
  conn: ConnectionConfig,
  spi: AllocatedSpi,
  localTs: readonly Selector[],
  remoteTs: readonly Selector[],
  options: { hold?: boolean } = {},
): { readonly params: ChildSaParams; readonly Nr: Buffer; readonly payloads: readonly Payload[] } | undefined {
  const Nr = step.nonce();
  const message = request.message;
  const outcome = acceptChildRequest({
    sa: step.ctx.security!,
    sets: conn.dataPolicy.proposalSets,
    inIkeAuth: false,
    localTs,
    remoteTs,
    mode: conn.dataPolicy.mode,
    Ni: request.Ni,
    Nr,
    SA: message.SA,
    KE: message.KE,
    TSi: message.TSi!,
    TSr: message.TSr!,
    payloads: request.inner,
    registry: step.ports.registry,
    random: step.ports.random,
    responseNonce: Nr,
    allocateSpi: spi.take,
  });
  if (outcome.kind === 'refused') {
    step.releaseSpi(spi.spi);
    answer(step, request, [outcome.notify]);
    childSaFailed(step, outcome.reason, nameOf(NotifyType, outcome.notify.notifyType));
    return undefined;
  }
  if (options.hold !== true) answer(step, request, outcome.responsePayloads);
  return { params: outcome.params, Nr, payloads: outcome.responsePayloads };
}
