/**
 * Our requests on an established IKE SA, one at a time (window size 1, RFC 7296 2.3): a queue of
 * pending work (new Child SA, Child SA rekey, IKE SA rekey, deletes, liveness checks), the request
 * each one sends, and what its response changes.
 */
import { createChildOffer, type ChildSaOffer } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import { completeChildResponse } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import { connectionSelectors } from '../../src/ikev2/exchanges/connection-policy.js';
import {
  CREATE_CHILD_SA_RESPONSE,
  childSaRequestPayloads,
  completeIkeRekey,
  ikeRekeyRequestPayloads,
  nonceProblem,
} from '../../src/ikev2/exchanges/create-child-sa.js';
import { deleteChildSaPayloads, deleteIkeSaPayloads, INFORMATIONAL_RESPONSE, readDeletes } from '../../src/ikev2/exchanges/informational.js';
import { checkMessage, describeViolation, firstErrorNotify } from '../../src/ikev2/exchanges/message-rules.js';
import { offerProposals, preferredDhGroup } from '../../src/ikev2/exchanges/negotiation.js';
import { redactedKeyPair } from '../../src/ikev2/exchanges/ike-sa-init.js';
import { ExchangeType, NotifyType, nameOf } from '../../src/wire/index.js';
import { spiText } from './child-sa.js';
import { childConnection, childRecord, deleteChildLocally, spawnChildSa, updateChild } from './ike-sa-children.js';
import type { PendingRequest, RequestPurpose } from './ike-sa-context.js';
import { childSaFailed } from './ike-sa-handshake.js';
import type { Incoming } from './ike-sa-intake.js';
import { fallBackToPeerRekey, handOver, resolveChildCollision, resolveIkeCollision } from './ike-sa-rekey.js';
import { completeOutstanding, sendRequest, type Step } from './ike-sa-step.js';

const MAX_KE_RETRIES = 2;
/** After a failed rekey, try again this much later (strongSwan retries after 30..60 s). */
export const REKEY_RETRY_MS = 60_000;
/** After TEMPORARY_FAILURE (2.25: the peer is busy with another exchange), sooner (strongSwan: 15 s). */
export const TEMPORARY_FAILURE_RETRY_MS = 15_000;

/** Adds work to the queue (deduplicated) and starts it if nothing is outstanding. */
export function enqueue(step: Step, request: PendingRequest, options: { front?: boolean } = {}): void {
  const q = step.ctx.queue;
  if (q.some((r) => sameRequest(r, request))) return;
  step.set({ queue: options.front === true ? [request, ...q] : [...q, request] });
}

function sameRequest(a: PendingRequest, b: PendingRequest): boolean {
  if (a.kind !== b.kind) return false;
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
      return true;
  }
}

/** Starts the next queued request when the window is free (2.3). */
export function pump(step: Step): void {
  while (step.ctx.outstanding === undefined && step.ctx.queue.length > 0 && step.ctx.replacedBy === undefined) {
    const [next, ...rest] = step.ctx.queue as [PendingRequest, ...PendingRequest[]];
    step.set({ queue: rest });
    start(step, next);
  }
  // Once handed over to a rekeyed IKE SA, only the Delete of this one may still go out.
  if (step.ctx.outstanding === undefined && step.ctx.replacedBy !== undefined) {
    const del = step.ctx.queue.find((r) => r.kind === 'delete-ike');
    if (del !== undefined) {
      step.set({ queue: [] });
      start(step, del);
    }
  }
}

function childOffer(step: Step, localTs: ChildSaOffer['localTs'], remoteTs: ChildSaOffer['remoteTs'], dhGroup?: number, rekeyOf?: number): ChildSaOffer | undefined {
  // A rekey offers the data policy of the SA it replaces (its connection may not be the IKE SA's).
  const conn = childConnection(step, rekeyOf);
  if (conn === undefined) return undefined;
  return createChildOffer({
    sets: conn.dataPolicy.proposalSets,
    inIkeAuth: false,
    localTs,
    remoteTs,
    mode: conn.dataPolicy.mode,
    registry: step.ports.registry,
    random: step.ports.random,
    dhGroup,
    allocateSpi: step.allocateSpi,
  });
}

function nonce(step: Step): Buffer {
  return step.ports.random(step.ports.config.current().settings.nonceLength);
}

function start(step: Step, request: PendingRequest): void {
  const ctx = step.ctx;
  switch (request.kind) {
    case 'create-child': {
      const conn = step.connection();
      if (conn === undefined) return;
      const ts = connectionSelectors(conn);
      const offer = childOffer(step, ts.local, ts.remote);
      if (offer === undefined) return;
      const Ni = nonce(step);
      sendRequest(step, ExchangeType.CREATE_CHILD_SA, childSaRequestPayloads(offer, Ni), { kind: 'create-child', offer, Ni, keRetries: 0 });
      return;
    }
    case 'rekey-child': {
      const record = childRecord(ctx, request.inboundSpi);
      if (record === undefined || (record.state !== 'installed' && record.state !== 'rekeying')) return;
      const offer = childOffer(step, record.params.localTs, record.params.remoteTs, request.dhGroup, request.inboundSpi);
      if (offer === undefined) return;
      const Ni = nonce(step);
      updateChild(step, request.inboundSpi, { state: 'rekeying' });
      step.toChild(record.actorId, { type: 'REKEYING' });
      step.info({ childSa: spiText(request.inboundSpi) }, 'rekeying Child SA');
      sendRequest(step, ExchangeType.CREATE_CHILD_SA, childSaRequestPayloads(offer, Ni, request.inboundSpi), {
        kind: 'rekey-child',
        oldInboundSpi: request.inboundSpi,
        offer,
        Ni,
        keRetries: request.keRetries ?? 0,
      });
      return;
    }
    case 'rekey-ike': {
      const conn = step.connection();
      if (conn === undefined || ctx.security === undefined) return;
      const newSpi = step.ports.random(8);
      const offer = offerProposals(conn.ikePolicy.proposalSets, 'ike', newSpi, step.ports.registry);
      const group = request.dhGroup ?? preferredDhGroup(offer);
      const dh = group === undefined ? undefined : step.ports.registry.dhGroup(group);
      if (dh === undefined) return;
      const keyPair = redactedKeyPair(dh.generateKeyPair(step.ports.random));
      const Ni = nonce(step);
      step.info({ newSpi: newSpi.toString('hex') }, 'rekeying IKE SA');
      sendRequest(step, ExchangeType.CREATE_CHILD_SA, ikeRekeyRequestPayloads({ newSpi, offer, keyPair, Ni }), {
        kind: 'rekey-ike',
        newSpi,
        offer,
        keyPair,
        Ni,
        keRetries: request.keRetries ?? 0,
      });
      return;
    }
    case 'delete-child': {
      const spis = request.inboundSpis.filter((spi) => childRecord(ctx, spi) !== undefined);
      if (spis.length === 0) return;
      step.info({ childSas: spis.map(spiText), reason: request.reason }, 'deleting Child SAs at the peer');
      sendRequest(step, ExchangeType.INFORMATIONAL, deleteChildSaPayloads(spis), { kind: 'delete-child', inboundSpis: spis, reason: request.reason });
      return;
    }
    case 'delete-ike':
      step.info({ reason: request.reason }, 'deleting IKE SA at the peer');
      sendRequest(step, ExchangeType.INFORMATIONAL, deleteIkeSaPayloads(), { kind: 'delete-ike', reason: request.reason });
      return;
    case 'liveness': {
      const dpd = step.connection()?.ikePolicy.dpd;
      step.debug({}, 'liveness check');
      sendRequest(step, ExchangeType.INFORMATIONAL, [], { kind: 'liveness' }, dpd === undefined ? {} : { giveUpAtMs: step.now + dpd.timeoutSeconds * 1000 });
      return;
    }
  }
}

/** The response to our outstanding request, opened and in the window. */
export function onResponse(step: Step, incoming: Incoming): void {
  const o = step.ctx.outstanding;
  if (o === undefined) return;
  completeOutstanding(step);
  const purpose = o.purpose;
  switch (purpose.kind) {
    case 'create-child':
    case 'rekey-child':
      onChildResponse(step, purpose, incoming);
      break;
    case 'rekey-ike':
      onIkeRekeyResponse(step, purpose, incoming);
      break;
    case 'delete-child': {
      const checked = checkMessage(INFORMATIONAL_RESPONSE, incoming.inner);
      if (!checked.ok) step.warn({ problem: describeViolation(checked.error) }, 'malformed delete response');
      // RFC 7296 1.4.1: whatever the answer, the SAs we asked to delete are gone.
      for (const spi of purpose.inboundSpis) {
        const r = childRecord(step.ctx, spi);
        if (r !== undefined) deleteChildLocally(step, r, purpose.reason);
      }
      if (checked.ok) {
        const answered = readDeletes(checked.value.D).espSpis;
        step.debug({ peerDeleted: answered.map(spiText) }, 'Child SAs deleted at the peer');
      }
      break;
    }
    case 'delete-ike':
      step.info({ reason: purpose.reason }, 'IKE SA deleted at the peer');
      step.set({ endReason: purpose.reason });
      step.raise({ type: 'IKE_SA_ENDED' });
      return;
    case 'liveness':
      break;
    case 'ike-sa-init':
    case 'ike-auth':
      break;
  }
  pump(step);
}

function onChildResponse(step: Step, purpose: Extract<RequestPurpose, { kind: 'create-child' | 'rekey-child' }>, incoming: Incoming): void {
  const checked = checkMessage(CREATE_CHILD_SA_RESPONSE, incoming.inner);
  const error = firstErrorNotify(incoming.inner);
  const rekeyOf = purpose.kind === 'rekey-child' ? purpose.oldInboundSpi : undefined;
  const abortRekey = (reason: string, notify?: string): void => {
    step.releaseSpi(purpose.offer.inboundSpi);
    const busy = notify === 'TEMPORARY_FAILURE';
    if (rekeyOf !== undefined) {
      // A crossing rekey of the peer's we answered is then simply the rekey (2.8.1).
      step.set({ collisions: step.ctx.collisions.filter((c) => !(c.kind === 'child' && c.oldInboundSpi === rekeyOf)) });
      const r = childRecord(step.ctx, rekeyOf);
      if (r !== undefined && r.state === 'rekeying') {
        updateChild(step, rekeyOf, { state: 'installed' });
        step.toChild(r.actorId, { type: 'REKEY_ABORTED', retryAtMs: step.now + (busy ? TEMPORARY_FAILURE_RETRY_MS : REKEY_RETRY_MS) });
      }
    }
    // The peer being busy (2.25) is no failure: the rekey is simply tried again.
    if (busy) step.info({ reason }, 'the peer is busy: Child SA rekey postponed');
    else childSaFailed(step, reason, notify);
  };
  if (!checked.ok) {
    abortRekey(describeViolation(checked.error));
    return;
  }
  const Nr = checked.value.Nonce?.data;
  if (error === undefined && (Nr === undefined || nonceProblem(Nr) !== undefined)) {
    abortRekey(Nr === undefined ? 'CREATE_CHILD_SA response without Nr' : (nonceProblem(Nr) as string));
    return;
  }
  const sa = step.ctx.security!;
  const outcome = completeChildResponse({
    offer: purpose.offer,
    sa,
    Ni: purpose.Ni,
    Nr: Nr === undefined ? Buffer.alloc(0) : Buffer.from(Nr),
    SA: checked.value.SA,
    KE: checked.value.KE,
    TSi: checked.value.TSi,
    TSr: checked.value.TSr,
    payloads: incoming.inner,
    errorNotify: error,
    registry: step.ports.registry,
  });
  switch (outcome.kind) {
    case 'created': {
      spawnChildSa(step, outcome.params, rekeyOf);
      if (rekeyOf !== undefined) {
        updateChild(step, rekeyOf, { replacedBy: outcome.params.inboundSpi });
        resolveChildCollision(step, rekeyOf, outcome.params);
      }
      return;
    }
    case 'invalid-ke':
      if (purpose.keRetries >= MAX_KE_RETRIES) {
        abortRekey(`INVALID_KE_PAYLOAD for group ${outcome.group} again`, 'INVALID_KE_PAYLOAD');
        return;
      }
      step.releaseSpi(purpose.offer.inboundSpi);
      step.info({ group: outcome.group }, 'peer wants another PFS group: retrying CREATE_CHILD_SA');
      if (rekeyOf !== undefined) {
        updateChild(step, rekeyOf, { state: 'installed' });
        enqueue(step, { kind: 'rekey-child', inboundSpi: rekeyOf, dhGroup: outcome.group, keRetries: purpose.keRetries + 1 }, { front: true });
      } else {
        enqueue(step, { kind: 'create-child' }, { front: true });
      }
      return;
    case 'refused':
      if (rekeyOf !== undefined && outcome.notify === nameOf(NotifyType, NotifyType.CHILD_SA_NOT_FOUND)) {
        step.releaseSpi(purpose.offer.inboundSpi);
        const r = childRecord(step.ctx, rekeyOf);
        if (r !== undefined) deleteChildLocally(step, r, 'the peer no longer has this Child SA');
        return;
      }
      abortRekey(outcome.reason, outcome.notify);
      return;
    case 'failed':
      abortRekey(outcome.reason);
      return;
  }
}

function onIkeRekeyResponse(step: Step, purpose: Extract<RequestPurpose, { kind: 'rekey-ike' }>, incoming: Incoming): void {
  const checked = checkMessage(CREATE_CHILD_SA_RESPONSE, incoming.inner);
  if (!checked.ok) {
    step.warn({ problem: describeViolation(checked.error) }, 'IKE SA rekey failed');
    if (!fallBackToPeerRekey(step)) retryIkeRekeyLater(step);
    return;
  }
  const outcome = completeIkeRekey(
    step.ctx.security!,
    purpose,
    { SA: checked.value.SA, Nonce: checked.value.Nonce?.data, KE: checked.value.KE, error: firstErrorNotify(incoming.inner) },
    step.ports.registry,
  );
  switch (outcome.kind) {
    case 'rekeyed':
      if (resolveIkeCollision(step, outcome.security, purpose.Ni, outcome.Nr)) return;
      handOver(step, outcome.security, 'initiator');
      return;
    case 'invalid-ke':
      if (fallBackToPeerRekey(step)) return;
      if (purpose.keRetries >= MAX_KE_RETRIES) {
        retryIkeRekeyLater(step);
        return;
      }
      enqueue(step, { kind: 'rekey-ike', dhGroup: outcome.group, keRetries: purpose.keRetries + 1 }, { front: true });
      return;
    case 'refused':
    case 'failed': {
      if (fallBackToPeerRekey(step)) return;
      const busy = outcome.kind === 'refused' && outcome.notify === 'TEMPORARY_FAILURE';
      step.warn({ reason: outcome.reason }, 'IKE SA rekey failed; retrying later');
      retryIkeRekeyLater(step, busy ? TEMPORARY_FAILURE_RETRY_MS : REKEY_RETRY_MS);
      return;
    }
  }
}

export function retryIkeRekeyLater(step: Step, afterMs = REKEY_RETRY_MS): void {
  const lt = step.ctx.lifetime;
  if (lt === undefined) return;
  const at = Math.min(step.now + afterMs, lt.expireAtMs);
  step.set({ lifetime: { ...lt, rekeyAtMs: at } });
  step.arm('rekey', at, { type: 'SOFT_EXPIRE' });
}

