/**
 * The IKE SA a rekey created (RFC 7296 2.18), started under the supervisor: with this SA's Child
 * SAs and their queued work when it takes over, or alone when it is the redundant SA of a
 * collision (2.8.2).
 */
import { localSpiOf, type IkeSaSecurity } from '../../../src/ikev2/ike-sa-session.js';
import { childActorId, liveChildren } from '../child-records.js';
import type { ChildRecord, IkeSaInput, PendingRequest, RedundantIkeSa } from '../ike-sa-context.js';
import { ikeSaActorId } from '../ike-sa-id.js';
import type { Step } from '../ike-sa-step.js';
import { sendHeldAnswer } from './rekey-child-sa.js';

/** Starts the IKE SA that `security` describes; returns its actor id. */
export function startSuccessor(step: Step, security: IkeSaSecurity, options: { withChildren: boolean; redundant?: RedundantIkeSa }): string {
  const ctx = step.ctx;
  const localSpi = localSpiOf(security);
  const id = ikeSaActorId(localSpi);
  const moved: ChildRecord[] = [];
  const queue: PendingRequest[] = [];
  if (options.withChildren) {
    // Our answer to the peer's Child SA rekey waited for the new inbound SA; that SA moves on
    // with its install under way (completing on its own, as below), so the answer leaves now.
    sendHeldAnswer(step);
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
    // Child SAs being deleted finish here; the others live on in the successor.
    step.set({ children: ctx.children.filter((r) => r.state === 'deleting'), queue: ctx.queue.filter((q) => !queue.includes(q)) });
  }
  const input: IkeSaInput = {
    id,
    kind: 'rekeyed',
    localSpi,
    connection: ctx.connection,
    candidates: ctx.candidates,
    local: ctx.local,
    remote: ctx.remote,
    rekeyed: {
      security,
      children: moved,
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
