/**
 * The request manager: our requests on the IKE SA, one at a time (window size 1, RFC 7296 2.3).
 * A queue of pending work; the request in flight with its Message ID and retransmission (2.1);
 * our answers to the peer's requests and the cached last answer for its retransmissions.
 *
 * Which procedure runs is the chart's `window` region (ike-sa.ts): `idle` takes the first
 * pending request that can still start and enters the procedure's state; the procedure sends
 * through `sendRequest`, handles the RESPONSE event raised for the answer, and raises
 * REQUEST_DONE when it is finished. A request that goes unanswered raises REQUEST_TIMED_OUT.
 */
import { headerFor, sealMessage } from '../../src/ikev2/ike-sa-session.js';
import { exchangeName } from '../../src/ikev2/exchanges/message-rules.js';
import { nextRetransmit, retransmitSchedule } from '../../src/timers/retransmit.js';
import type { Payload } from '../../src/wire/index.js';
import type { TimerEvent } from '../../src/ports.js';
import { unpooledCopy } from '../../src/wire/unpooled.js';
import type { MachinePorts } from '../ports.js';
import { childRecord } from './child-records.js';
import { fragmentForSending } from './fragments.js';
import type { IkeSaContext, PendingRequest } from './ike-sa-context.js';
import { TIMER, type Step } from './ike-sa-step.js';

/** Adds work to the queue (deduplicated); the window starts it when it is free. */
export function enqueue(step: Step, request: PendingRequest, options: { front?: boolean } = {}): void {
  const q = step.ctx.queue;
  if (q.some((r) => sameRequest(r, request))) return;
  step.set({ queue: options.front === true ? [request, ...q] : [...q, request] });
}

function sameRequest(a: PendingRequest, b: PendingRequest): boolean {
  switch (a.kind) {
    case 'rekey-child':
      return b.kind === 'rekey-child' && a.inboundSpi === b.inboundSpi;
    case 'delete-child':
      return b.kind === 'delete-child' && a.inboundSpis.join() === b.inboundSpis.join();
    case 'create-child':
      return false;
    case 'rekey-ike':
    case 'delete-ike':
    case 'liveness':
      return a.kind === b.kind;
  }
}

/** Whether queued work still makes sense (its Child SA may be gone, its connection removed). */
function canStart(ctx: IkeSaContext, ports: MachinePorts, request: PendingRequest): boolean {
  const conn = () => {
    const name = ctx.connection ?? ctx.candidates[0];
    return name === undefined ? undefined : ports.config.connection(name);
  };
  switch (request.kind) {
    case 'create-child':
      return conn() !== undefined;
    case 'rekey-child': {
      const state = childRecord(ctx, request.inboundSpi)?.state;
      return state === 'installed' || state === 'rekeying';
    }
    case 'rekey-ike':
      return conn() !== undefined && ctx.security !== undefined;
    case 'delete-child':
      return request.inboundSpis.some((spi) => childRecord(ctx, spi) !== undefined);
    case 'delete-ike':
    case 'liveness':
      return true;
  }
}

/** The request the window starts next, if any (the chart's `idle` guards ask this). */
export function nextRequest(ctx: IkeSaContext, ports: MachinePorts): PendingRequest | undefined {
  return ctx.queue.find((r) => canStart(ctx, ports, r));
}

/** Takes the next request off the queue, dropping stale work before it. */
export function takeNextRequest<K extends PendingRequest['kind']>(step: Step, kind: K): Extract<PendingRequest, { kind: K }> | undefined {
  const next = nextRequest(step.ctx, step.ports);
  if (next === undefined || next.kind !== kind) return undefined;
  const index = step.ctx.queue.indexOf(next);
  step.set({ queue: step.ctx.queue.slice(index + 1) });
  return next as Extract<PendingRequest, { kind: K }>;
}

function armRetransmit(step: Step): void {
  const o = step.ctx.request;
  if (o === undefined) return;
  const next = nextRetransmit(retransmitSchedule(step.retransmitPolicy()), o.attempt);
  let at = o.firstSentAtMs + next.atOffsetMs;
  if (o.giveUpAtMs !== undefined) at = Math.min(at, o.giveUpAtMs);
  step.arm(TIMER.retransmit, at, { type: 'RETRANSMIT', messageId: o.messageId } as TimerEvent);
}

/** Sends an unprotected request (IKE_SA_INIT) as Message ID 0 and waits for its response. */
export function sendPlainRequest(step: Step, exchangeType: number, bytes: Buffer): void {
  step.set({ request: { messageId: 0, exchangeType, datagrams: [bytes], firstSentAtMs: step.now, attempt: 0 }, nextRequestId: 1 });
  step.send([bytes]);
  armRetransmit(step);
}

/** Seals `inner` under the IKE SA (fragmenting when RFC 7383 applies), as the next request. */
export function sendRequest(step: Step, exchangeType: number, inner: readonly Payload[], options: { giveUpAtMs?: number } = {}): void {
  const sa = step.ctx.security;
  if (sa === undefined) throw new Error('sendRequest before the IKE SA has keys');
  const messageId = step.ctx.nextRequestId;
  const datagrams = sealForSending(step, headerFor(sa, exchangeType, messageId, false), inner);
  step.set({
    request: {
      messageId,
      exchangeType,
      datagrams,
      firstSentAtMs: step.now,
      attempt: 0,
      ...(options.giveUpAtMs === undefined ? {} : { giveUpAtMs: options.giveUpAtMs }),
    },
    nextRequestId: messageId + 1,
  });
  step.debug({ exchange: exchangeName(exchangeType), messageId }, 'request sent');
  step.send(datagrams);
  armRetransmit(step);
}

/** Seals and sends our response to the peer's request `messageId`, and caches it (2.1). */
export function sendResponse(step: Step, exchangeType: number, messageId: number, inner: readonly Payload[]): void {
  const sa = step.ctx.security;
  if (sa === undefined) throw new Error('sendResponse before the IKE SA has keys');
  // The response is cached until the next request (2.1): in memory of its own (src/wire/unpooled.ts).
  const datagrams = sealForSending(step, headerFor(sa, exchangeType, messageId, true), inner).map(unpooledCopy);
  step.set({ lastResponse: { messageId, datagrams }, expectedRequestId: messageId + 1 });
  step.send(datagrams);
}

function sealForSending(step: Step, header: ReturnType<typeof headerFor>, inner: readonly Payload[]): Buffer[] {
  const sa = step.ctx.security!;
  const policy = step.connection()?.ikePolicy.fragmentation;
  if (policy === undefined || !policy.enabled || !step.ctx.peerFragmentation) {
    return [sealMessage(sa, header, inner, step.ports.registry, step.ports.random)];
  }
  const natt = step.ctx.local.port === step.ports.config.current().settings.nattPort;
  // One datagram when it fits (RFC 7383 2.5: fragment only what is too large).
  return fragmentForSending(sa, header, inner, policy.maxDatagramSize, step.ctx.remote.address, natt, step.ports.registry, step.ports.random);
}

/** The response to our request arrived (or we gave up on it): stop retransmitting. */
export function completeRequest(step: Step): void {
  step.cancel(TIMER.retransmit);
  step.set({ request: undefined });
}

/** A procedure is finished: the window is free for the next request. */
export function finishRequest(step: Step): void {
  completeRequest(step);
  step.raise({ type: 'REQUEST_DONE' });
}

/**
 * A RETRANSMIT timer fired (2.1): resend the same datagrams, or raise REQUEST_TIMED_OUT once the
 * schedule (or a liveness check's timeout) is exhausted; the procedure's state decides what that
 * means.
 */
export function retransmit(step: Step, messageId: number): void {
  const o = step.ctx.request;
  if (o === undefined || o.messageId !== messageId) return;
  const next = nextRetransmit(retransmitSchedule(step.retransmitPolicy()), o.attempt);
  if ((o.giveUpAtMs !== undefined && step.now >= o.giveUpAtMs) || next.kind === 'give-up') {
    step.raise({ type: 'REQUEST_TIMED_OUT' });
    return;
  }
  step.set({ request: { ...o, attempt: next.attempt } });
  step.count('retransmissions');
  step.debug({ messageId, attempt: next.attempt, exchange: exchangeName(o.exchangeType) }, 'retransmitting request');
  step.send(o.datagrams);
  armRetransmit(step);
}
