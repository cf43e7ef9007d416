/**
 * Every protected message that reaches an IKE SA goes through here first (RFC 7296 2.3, 2.21):
 *
 * - a response must answer our outstanding request (same Message ID), anything else is dropped;
 * - a request must carry the next Message ID we expect; the one before it is a retransmission
 *   and gets our cached response again, without being processed again (2.1); one we are still
 *   answering is ignored; anything else is dropped. Dropped messages are counted;
 * - SKF fragments are collected until the message is whole (RFC 7383 2.6);
 * - a message whose SK payload does not verify is dropped silently (2.21.1);
 * - an unknown critical payload gets UNSUPPORTED_CRITICAL_PAYLOAD (2.5) if it is in a request.
 * A message that verifies also refreshes "last heard from" (liveness, 2.4) and the peer's address
 * (the address of the latest authenticated message is the one to answer, 2.23).
 */
import { openMessage } from '../../src/ikev2/ike-sa-session.js';
import {
  ExchangeType,
  NotifyType,
  PayloadType,
  firstUnsupportedCriticalPayload,
  isUnknownPayload,
  nameOf,
  notifyPayload,
  type Payload,
} from '../../src/wire/index.js';
import { addFragment } from './fragments.js';
import { isInvalidIkeSpiHint, onInvalidIkeSpiHint } from './procedures/invalid-spi-hint.js';
import type { IkeSaExternalEvent } from './ike-sa-context.js';
import type { Incoming } from './ike-sa-messages.js';
import type { Step } from './ike-sa-step.js';
import { sendResponse } from './request-window.js';

export type MessageEvent = Extract<IkeSaExternalEvent, { type: 'MESSAGE' }>;

/** The opened message, or undefined when it was dropped or answered from the cache. */
export function intake(step: Step, event: MessageEvent): Incoming | undefined {
  const { message, datagram } = event;
  const h = message.header;
  const ctx = step.ctx;
  const sa = ctx.security;
  if (sa === undefined) return undefined;
  // RFC 7296 2.2/3.1: the I flag of a message from the original initiator is set.
  if (h.flags.initiator !== (sa.role === 'responder')) {
    step.count('outOfWindow');
    step.debug({ messageId: h.messageId, initiatorFlag: h.flags.initiator }, 'message with the wrong I flag for our role dropped');
    return undefined;
  }
  // RFC 7296 2.21.4: the peer's unprotected INVALID_IKE_SPI is a hint, handled apart.
  if (isInvalidIkeSpiHint(message)) {
    onInvalidIkeSpiHint(step, message);
    return undefined;
  }
  if (h.flags.response) {
    const o = ctx.request;
    if (o === undefined || o.messageId !== h.messageId || o.exchangeType !== h.exchangeType) {
      step.count('outOfWindow');
      step.debug({ messageId: h.messageId, exchange: nameOf(ExchangeType, h.exchangeType) }, 'response outside the window dropped');
      return undefined;
    }
  } else {
    const cached = ctx.lastResponse;
    if (cached !== undefined && h.messageId === cached.messageId) {
      const last = message.payloads[message.payloads.length - 1];
      // RFC 7383 2.6.2: answer a retransmitted fragmented request once, on its first fragment.
      if (last !== undefined && !isUnknownPayload(last) && last.type === PayloadType.SKF && last.fragmentNumber !== 1) return undefined;
      step.count('answeredFromCache');
      step.debug({ messageId: h.messageId }, 'retransmitted request answered from the cached response');
      step.send(cached.datagrams);
      return undefined;
    }
    if (ctx.answering?.messageId === h.messageId) {
      // A retransmission of the request we are still answering (waiting for an SPI): ours follows.
      step.debug({ messageId: h.messageId }, 'retransmitted request already being answered: dropped');
      return undefined;
    }
    if (h.messageId !== ctx.expectedRequestId) {
      step.count('outOfWindow');
      step.debug({ messageId: h.messageId, expected: ctx.expectedRequestId }, 'request outside the window dropped');
      return undefined;
    }
  }

  let inner: Payload[];
  const last = message.payloads[message.payloads.length - 1];
  if (last !== undefined && !isUnknownPayload(last) && last.type === PayloadType.SKF) {
    const r = addFragment(ctx.reassembly, sa, message, datagram.bytes, step.ports.registry);
    switch (r.kind) {
      case 'dropped':
        step.count('undecryptable');
        step.debug({ reason: r.reason }, 'fragment dropped');
        if (r.abandon === true) step.set({ reassembly: undefined });
        return undefined;
      case 'incomplete':
        step.set({ reassembly: r.reassembly });
        return undefined;
      case 'complete':
        step.set({ reassembly: undefined });
        inner = r.inner;
        break;
    }
  } else {
    const opened = openMessage(sa, datagram.bytes, step.ports.registry);
    if (!opened.ok) {
      step.count('undecryptable');
      step.debug({ reason: opened.error.kind }, 'message that does not verify dropped (RFC 7296 2.21.1)');
      return undefined;
    }
    inner = opened.value.inner;
  }

  step.set({ lastHeardMs: step.now });
  if (datagram.remote.address !== ctx.remote.address || datagram.remote.port !== ctx.remote.port || datagram.local.port !== ctx.local.port) {
    step.info({ from: `${ctx.remote.address}:${ctx.remote.port}`, to: `${datagram.remote.address}:${datagram.remote.port}` }, 'peer address changed');
    step.set({ remote: datagram.remote, local: datagram.local });
  }

  const critical = firstUnsupportedCriticalPayload(inner);
  if (critical !== undefined) {
    step.warn({ payloadType: critical }, 'unsupported critical payload (RFC 7296 2.5)');
    if (!h.flags.response) {
      sendResponse(step, h.exchangeType, h.messageId, [
        notifyPayload({
          name: 'other',
          notifyType: NotifyType.UNSUPPORTED_CRITICAL_PAYLOAD,
          protocolId: 0,
          spi: Buffer.alloc(0),
          data: Buffer.from([critical]),
        }),
      ]);
      return undefined;
    }
  }
  return { kind: h.flags.response ? 'response' : 'request', exchangeType: h.exchangeType, messageId: h.messageId, inner };
}
