/**
 * The IKE SA's life once established: lifetimes (soft → rekey, hard → delete, RFC 7296 2.8),
 * liveness checks (2.4), retransmission give-up, commands from the engine, what Child SA reports
 * change, and the way out (closing: every Child SA removed from the kernel, then the end).
 */
import { lifetimeDeadlines } from '../../src/timers/lifetime.js';
import { retransmitSchedule } from '../../src/timers/retransmit.js';
import { spiHex } from '../../src/ikev2/ike-sa-session.js';
import { IntegId, type EncrId } from '../../src/wire/index.js';
import { spiText } from './child-sa.js';
import { childInput, childRecord, deleteChildLocally, liveChildren, removeChild, reportedChild, setChild, updateChild } from './ike-sa-children.js';
import type { IkeSaEvent } from './ike-sa-context.js';
import { failNegotiation } from './ike-sa-handshake.js';
import { intake, type MessageEvent } from './ike-sa-intake.js';
import { onRequest } from './ike-sa-peer-requests.js';
import { enqueue, onResponse, pump } from './ike-sa-requests.js';
import { HANDOVER_TIMEOUT_MS, REDUNDANT_GRACE_MS } from './ike-sa-rekey.js';
import { TIMER, logBindings, releaseOffer, retransmitOrGiveUp, type Step } from './ike-sa-step.js';

/** Closing waits this long for the Child SAs to leave the kernel. */
export const CLOSE_TIMEOUT_MS = 10_000;
/**
 * After answering the peer's Delete of the IKE SA, the SA stays this long to answer retransmissions
 * of that Delete from its cache (2.1), in case our answer was lost.
 */
export const LINGER_MS = 60_000;

/** Entry of `established`. */
export function onEstablished(step: Step): void {
  const conn = step.connection();
  if (conn === undefined) {
    step.set({ endReason: 'connection removed' });
    step.raise({ type: 'IKE_SA_ENDED' });
    return;
  }
  const lt = conn.ikePolicy.lifetime;
  const lifetime = lifetimeDeadlines(
    { rekeySeconds: lt.rekeySeconds, lifetimeSeconds: lt.lifetimeSeconds, jitterSeconds: lt.jitterSeconds },
    step.now,
    step.ports.random,
  );
  step.set({ lifetime, establishedAtMs: step.now, lastHeardMs: step.now });
  step.arm(TIMER.rekey, lifetime.rekeyAtMs, { type: 'SOFT_EXPIRE' });
  step.arm(TIMER.expire, lifetime.expireAtMs, { type: 'HARD_EXPIRE' });
  if (conn.ikePolicy.dpd !== undefined) step.arm(TIMER.dpd, step.now + conn.ikePolicy.dpd.intervalSeconds * 1000, { type: 'DPD_DUE' });

  const adoption = step.ctx.adoption;
  if (adoption !== undefined) {
    // Child SAs moved here from the IKE SA we replace (2.18): restart their actors as installed.
    const pollMs = step.ports.config.current().settings.byteLifetimePollSeconds * 1000;
    step.set({ adoption: undefined });
    for (const { record } of adoption.children) {
      setChild(step, record);
      step.spawnChild(childInput(step.ctx, record, pollMs));
    }
  }
  const ctx = step.ctx;
  keylogIkeSa(step);
  step.report({
    kind: 'ike-sa-up',
    connection: conn.name,
    id: ctx.id,
    spiI: spiHex(ctx.spiI),
    spiR: spiHex(ctx.spiR),
    role: ctx.role,
    rekeyed: ctx.predecessor !== undefined,
    rekeyAtMs: lifetime.rekeyAtMs,
    expireAtMs: lifetime.expireAtMs,
    atMs: step.now,
  });
  step.toSupervisor({ type: 'IKE_SA_ESTABLISHED', id: ctx.id, connection: conn.name, peerId: ctx.peerId });
  pump(step);
}

/** Keys for Wireshark's ikev2_decryption_table (the keylog port), for every IKE SA with keys. */
function keylogIkeSa(step: Step): void {
  const sa = step.ctx.security;
  if (sa === undefined) return;
  const t = sa.transforms;
  step.keylog({
    SPIi: sa.spiI,
    SPIr: sa.spiR,
    SK_ei: sa.keys.SK_ei,
    SK_er: sa.keys.SK_er,
    SK_ai: sa.keys.SK_ai,
    SK_ar: sa.keys.SK_ar,
    encryption: { id: t.encr as EncrId, ...(t.encrKeyLengthBits === undefined ? {} : { keyLengthBits: t.encrKeyLengthBits }) },
    integrity: (t.integ ?? IntegId.NONE) as IntegId,
  });
}

/**
 * Entry of `redundant`: the SA of a simultaneous IKE SA rekey created with the lowest nonce
 * (RFC 7296 2.8.2). It never becomes established for the user (no `ike-sa-up`, not in status):
 * the creator closes it. Ours we delete at once; the peer's we hold to answer its Delete, until
 * REDUNDANT_GRACE_MS after the old SA is gone (the peer may have aborted its rekey and never have
 * it), and at most as long as the responder of a rekey waits for the old SA's Delete.
 */
export function onRedundant(step: Step): void {
  keylogIkeSa(step); // the creator's Delete travels on it: let Wireshark decrypt it too
  if (step.ctx.redundant === 'ours') {
    step.info({}, 'deleting the redundant IKE SA we created (RFC 7296 2.8.2)');
    enqueue(step, { kind: 'delete-ike', reason: 'redundant after a simultaneous IKE SA rekey (RFC 7296 2.8.2)' });
    pump(step);
    return;
  }
  step.info({}, "holding the peer's redundant IKE SA until the peer deletes it (RFC 7296 2.8.2)");
  const horizon = retransmitSchedule(step.retransmitPolicy()).giveUpAtOffsetMs + 10_000;
  step.arm(TIMER.redundant, step.now + Math.max(HANDOVER_TIMEOUT_MS, horizon), { type: 'REDUNDANT_TIMEOUT' });
}

/** The old SA of the collision is gone: the peer's Delete of this one comes now or never. */
export function onPredecessorGone(step: Step): void {
  if (step.ctx.redundant !== 'peers') return;
  step.arm(TIMER.redundant, step.now + REDUNDANT_GRACE_MS, { type: 'REDUNDANT_TIMEOUT' });
}

/** REDUNDANT_TIMEOUT: the peer never deleted its redundant SA; it aborted its rekey. Dropped silently. */
export function onRedundantTimeout(step: Step): void {
  step.info({}, "the peer did not delete its redundant IKE SA: it aborted its rekey and has none; dropped without a Delete (RFC 7296 2.8.2)");
  step.set({ endReason: 'redundant after a simultaneous IKE SA rekey; the peer never had it (RFC 7296 2.8.2)' });
}

export function onMessage(step: Step, event: MessageEvent): void {
  const incoming = intake(step, event);
  if (incoming === undefined) return;
  if (incoming.kind === 'response') onResponse(step, incoming);
  else onRequest(step, incoming);
  pump(step);
}

/** RETRANSMIT: resend, or give up (2.1: "the IKE SA is deleted" when a peer stays silent). */
export function onRetransmit(step: Step, messageId: number): void {
  const o = step.ctx.outstanding;
  if (!retransmitOrGiveUp(step, messageId) || o === undefined) return;
  releaseOffer(step, o.purpose);
  step.cancel(TIMER.retransmit);
  step.set({ outstanding: undefined });
  switch (o.purpose.kind) {
    case 'ike-sa-init':
    case 'ike-auth':
      failNegotiation(step, `no answer to ${o.purpose.kind === 'ike-sa-init' ? 'IKE_SA_INIT' : 'IKE_AUTH'} after ${o.attempt} retransmissions`);
      return;
    case 'delete-ike':
      step.set({ endReason: step.ctx.endReason ?? o.purpose.reason });
      step.raise({ type: 'IKE_SA_ENDED' });
      return;
    default:
      step.warn({ exchange: o.purpose.kind, retransmissions: o.attempt }, 'peer not responding: IKE SA and its Child SAs are deleted (dead peer)');
      step.set({ endReason: `peer not responding (${o.purpose.kind} unanswered)` });
      step.raise({ type: 'IKE_SA_ENDED' });
  }
}

export function onSoftExpire(step: Step): void {
  step.info({}, 'IKE SA soft lifetime reached: rekey');
  enqueue(step, { kind: 'rekey-ike' });
  pump(step);
}

/** Deletes the IKE SA at the peer (and so all its Child SAs), then locally. */
export function terminate(step: Step, reason: string): void {
  if (step.ctx.outstanding?.purpose.kind === 'delete-ike') return;
  step.set({ queue: [{ kind: 'delete-ike', reason }], endReason: reason });
  pump(step);
}

export function onDpdDue(step: Step): void {
  const dpd = step.connection()?.ikePolicy.dpd;
  if (dpd === undefined) return;
  const intervalMs = dpd.intervalSeconds * 1000;
  const due = step.ctx.lastHeardMs + intervalMs;
  if (step.now >= due && step.ctx.outstanding === undefined) {
    enqueue(step, { kind: 'liveness' });
    pump(step);
    step.arm(TIMER.dpd, step.now + intervalMs, { type: 'DPD_DUE' });
  } else {
    step.arm(TIMER.dpd, Math.max(due, step.now + 1000), { type: 'DPD_DUE' });
  }
}

export function onCommand(step: Step, event: IkeSaEvent): void {
  switch (event.type) {
    case 'CREATE_CHILD_SA':
      enqueue(step, { kind: 'create-child' });
      break;
    case 'REKEY_IKE_SA':
      enqueue(step, { kind: 'rekey-ike' });
      break;
    case 'REKEY_CHILD_SA':
      for (const r of liveChildren(step.ctx)) {
        if (r.state !== 'installed') continue;
        if (event.inboundSpi === undefined || event.inboundSpi === r.params.inboundSpi) enqueue(step, { kind: 'rekey-child', inboundSpi: r.params.inboundSpi });
      }
      break;
    case 'DELETE_CHILD_SA':
      if (childRecord(step.ctx, event.inboundSpi) !== undefined) {
        enqueue(step, { kind: 'delete-child', inboundSpis: [event.inboundSpi], reason: 'deleted by request' });
      }
      break;
    default:
      return;
  }
  pump(step);
}

/** What a Child SA's report changes in its record and in our work queue. */
export function onChildReport(step: Step, event: IkeSaEvent): void {
  switch (event.type) {
    case 'CHILD_SA_INSTALLED': {
      const record = reportedChild(step.ctx, event);
      if (record === undefined) return;
      const updated = updateChild(step, event.inboundSpi, {
        state: record.state === 'installing' ? 'installed' : record.state,
        deadlines: event.deadlines,
        installedAtMs: event.installedAtMs,
      });
      if (updated === undefined) return;
      if (updated.redundant === true) {
        enqueue(step, { kind: 'delete-child', inboundSpis: [updated.params.inboundSpi], reason: 'redundant after a simultaneous rekey (RFC 7296 2.8.1)' });
      } else if (updated.rekeyOf !== undefined) {
        // Make before break (2.8): the new SA is in place, the old one can go.
        const old = childRecord(step.ctx, updated.rekeyOf);
        if (old !== undefined && old.state !== 'deleting') {
          updateChild(step, old.params.inboundSpi, { state: 'rekeyed', replacedBy: old.replacedBy ?? updated.params.inboundSpi });
          step.toChild(old.actorId, { type: 'REKEYED' });
          const weWin = updated.params.exchangeRole === 'initiator' && old.replacedBy !== undefined && old.replacedBy === updated.params.inboundSpi;
          if (weWin || (updated.params.exchangeRole === 'initiator' && old.replacedBy === undefined)) {
            enqueue(step, { kind: 'delete-child', inboundSpis: [old.params.inboundSpi], reason: 'rekeyed' });
          }
        }
      }
      break;
    }
    case 'CHILD_SA_INSTALL_FAILED': {
      const record = reportedChild(step.ctx, event);
      if (record === undefined) return;
      updateChild(step, event.inboundSpi, { state: 'deleting' });
      enqueue(step, { kind: 'delete-child', inboundSpis: [event.inboundSpi], reason: `kernel refused the SA: ${event.reason}` });
      break;
    }
    case 'CHILD_SA_REKEY_DUE': {
      const record = reportedChild(step.ctx, event);
      if (record === undefined || record.state !== 'installed') return;
      enqueue(step, { kind: 'rekey-child', inboundSpi: event.inboundSpi });
      break;
    }
    case 'CHILD_SA_EXPIRED': {
      const record = reportedChild(step.ctx, event);
      if (record === undefined) return;
      step.info({ childSa: spiText(event.inboundSpi) }, 'Child SA hard lifetime reached: deleted');
      // The actor removes itself from the kernel; the peer is told (1.4.1).
      updateChild(step, event.inboundSpi, { state: 'deleting' });
      enqueue(step, { kind: 'delete-child', inboundSpis: [event.inboundSpi], reason: 'hard lifetime' });
      break;
    }
    case 'CHILD_SA_DELETED': {
      const record = childRecord(step.ctx, event.inboundSpi);
      if (record === undefined) return;
      step.stopChild(record.actorId);
      step.releaseSpi(event.inboundSpi);
      removeChild(step, event.inboundSpi);
      if (Object.keys(step.ctx.children).length === 0) step.raise({ type: 'CHILDREN_GONE' });
      return;
    }
    default:
      return;
  }
  pump(step);
}

/** Entry of `closing`: stop all work and take every Child SA out of the kernel. */
export function beginClosing(step: Step): void {
  for (const name of [TIMER.retransmit, TIMER.rekey, TIMER.expire, TIMER.dpd, TIMER.halfOpen, TIMER.handover, TIMER.redundant]) step.cancel(name);
  const held = step.ctx.heldRedundant;
  if (held !== undefined) {
    step.set({ heldRedundant: undefined });
    step.toSupervisor({ type: 'IKE_SA_PREDECESSOR_GONE', id: step.ctx.id, successor: held });
  }
  releaseOffer(step, step.ctx.outstanding?.purpose);
  step.releaseSpi(step.ctx.handshake?.childOffer?.inboundSpi);
  step.set({ outstanding: undefined, queue: [] });
  const reason = step.ctx.endReason ?? 'IKE SA deleted';
  for (const r of Object.values(step.ctx.children)) deleteChildLocally(step, r, reason);
  if (Object.keys(step.ctx.children).length === 0) step.raise({ type: 'CHILDREN_GONE' });
  else step.arm(TIMER.close, step.now + CLOSE_TIMEOUT_MS, { type: 'CLOSE_TIMEOUT' });
}

/**
 * Entry of `lingering`: the SA is gone for the peer (it deleted it, 1.4.1) and so for the user:
 * `ike-sa-down` now, not when lingering ends. Only retransmitted requests are still answered, from
 * the cache (2.1), until LINGER_MS.
 */
export function beginLingering(step: Step): void {
  reportDown(step);
  step.arm(TIMER.close, step.now + LINGER_MS, { type: 'CLOSE_TIMEOUT' });
}

/** `ike-sa-down` for an SA that was reported up, once (at lingering or at the end). */
function reportDown(step: Step): void {
  const ctx = step.ctx;
  if (ctx.establishedAtMs === undefined || ctx.downReported) return;
  const reason = ctx.endReason ?? 'closed';
  step.set({ downReported: true });
  step.info({ reason }, ctx.replacedBy !== undefined ? 'old IKE SA closed after rekey' : 'IKE SA closed');
  step.report({ kind: 'ike-sa-down', connection: logBindings(ctx).connection, id: ctx.id, spiI: spiHex(ctx.spiI), spiR: spiHex(ctx.spiR), reason, atMs: step.now });
}

/** Entry of `closed` (final). */
export function onClosed(step: Step): void {
  step.cancelAllTimers();
  reportDown(step);
  step.toSupervisor({ type: 'IKE_SA_CLOSED', id: step.ctx.id });
}
