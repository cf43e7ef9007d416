/**
 * The Child SAs of an IKE SA, as the IKE SA keeps them: records found by our inbound SPI (data
 * about each Child SA actor: its last reported state, parameters, placement and lifetimes), the
 * spawning of their actors and the local delete.
 *
 * The records are a short array, not an object keyed by SPI: every distinct property name gives
 * V8 a new hidden class off the empty object's, and past V8's limit on those transitions every
 * object built by adding properties gets a class of its own (a spread, an XState actor's
 * options): hundreds of bytes per SA and megamorphic property access everywhere.
 *
 * A record is made with every key of ChildRecord, and updates only replace keys it has: V8 (as in
 * Node 20) gives each object made by a spread plus a key its source lacks (`{ ...r, deadlines }`)
 * a hidden class of its own, a few hundred bytes for the life of the SA and microseconds to make.
 */
import { keptChildSaParams, type ChildSaParams } from '../../src/ikev2/exchanges/child-sa-negotiation.js';
import type { ChildSaPlacement } from '../../src/ikev2/child-sa-kernel.js';
import type { ConnectionConfig } from '../../src/config/model.js';
import { espSpiHex } from '../../src/wire/index.js';
import type { ChildSaInput } from './child-sa-context.js';
import type { ChildRecord, IkeSaContext } from './ike-sa-context.js';
import { logBindings, type Step } from './ike-sa-step.js';

export function childActorId(ikeSaId: string, inboundSpi: number): string {
  return `${ikeSaId}/child-${espSpiHex(inboundSpi)}`;
}

export function childRecord(ctx: IkeSaContext, inboundSpi: number): ChildRecord | undefined {
  return ctx.children.find((r) => r.params.inboundSpi === inboundSpi);
}

/** The record whose outbound SPI is `spi` (what the peer names in REKEY_SA and Delete). */
export function childByOutboundSpi(ctx: IkeSaContext, spi: number): ChildRecord | undefined {
  return ctx.children.find((r) => r.params.outboundSpi === spi);
}

/** Adds `record`, or replaces the record of the same inbound SPI in its place. */
export function setChild(step: Step, record: ChildRecord): void {
  const children = step.ctx.children;
  const at = children.findIndex((r) => r.params.inboundSpi === record.params.inboundSpi);
  step.set({ children: at < 0 ? [...children, record] : children.with(at, record) });
}

export function updateChild(step: Step, inboundSpi: number, patch: Partial<ChildRecord>): ChildRecord | undefined {
  const r = childRecord(step.ctx, inboundSpi);
  if (r === undefined) return undefined;
  const updated = { ...r, ...patch };
  setChild(step, updated);
  return updated;
}

export function removeChild(step: Step, inboundSpi: number): void {
  step.set({ children: step.ctx.children.filter((r) => r.params.inboundSpi !== inboundSpi) });
}

export function liveChildren(ctx: IkeSaContext): ChildRecord[] {
  return ctx.children.filter((r) => r.state !== 'deleting');
}

function placementFor(step: Step, conn: ConnectionConfig): ChildSaPlacement {
  const ctx = step.ctx;
  const natted = ctx.nat.localBehindNat || ctx.nat.remoteBehindNat;
  const lifetime = conn.dataPolicy.lifetime;
  return {
    connection: conn.name,
    localAddress: ctx.local.address,
    remoteAddress: ctx.remote.address,
    ...(natted ? { encapsulation: { localPort: ctx.local.port, remotePort: ctx.remote.port } } : {}),
    reqid: step.ports.config.reqid(conn.name),
    ...(lifetime.rekeyBytes === undefined ? {} : { softBytes: lifetime.rekeyBytes }),
    ...(lifetime.lifetimeBytes === undefined ? {} : { hardBytes: lifetime.lifetimeBytes }),
  };
}

/** How often a Child SA reads its byte counters: never when the kernel enforces the limits itself. */
export function byteLifetimePollMs(step: Step): number {
  return step.ports.kernelEnforcesByteLimits ? 0 : step.ports.config.current().settings.byteLifetimePollSeconds * 1000;
}

export function childInput(ctx: IkeSaContext, record: ChildRecord, byteLifetimePollMs: number): ChildSaInput {
  return {
    id: record.actorId,
    ikeSaId: ctx.id,
    connection: record.placement.connection,
    params: record.params,
    placement: record.placement,
    lifetime: record.lifetime,
    rekeyOf: record.rekeyOf,
    outboundDeferred: record.outboundPending === true,
    adopted:
      record.deadlines === undefined
        ? undefined
        : { deadlines: record.deadlines, installedAtMs: record.installedAtMs ?? 0, rekeyed: record.state === 'rekeyed' },
    log: logBindings(ctx),
    byteLifetimePollMs,
  };
}

/**
 * The connection whose data policy a Child SA runs under: `connection` when the responder chose
 * one by traffic selectors (RFC 7296 2.9), the replaced SA's on a rekey, else the IKE SA's.
 */
export function childConnection(step: Step, rekeyOf?: number, connection?: string): ConnectionConfig | undefined {
  const name = connection ?? (rekeyOf === undefined ? undefined : childRecord(step.ctx, rekeyOf)?.placement.connection);
  return (name === undefined ? undefined : step.ports.config.connection(name)) ?? step.connection();
}

/**
 * A negotiated Child SA: record it and start its actor (which installs it in the kernel), with
 * its outbound SA at once, or with `outboundPending` only when the SA it replaces goes (2.8).
 */
export function spawnChildSa(step: Step, params: ChildSaParams, rekeyOf?: number, connection?: string, options: { outboundPending?: boolean } = {}): ChildRecord {
  const conn = childConnection(step, rekeyOf, connection);
  if (conn === undefined) throw new Error('Child SA without a connection');
  const record: ChildRecord = {
    actorId: childActorId(step.ctx.id, params.inboundSpi),
    state: 'installing',
    params: keptChildSaParams(params),
    placement: placementFor(step, conn),
    lifetime: conn.dataPolicy.lifetime,
    rekeyOf,
    deadlines: undefined,
    installedAtMs: undefined,
    replacedBy: undefined,
    redundant: undefined,
    outboundPending: options.outboundPending === true ? true : undefined,
  };
  setChild(step, record);
  step.spawnChild(childInput(step.ctx, record, byteLifetimePollMs(step)));
  return record;
}

/** Policies stay when another live Child SA of the same connection steers the same traffic. */
export function keepPoliciesFor(ctx: IkeSaContext, record: ChildRecord): boolean {
  return liveChildren(ctx).some((r) => r !== record && r.placement.reqid === record.placement.reqid && r.params.inboundSpi !== record.params.inboundSpi);
}

/** Why a Child SA is deleted, when it was deleted by the peer (deleteChildLocally's reason). */
export const DELETED_BY_THE_PEER = 'deleted by the peer';

/**
 * The SA that replaces `old` and still waits for its outbound SA: the survivor of its rekey
 * (`replacedBy`), or, before that is known (the new SA still installing), the SA the peer's rekey
 * of it created. A redundant SA of a collision (2.8.1), ours or the peer's, is never the survivor.
 */
function successorAwaitingOutbound(ctx: IkeSaContext, old: ChildRecord): ChildRecord | undefined {
  const oldSpi = old.params.inboundSpi;
  const successor =
    old.replacedBy !== undefined
      ? childRecord(ctx, old.replacedBy)
      : ctx.children.find((r) => r.rekeyOf === oldSpi && r.outboundPending === true && r.redundant !== true);
  return successor?.outboundPending === true && successor.state !== 'deleting' && successor.redundant !== true ? successor : undefined;
}

/**
 * Tells a Child SA actor to remove itself from the kernel. The SA replacing it gets its outbound
 * SA first if that still waits (make before break, 2.8: there is always an outbound SA to send
 * on), unless the IKE SA itself is closing (`handOver: false`) and takes both along.
 */
export function deleteChildLocally(step: Step, record: ChildRecord, reason: string, options: { handOver?: boolean } = {}): void {
  if (record.state === 'deleting') return;
  if (options.handOver !== false) installOutboundOfSuccessor(step, record, reason);
  const keepPolicies = keepPoliciesFor(step.ctx, record);
  updateChild(step, record.params.inboundSpi, { state: 'deleting' });
  step.toChild(record.actorId, { type: 'DELETE', reason, keepPolicies });
}

function installOutboundOfSuccessor(step: Step, old: ChildRecord, reason: string): void {
  const successor = successorAwaitingOutbound(step.ctx, old);
  if (successor === undefined) return;
  updateChild(step, successor.params.inboundSpi, { outboundPending: false });
  const why = reason === DELETED_BY_THE_PEER ? 'the peer deleted the rekeyed Child SA' : `the rekeyed Child SA goes (${reason})`;
  step.toChild(successor.actorId, { type: 'INSTALL_OUTBOUND', reason: why });
}


/** CHILD_SA_DELETED: the Child SA left the kernel; its actor stops and its SPI goes back. */
export function onChildDeleted(step: Step, inboundSpi: number): void {
  const record = childRecord(step.ctx, inboundSpi);
  if (record === undefined) return;
  step.stopChild(record.actorId);
  step.releaseSpi(inboundSpi);
  removeChild(step, inboundSpi);
  if (step.ctx.children.length === 0) step.raise({ type: 'CHILDREN_GONE' });
}
