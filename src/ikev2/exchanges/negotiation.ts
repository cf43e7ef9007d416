/**
 * The proposal work the exchanges need (RFC 7296 2.7, 3.3), in the terms of ike-sa-session.ts:
 * a thin layer over src/ikev2/proposals.ts that turns NegotiatedTransforms into the plain
 * transform IDs a machine context keeps, fills in our SPI, and reports failures with both sides
 * in strongSwan syntax (proposals.ts builds those reasons).
 */
import type { CryptoRegistry } from '../../crypto/registry.js';
import { err, ok, type Result } from '../../result.js';
import { DhId, EsnId, ProtocolId, type Proposal } from '../../wire/index.js';
import type { ChildTransformIds, IkeTransformIds } from '../ike-sa-session.js';
import { formatProposal, type AlgorithmSet } from '../../policy/proposal-syntax.js';
import {
  buildProposals,
  checkChosenProposal,
  dhGroupsOffered,
  formatWireProposal,
  selectProposal,
  type NegotiatedTransforms,
} from '../proposals.js';

/**
 * How often an initiator retries after INVALID_KE_PAYLOAD (RFC 7296 1.2, 1.3) before it gives
 * up: the responder names the group it wants, so one retry normally suffices; a second covers a
 * responder that changed its mind, and more would be a loop.
 */
export const MAX_KE_RETRIES = 2;

/** What an offer is for. */
export type OfferKind =
  /** IKE_SA_INIT (empty SPI) or IKE SA rekey (8-octet SPI). */
  | 'ike'
  /** ESP in IKE_AUTH: no KE transforms (RFC 7296 1.2). */
  | 'esp-no-pfs'
  /** ESP in CREATE_CHILD_SA: DH groups as configured (PFS). */
  | 'esp';

const protocolOf = (kind: OfferKind): ProtocolId => (kind === 'ike' ? ProtocolId.IKE : ProtocolId.ESP);

/** Our SA payload proposals for `sets`. */
export function offerProposals(sets: readonly AlgorithmSet[], kind: OfferKind, spi: Buffer, registry: CryptoRegistry): Proposal[] {
  return buildProposals(sets, protocolOf(kind), spi, { registry, withoutKeyExchange: kind === 'esp-no-pfs' });
}

export function describeProposals(proposals: readonly Proposal[]): string {
  return proposals.map(formatWireProposal).join(', ');
}

export function describeSets(sets: readonly AlgorithmSet[], kind: OfferKind): string {
  return sets.map((s) => formatProposal(kind === 'esp-no-pfs' ? { ...s, dh: [] } : s, kind === 'ike' ? 'ike' : 'esp')).join(', ');
}

export interface SelectedProposal<T> {
  /** The single-transform proposal to answer with, carrying our SPI. */
  readonly chosen: Proposal;
  readonly ids: T;
  /** The SPI in the peer's proposal (ESP: their inbound SPI; IKE rekey: their new IKE SPI). */
  readonly peerSpi: Buffer;
}

export function ikeIdsOf(n: NegotiatedTransforms): IkeTransformIds {
  return {
    encr: n.encryption.id,
    ...(n.encryption.keyLengthBits === undefined ? {} : { encrKeyLengthBits: n.encryption.keyLengthBits }),
    prf: n.prf ?? 0,
    ...(n.integrity === undefined ? {} : { integ: n.integrity }),
    dh: n.dh ?? DhId.NONE,
  };
}

export function childIdsOf(n: NegotiatedTransforms): ChildTransformIds {
  return {
    encr: n.encryption.id,
    ...(n.encryption.keyLengthBits === undefined ? {} : { encrKeyLengthBits: n.encryption.keyLengthBits }),
    ...(n.integrity === undefined ? {} : { integ: n.integrity }),
    ...(n.dh === undefined || n.dh === DhId.NONE ? {} : { dh: n.dh }),
    esn: n.esn === EsnId.ESN,
  };
}

/** Responder: the first of the initiator's proposals we accept (RFC 7296 2.7). */
export function selectIkeProposal(
  offered: readonly Proposal[],
  sets: readonly AlgorithmSet[],
  ourSpi: Buffer,
  registry: CryptoRegistry,
): Result<SelectedProposal<IkeTransformIds>, string> {
  const r = selectProposal(offered, sets, ProtocolId.IKE, registry);
  if (!r.ok) return err(r.error.reason);
  return ok({ chosen: { ...r.value.proposal, spi: ourSpi }, ids: ikeIdsOf(r.value.negotiated), peerSpi: r.value.peerSpi });
}

export function selectChildProposal(
  offered: readonly Proposal[],
  sets: readonly AlgorithmSet[],
  kind: 'esp' | 'esp-no-pfs',
  ourSpi: Buffer,
  registry: CryptoRegistry,
): Result<SelectedProposal<ChildTransformIds>, string> {
  const r = selectProposal(offered, sets, ProtocolId.ESP, registry, { withoutKeyExchange: kind === 'esp-no-pfs' });
  if (!r.ok) return err(r.error.reason);
  return ok({ chosen: { ...r.value.proposal, spi: ourSpi }, ids: childIdsOf(r.value.negotiated), peerSpi: r.value.peerSpi });
}

/** Initiator: the responder's answer must be a choice from our offer (RFC 7296 3.3.6). */
export function checkChosenIkeProposal(
  offered: readonly Proposal[],
  answer: readonly Proposal[],
): Result<{ ids: IkeTransformIds; peerSpi: Buffer }, string> {
  const r = checkChosenProposal(offered, answer, ProtocolId.IKE);
  if (!r.ok) return err(r.error.reason);
  return ok({ ids: ikeIdsOf(r.value.negotiated), peerSpi: r.value.peerSpi });
}

export function checkChosenChildProposal(
  offered: readonly Proposal[],
  answer: readonly Proposal[],
): Result<{ ids: ChildTransformIds; peerSpi: Buffer }, string> {
  const r = checkChosenProposal(offered, answer, ProtocolId.ESP);
  if (!r.ok) return err(r.error.reason);
  return ok({ ids: childIdsOf(r.value.negotiated), peerSpi: r.value.peerSpi });
}

/** The group to send a KE for first: the first of the first proposal (RFC 7296 1.2 "guess"). */
export function preferredDhGroup(offer: readonly Proposal[]): number | undefined {
  return dhGroupsOffered(offer)[0];
}

/** Is `group` in our offer (the check before honouring INVALID_KE_PAYLOAD, RFC 7296 1.2)? */
export function offersDhGroup(offer: readonly Proposal[], group: number): boolean {
  return (dhGroupsOffered(offer) as number[]).includes(group);
}
