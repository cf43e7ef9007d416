/**
 * What is left to do when an IKE SA actor threw (XState stopped it; its Child SA actors may still
 * run): from its last good snapshot, work out the cleanup the SA would have done in `closing`
 * (closing.ts), had it been able to.
 *
 * - its timers are cancelled, its procedures' unused inbound SPIs and its Child SAs' SPIs go back;
 * - each Child SA leaves the kernel: a live Child SA actor is told DELETE (it removes its own SAs
 *   and policies and ends, as when its IKE SA closes); one whose actor is dead too (it threw) is
 *   deleted by a `delete-child-sa` effect made here from its record; the policies stay until the
 *   last Child SA of the same reqid goes, as keepPoliciesFor decides in the IKE SA;
 * - a peer's redundant SA this one held (2.8.2) stops waiting;
 * - the user hears `ike-sa-down` (it was established) or `ike-sa-failed` (it was not), so an
 *   `ikekm up` waiting for it answers at once;
 * - the error is logged with the SA's connection and SPIs.
 */
import { sendTo, type AnyActorRef } from 'xstate';
import { espSpiNumber } from '../../src/wire/index.js';
import { performAction, type Effect } from '../effects.js';
import type { ChildSaEvent } from '../ikev2/child-sa-context.js';
import type { ChildRecord, IkeSaContext, IkeSaEvent } from '../ikev2/ike-sa-context.js';
import { logBindings } from '../ikev2/ike-sa-step.js';
import type { IkeSaEntry } from './supervisor-context.js';

export interface FailedIkeSa {
  readonly entry: IkeSaEntry;
  /** The actor that threw (its snapshot keeps the context of its last completed step). */
  readonly actor: AnyActorRef | undefined;
  readonly error: unknown;
  readonly now: number;
  readonly actorOf: (id: string) => AnyActorRef | undefined;
}

/** XState actions (effects through `perform`, events to actors) for the supervisor to enqueue. */
export type Cleanup = never;

const perform = (effect: Effect): Cleanup => performAction(effect);
const tell = (actor: AnyActorRef, event: ChildSaEvent | IkeSaEvent): Cleanup => sendTo(actor, event) as never;

const describe = (error: unknown): { message: string; stack?: string } => {
  if (error instanceof Error) return { message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack.split('\n').slice(0, 8).join('\n') }) };
  return { message: String(error) };
};

export function cleanUpAfterFailedIkeSa(failed: FailedIkeSa): Cleanup[] {
  const { entry, actor, now } = failed;
  const snapshot = actor?.getSnapshot() as { context?: IkeSaContext; children?: Record<string, AnyActorRef | undefined> } | undefined;
  const ctx = snapshot?.context;
  const { message, stack } = describe(failed.error);
  const reason = `internal error: ${message}`;
  const out: Cleanup[] = [];
  const bindings = ctx !== undefined ? logBindings(ctx) : { connection: entry.connection ?? '', spiI: '', spiR: '', ikeSa: entry.id };
  out.push(
    perform({
      kind: 'log',
      level: 'error',
      bindings: { component: 'supervisor', ...bindings },
      fields: { ikeSa: entry.id, error: message, ...(stack === undefined ? {} : { stack }) },
      message: 'IKE SA failed with an internal error: torn down, its Child SAs deleted from the kernel',
    }),
  );
  out.push(perform({ kind: 'cancel-timers', owner: entry.id }));
  if (ctx === undefined) {
    // It failed before its first step: nothing of it exists beyond the supervisor's entry.
    out.push(perform({ kind: 'report', event: { kind: 'ike-sa-failed', connection: entry.connection ?? '', id: entry.id, reason, atMs: now } }));
    return out;
  }
  const local = ctx.local.address;
  for (const spi of [ctx.childCreation?.offer?.inboundSpi, ctx.childRekey?.offer?.inboundSpi, ctx.handshake?.childOffer?.inboundSpi]) {
    if (spi !== undefined) out.push(perform({ kind: 'release-spi', spi: typeof spi === 'number' ? spi : espSpiNumber(spi), local }));
  }
  const records = ctx.children;
  const leaving = (r: ChildRecord, i: number) => records.slice(i + 1).some((o) => o.state !== 'deleting' && o.placement.reqid === r.placement.reqid);
  records.forEach((r, i) => {
    const child = snapshot?.children?.[r.actorId] ?? failed.actorOf(r.actorId);
    const alive = child !== undefined && (child.getSnapshot() as { status?: string }).status === 'active';
    if (alive && r.state === 'deleting') return; // already on its way out of the kernel
    const keepPolicies = leaving(r, i);
    if (alive) {
      out.push(tell(child, { type: 'DELETE', reason, keepPolicies }));
    } else {
      out.push(perform({ kind: 'cancel-timers', owner: r.actorId }));
      out.push(perform({ kind: 'delete-child-sa', replyTo: r.actorId, params: r.params, placement: r.placement, withOutbound: r.outboundPending !== true, keepPolicies }));
    }
    out.push(perform({ kind: 'release-spi', spi: r.params.inboundSpi, local }));
  });
  if (ctx.heldRedundant !== undefined) {
    const successor = failed.actorOf(ctx.heldRedundant);
    if (successor !== undefined) out.push(tell(successor, { type: 'PREDECESSOR_GONE' }));
  }
  const connection = bindings.connection;
  out.push(
    perform({
      kind: 'report',
      event:
        ctx.establishedAtMs !== undefined
          ? { kind: 'ike-sa-down', connection, id: entry.id, spiI: bindings.spiI, spiR: bindings.spiR, reason, cause: 'internal-error', atMs: now }
          : { kind: 'ike-sa-failed', connection, id: entry.id, reason, atMs: now },
    }),
  );
  return out;
}
