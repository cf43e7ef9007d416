/**
 * Rekeying on the IKE SA: the move of everything to a rekeyed IKE SA (RFC 7296 2.18) and the
 * resolution of simultaneous rekeys (2.8.1 Child SAs, 2.8.2 IKE SA).
 *
 * Collisions. When both ends rekey the same SA at once, each answers the other's request, so two
 * new SAs exist where one was wanted. RFC 7296 2.8.1: "the SA created with the lowest of the four
 * nonces used in the two exchanges SHOULD be closed by the endpoint that created it" (the
 * initiator of that exchange); the initiator of the surviving exchange deletes the old SA, as
 * after any rekey. Both ends see the same four nonces once their own exchange completes, so they
 * reach the same verdict without talking. A peer's rekey that arrives after ours has already
 * replaced the SA is refused (TEMPORARY_FAILURE, 2.25); the peer then keeps what ours created.
 */
import { spiHex, localSpiOf, type IkeSaSecurity } from '../../src/ikev2/ike-sa-session.js';
import { retransmitSchedule } from '../../src/timers/retransmit.js';
import type { ChildSaParams } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import { spiText } from './child-sa.js';
import { childActorId, childRecord, liveChildren, updateChild } from './ike-sa-children.js';
import type { ChildRecord, IkeSaInput, PendingRequest, RedundantIkeSa, RekeyCollision } from './ike-sa-context.js';
import { enqueue } from './ike-sa-requests.js';
import { TIMER, type Step } from './ike-sa-step.js';

/**
 * How long the responder of an IKE SA rekey waits for the old SA's Delete before dropping it: at
 * least this, and at least as long as the peer may retransmit its rekey request (our answer may
 * have been lost; dropping the old SA early would leave the peer to declare us dead).
 */
export const HANDOVER_TIMEOUT_MS = 180_000;

/**
 * How long we hold the peer's redundant IKE SA of a simultaneous rekey (2.8.2) for its Delete once
 * the old SA is gone. The peer sends that Delete as soon as its own exchange completes, which is
 * before it can answer our Delete of the old SA; if the old SA went first, the peer's exchange can
 * no longer complete, and it never created the SA (strongSwan: "peer did not notice IKE_SA rekey
 * collision, abort active rekeying"). The grace covers reordering and one early retransmission.
 */
export const REDUNDANT_GRACE_MS = 5_000;

/** The lowest of the four nonces is in `a`'s pair (2.8.1). */
export function lowestNonceIn(a: { Ni: Buffer; Nr: Buffer }, b: { Ni: Buffer; Nr: Buffer }): boolean {
  const minA = Buffer.compare(a.Ni, a.Nr) <= 0 ? a.Ni : a.Nr;
  const minB = Buffer.compare(b.Ni, b.Nr) <= 0 ? b.Ni : b.Nr;
  return Buffer.compare(minA, minB) < 0;
}

export const ikeSaIdOf = (security: IkeSaSecurity): string => `ike-${spiHex(localSpiOf(security))}`;

/** Starts the IKE SA that `security` describes, under the supervisor, with or without our Child SAs. */
function startSuccessor(step: Step, security: IkeSaSecurity, options: { withChildren: boolean; redundant?: RedundantIkeSa }): string {
  const ctx = step.ctx;
  const id = ikeSaIdOf(security);
  const moved: ChildRecord[] = [];
  const queue: PendingRequest[] = [];
  if (options.withChildren) {
    for (const r of liveChildren(ctx)) {
      step.stopChild(r.actorId);
      const deadlines =
        r.deadlines ??
        // Still installing: the kernel call completes on its own; the successor takes it as installed.
        { rekeyAtMs: step.now + r.lifetime.rekeySeconds * 1000, expireAtMs: step.now + r.lifetime.lifetimeSeconds * 1000 };
      moved.push({
        ...r,
        actorId: childActorId(id, r.params.inboundSpi),
        state: r.state === 'rekeyed' ? 'rekeyed' : 'installed',
        deadlines,
        installedAtMs: r.installedAtMs ?? step.now,
      });
    }
    queue.push(...ctx.queue.filter((q) => q.kind === 'delete-child' || q.kind === 'rekey-child' || q.kind === 'create-child'));
    const remaining: Record<string, ChildRecord> = {};
    for (const [k, r] of Object.entries(ctx.children)) if (r.state === 'deleting') remaining[k] = r;
    step.set({ children: remaining, handedOver: true, queue: ctx.queue.filter((q) => !queue.includes(q)) });
  }
  const input: IkeSaInput = {
    id,
    kind: 'rekeyed',
    localSpi: localSpiOf(security),
    connection: ctx.connection,
    candidates: ctx.candidates,
    local: ctx.local,
    remote: ctx.remote,
    rekeyed: {
      security,
      children: moved.map((record) => ({ record })),
      nat: ctx.nat,
      peerFragmentation: ctx.peerFragmentation,
      peerId: ctx.peerId,
      predecessor: ctx.id,
      queue,
      redundant: options.redundant,
    },
  };
  step.toSupervisor({ type: 'IKE_SA_REKEYED', id: ctx.id, successor: input });
  return id;
}

/**
 * The IKE SA was rekeyed (2.18): the new SA takes the Child SAs; the old one only waits to be
 * deleted — by us when we initiated the rekey, by the peer otherwise.
 */
export function handOver(step: Step, security: IkeSaSecurity, ourRoleInRekey: 'initiator' | 'responder'): void {
  const id = startSuccessor(step, security, { withChildren: true });
  step.set({ replacedBy: id, collisions: [] });
  step.info({ successor: id, newSpiI: spiHex(security.spiI), newSpiR: spiHex(security.spiR) }, 'IKE SA rekeyed: Child SAs moved to the new IKE SA');
  step.report({ kind: 'ike-sa-rekeyed', connection: step.ctx.connection ?? '', id: step.ctx.id, newId: id, atMs: step.now });
  step.cancel(TIMER.rekey);
  step.cancel(TIMER.dpd);
  if (ourRoleInRekey === 'initiator') {
    enqueue(step, { kind: 'delete-ike', reason: 'rekeyed' });
  } else {
    const horizon = retransmitSchedule(step.retransmitPolicy()).giveUpAtOffsetMs + 10_000;
    step.arm(TIMER.handover, step.now + Math.max(HANDOVER_TIMEOUT_MS, horizon), { type: 'HANDOVER_TIMEOUT' });
  }
}

/** Our IKE SA rekey completed; returns true when a recorded collision decided what happens (2.8.2). */
export function resolveIkeCollision(step: Step, ours: IkeSaSecurity, Ni: Buffer, Nr: Buffer): boolean {
  const collision = step.ctx.collisions.find((c): c is Extract<RekeyCollision, { kind: 'ike' }> => c.kind === 'ike');
  if (collision === undefined) return false;
  const oursRedundant = lowestNonceIn({ Ni, Nr }, collision);
  step.info({ oursRedundant }, 'simultaneous IKE SA rekey: resolved on the lowest nonce (RFC 7296 2.8.2)');
  if (oursRedundant) {
    // The peer's new IKE SA survives and takes the Child SAs; the peer deletes the old one.
    // Ours is started only to be deleted at once, by us, its creator; it is never reported up.
    startSuccessor(step, ours, { withChildren: false, redundant: 'ours' });
    handOver(step, collision.security, 'responder');
  } else {
    // Ours survives and we delete the old SA. The peer's is held, never reported up, until the
    // peer deletes it; a peer that sees our Delete of the old SA before our answer to its rekey
    // aborts that rekey and never has the SA (strongSwan does), so it is dropped once the old SA
    // is gone and REDUNDANT_GRACE_MS passed without the peer's Delete.
    const held = startSuccessor(step, collision.security, { withChildren: false, redundant: 'peers' });
    handOver(step, ours, 'initiator');
    step.set({ heldRedundant: held });
  }
  return true;
}

/** Our IKE SA rekey failed: if the peer's crossed it, the peer's new SA is the one (2.8.2). */
export function fallBackToPeerRekey(step: Step): boolean {
  const collision = step.ctx.collisions.find((c): c is Extract<RekeyCollision, { kind: 'ike' }> => c.kind === 'ike');
  if (collision === undefined) return false;
  handOver(step, collision.security, 'responder');
  return true;
}

/**
 * Our rekey of a Child SA created `ours`; if the peer rekeyed the same SA meanwhile (we answered
 * it), the SA with the lowest nonce goes, deleted by its creator (2.8.1).
 */
export function resolveChildCollision(step: Step, oldInboundSpi: number, ours: ChildSaParams): void {
  const collision = step.ctx.collisions.find(
    (c): c is Extract<RekeyCollision, { kind: 'child' }> => c.kind === 'child' && c.oldInboundSpi === oldInboundSpi,
  );
  if (collision === undefined) return;
  step.set({ collisions: step.ctx.collisions.filter((c) => c !== collision) });
  const oursRedundant = lowestNonceIn({ Ni: ours.Ni, Nr: ours.Nr }, collision);
  step.info(
    { childSa: spiText(oldInboundSpi), ours: spiText(ours.inboundSpi), peers: spiText(collision.peerCreated), oursRedundant },
    'simultaneous Child SA rekey: resolved on the lowest nonce (RFC 7296 2.8.1)',
  );
  if (oursRedundant) {
    // Ours goes (we delete it once installed); the peer's replaces the old SA and the peer,
    // initiator of the surviving exchange, deletes the old one.
    updateChild(step, ours.inboundSpi, { redundant: true });
    updateChild(step, oldInboundSpi, { replacedBy: collision.peerCreated });
  } else {
    // The peer deletes the SA it created; we delete the old one after ours is installed.
    const peers = childRecord(step.ctx, collision.peerCreated);
    if (peers !== undefined) updateChild(step, collision.peerCreated, { redundant: false });
  }
}

