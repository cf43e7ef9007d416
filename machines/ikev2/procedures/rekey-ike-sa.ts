/**
 * Rekeying the IKE SA (RFC 7296 1.3.2, 2.18): CREATE_CHILD_SA with an IKE proposal, new SPIs and
 * a fresh Diffie-Hellman exchange; the new IKE SA's keys come from the old SK_d. The new SA takes
 * the Child SAs (hand-over); the old one is then deleted by the initiator of the rekey.
 *
 * Collision (2.8.2): both ends rekey at once, each answers the other, two new IKE SAs exist. The
 * one created with the lowest of the four nonces is redundant and is closed by its creator; the
 * other takes the Child SAs. A peer whose Delete of the old SA reaches us before our exchange
 * completed did not notice the collision: its new SA is the one (strongSwan aborts its own rekey
 * the same way).
 *
 * Chart: ours in `window.rekeyingIke` (entry `start` → `awaitingResponse`, RESPONSE `onResponse`;
 * the peer's crossing rekey moves it to `simultaneous`, RESPONSE `onResponseAfterCollision`); the
 * peer's in `answering` (PEER_REQUEST `answerPeer` / `answerPeerCrossingOurs`); the hand-over
 * moves `succession` from `current` to `handingOver` (IKE_SA_HANDED_OVER).
 */
import { acceptIkeRekey, completeIkeRekey, CREATE_CHILD_SA_RESPONSE, ikeRekeyRequestPayloads } from '../../../src/ikev2/exchanges/create-child-sa.js';
import { checkMessage, describeViolation, firstErrorNotify } from '../../../src/ikev2/exchanges/message-rules.js';
import { MAX_KE_RETRIES, offerProposals, preferredDhGroup } from '../../../src/ikev2/exchanges/negotiation.js';
import { type IkeSaSecurity } from '../../../src/ikev2/ike-sa-session.js';
import { HARD_EXPIRE, SOFT_EXPIRE } from '../../../src/timers/lifetime.js';
import { retransmitSchedule } from '../../../src/timers/retransmit.js';
import { ExchangeType, ikeSpiHex } from '../../../src/wire/index.js';
import type { IkeSaEvent } from '../ike-sa-context.js';
import { TIMER, type Step } from '../ike-sa-step.js';
import type { PeerRequest } from '../ike-sa-messages.js';
import { answer } from '../peer-request.js';
import { enqueue, finishRequest, sendRequest, takeNextRequest } from '../request-window.js';
import { startSuccessor } from './ike-sa-successor.js';
import { lowestNonceIn } from './lowest-nonce.js';
import { REKEY_RETRY_MS, TEMPORARY_FAILURE_RETRY_MS } from './rekey-child-sa.js';

/**
 * How long the responder of an IKE SA rekey waits for the old SA's Delete before dropping it: at
 * least this, and at least as long as the peer may retransmit its rekey request (our answer may
 * have been lost; dropping the old SA early would leave the peer to declare us dead).
 */
export const HANDOVER_TIMEOUT_MS = 180_000;

/** SOFT_EXPIRE (2.8) or a REKEY_IKE_SA command. */
export function request(step: Step, event: IkeSaEvent): void {
  if (event.type === 'SOFT_EXPIRE') step.info({}, 'IKE SA soft lifetime reached: rekey');
  armHardLifetime(step);
  enqueue(step, { kind: 'rekey-ike' });
}

/**
 * From the rekey on, the SA also waits for its hard lifetime (2.8), which deletes it should it
 * still be there then: a rekey that keeps failing, or a handover whose Delete never completes.
 * Until the rekey starts the rekey timer (due first) is enough. Arming an armed timer replaces
 * it: no harm in doing it twice.
 */
export function armHardLifetime(step: Step): void {
  const lifetime = step.ctx.lifetime;
  if (lifetime !== undefined) step.arm(TIMER.expire, lifetime.expireAtMs, HARD_EXPIRE);
}

/** Entry of `window.rekeyingIke`: the request, with a new SPI, nonce and DH value. */
export function start(step: Step): void {
  const pending = takeNextRequest(step, 'rekey-ike');
  const conn = step.connection();
  if (pending === undefined || conn === undefined) {
    finishRequest(step);
    return;
  }
  const newSpi = step.ports.random(8);
  const offer = offerProposals(conn.ikePolicy.proposalSets, 'ike', newSpi, step.ports.registry);
  const group = pending.dhGroup ?? preferredDhGroup(offer);
  const dh = group === undefined ? undefined : step.ports.registry.dhGroup(group);
  if (dh === undefined) {
    finishRequest(step);
    return;
  }
  const keyPair = dh.generateKeyPair(step.ports.random);
  const Ni = step.nonce();
  step.info({ newSpi: ikeSpiHex(newSpi) }, 'rekeying IKE SA');
  step.set({ ikeRekey: { newSpi, offer, keyPair, Ni, keRetries: pending.keRetries ?? 0 } });
  sendRequest(step, ExchangeType.CREATE_CHILD_SA, ikeRekeyRequestPayloads({ newSpi, offer, keyPair, Ni }));
}

type Outcome = ReturnType<typeof completeIkeRekey> | { readonly kind: 'malformed'; readonly reason: string };

function readResponse(step: Step, event: IkeSaEvent): Outcome | undefined {
  const rekey = step.ctx.ikeRekey;
  if (event.type !== 'RESPONSE' || rekey === undefined) return undefined;
  const inner = event.response.inner;
  const checked = checkMessage(CREATE_CHILD_SA_RESPONSE, inner);
  if (!checked.ok) return { kind: 'malformed', reason: describeViolation(checked.error) };
  return completeIkeRekey(step.ctx.security!, rekey, { SA: checked.value.SA, Nonce: checked.value.Nonce?.data, KE: checked.value.KE, error: firstErrorNotify(inner) }, step.ports.registry);
}

/** RESPONSE in `rekeyingIke.awaitingResponse`: hand over, retry with the group asked for, or retry later. */
export function onResponse(step: Step, event: IkeSaEvent): void {
  const outcome = readResponse(step, event);
  const rekey = step.ctx.ikeRekey;
  if (outcome === undefined || rekey === undefined) return;
  step.set({ ikeRekey: undefined });
  switch (outcome.kind) {
    case 'rekeyed':
      handOver(step, outcome.security, 'us');
      break;
    case 'invalid-ke':
      if (rekey.keRetries >= MAX_KE_RETRIES) retryLater(step);
      else enqueue(step, { kind: 'rekey-ike', dhGroup: outcome.group, keRetries: rekey.keRetries + 1 }, { front: true });
      break;
    case 'malformed':
      step.warn({ problem: outcome.reason }, 'IKE SA rekey failed');
      retryLater(step);
      break;
    case 'refused':
    case 'failed': {
      const busy = outcome.kind === 'refused' && outcome.notify === 'TEMPORARY_FAILURE';
      step.warn({ reason: outcome.reason }, 'IKE SA rekey failed; retrying later');
      retryLater(step, busy ? TEMPORARY_FAILURE_RETRY_MS : REKEY_RETRY_MS);
      break;
    }
  }
  finishRequest(step);
}

/** RESPONSE in `rekeyingIke.simultaneous`: the lowest nonce decides which new SA survives (2.8.2). */
export function onResponseAfterCollision(step: Step, event: IkeSaEvent): void {
  const outcome = readResponse(step, event);
  const rekey = step.ctx.ikeRekey;
  const collision = rekey?.collision;
  if (outcome === undefined || rekey === undefined || collision === undefined) return;
  step.set({ ikeRekey: undefined });
  if (outcome.kind !== 'rekeyed') {
    // Ours failed: the peer's new SA, which we already answered, is the one.
    if (outcome.kind === 'malformed') step.warn({ problem: outcome.reason }, 'IKE SA rekey failed');
    handOver(step, collision.security, 'peer');
  } else {
    const oursRedundant = lowestNonceIn({ Ni: rekey.Ni, Nr: outcome.Nr }, collision);
    step.info({ oursRedundant }, 'simultaneous IKE SA rekey: resolved on the lowest nonce (RFC 7296 2.8.2)');
    if (oursRedundant) {
      // The peer's new IKE SA survives and takes the Child SAs; the peer deletes the old one.
      // Ours is started only to be deleted at once, by us, its creator; it is never reported up.
      startSuccessor(step, outcome.security, { withChildren: false, redundant: 'ours' });
      handOver(step, collision.security, 'peer');
    } else {
      // Ours survives and we delete the old SA. The peer's is held, never reported up, until the
      // peer deletes it; a peer that sees our Delete of the old SA before our answer to its rekey
      // aborts that rekey and never has the SA (strongSwan does), so it is dropped once the old SA
      // is gone and a grace period passed without the peer's Delete (redundant-ike-sa.ts).
      const held = startSuccessor(step, collision.security, { withChildren: false, redundant: 'peers' });
      handOver(step, outcome.security, 'us');
      step.set({ heldRedundant: held });
    }
  }
  finishRequest(step);
}

/** The peer's rekey (PEER_REQUEST in `answering`, nothing of ours in the way): answer and hand over. */
export function answerPeer(step: Step, event: IkeSaEvent): void {
  const accepted = acceptPeer(step, event);
  if (accepted !== undefined) handOver(step, accepted.security, 'peer');
}

/** The peer's rekey while ours is in flight: answer it and decide when ours completes (2.8.2). */
export function answerPeerCrossingOurs(step: Step, event: IkeSaEvent): void {
  const accepted = acceptPeer(step, event);
  const rekey = step.ctx.ikeRekey;
  if (accepted === undefined || rekey === undefined) return;
  step.set({ ikeRekey: { ...rekey, collision: accepted } });
  step.info({}, 'the peer rekeys the IKE SA while we do: collision');
  step.raise({ type: 'IKE_REKEY_COLLISION' });
}

function acceptPeer(step: Step, event: IkeSaEvent): { security: IkeSaSecurity; Ni: Buffer; Nr: Buffer } | undefined {
  const request: PeerRequest | undefined = event.type === 'PEER_REQUEST' ? event.request : undefined;
  if (request?.kind !== 'rekey-ike') return undefined;
  const conn = step.connection();
  const settings = step.ports.config.current().settings;
  if (conn === undefined) return undefined;
  const r = acceptIkeRekey(step.ctx.security!, request.message, conn.ikePolicy.proposalSets, step.ports.random(8), settings.nonceLength, step.ports.registry, step.ports.random);
  if (r.kind === 'refused') {
    step.warn({ reason: r.reason }, "refused the peer's IKE SA rekey");
    answer(step, request, [r.notify]);
    return undefined;
  }
  answer(step, request, r.responsePayloads);
  return { security: r.security, Ni: r.Ni, Nr: r.Nr };
}

/**
 * The peer deleted the old IKE SA while our rekey crossed its own (`rekeyingIke.simultaneous`):
 * it did not notice the collision (our request reached it after it had finished its own, or it
 * won and deleted first). Its new SA is the survivor (2.8.2) and our Child SAs go there, not away;
 * our exchange never completes, so we never have its SA (the peer drops what it created for us,
 * as we do, after a grace period).
 */
export function peerDidNotNotice(step: Step): void {
  const collision = step.ctx.ikeRekey?.collision;
  if (collision === undefined) return;
  step.set({ ikeRekey: undefined });
  handOver(step, collision.security, 'peer');
  step.info({}, 'the peer deleted the old IKE SA during our rekey: it did not notice the collision; abort our rekey, its new IKE SA is the one (RFC 7296 2.8.2)');
  step.set({ endReason: 'rekeyed', endCause: 'rekeyed' });
}

/**
 * The IKE SA was rekeyed (2.18): the new SA takes the Child SAs and the Child SA work queued
 * here; this one only waits to be deleted, by us when we initiated the surviving rekey, by the
 * peer otherwise.
 */
function handOver(step: Step, security: IkeSaSecurity, deletedBy: 'us' | 'peer'): void {
  const id = startSuccessor(step, security, { withChildren: true });
  step.info({ successor: id, newSpiI: ikeSpiHex(security.spiI), newSpiR: ikeSpiHex(security.spiR) }, 'IKE SA rekeyed: Child SAs moved to the new IKE SA');
  step.report({ kind: 'ike-sa-rekeyed', connection: step.ctx.connection ?? '', id: step.ctx.id, newId: id, atMs: step.now });
  step.cancel(TIMER.rekey);
  step.cancel(TIMER.dpd);
  armHardLifetime(step);
  // Nothing else of ours starts on this SA any more: only its Delete.
  step.set({ queue: step.ctx.queue.filter((q) => q.kind === 'delete-ike'), endCause: 'rekeyed' });
  if (deletedBy === 'us') {
    enqueue(step, { kind: 'delete-ike', reason: 'rekeyed' });
  } else {
    const horizon = retransmitSchedule(step.retransmitPolicy()).giveUpAtOffsetMs + 10_000;
    step.arm(TIMER.handover, step.now + Math.max(HANDOVER_TIMEOUT_MS, horizon), { type: 'HANDOVER_TIMEOUT' });
  }
  step.raise({ type: 'IKE_SA_HANDED_OVER', deletedBy });
}

/** Our IKE SA rekey failed: try again later, within the hard lifetime. */
function retryLater(step: Step, afterMs = REKEY_RETRY_MS): void {
  const lt = step.ctx.lifetime;
  if (lt === undefined) return;
  const at = Math.min(step.now + afterMs, lt.expireAtMs);
  step.set({ lifetime: { ...lt, rekeyAtMs: at } });
  step.arm(TIMER.rekey, at, SOFT_EXPIRE);
}
