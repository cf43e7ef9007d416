/**
 * SA payload negotiation (RFC 7296 2.7, 3.3): building our offer, choosing from a peer's offer as
 * responder, and checking the responder's choice as initiator.
 *
 * Decisions:
 * - The responder takes the first of the INITIATOR's proposals it can accept (RFC 7296 2.7 leaves
 *   the choice to the responder; ikekm honours the initiator's order, unlike strongSwan's default
 *   `prefer_configured_proposals`). Within it, for each transform type, the first of the
 *   initiator's transforms that one configured AlgorithmSet allows and the crypto registry
 *   implements. All chosen transforms come from the same configured set, so a configuration of
 *   two proposals never yields a mix of the two.
 * - RFC 7296 3.3.6: a proposal with a Transform Type we do not understand, or missing a mandatory
 *   one, is unacceptable (other proposals are processed as usual); a transform we do not
 *   understand, or one with a Transform Attribute we do not understand, is unacceptable (other
 *   transforms of its type are processed as usual). The only attribute understood is KEY_LENGTH
 *   (3.3.5), in TV form, once, on an encryption transform whose key length the registry knows.
 * - "Implemented" means the crypto registry has the transform, for ESP too: Child SA keys are
 *   taken from KEYMAT with the registry's key lengths (RFC 7296 2.17), so an ESP algorithm the
 *   registry cannot describe cannot be keyed even if the kernel could run it.
 * - AEAD (RFC 5282 8): an AEAD chosen means no integrity transform in the reply; with classic
 *   encryption an integrity transform other than NONE is mandatory.
 * - ESN: ESP proposals must carry ESN transforms (RFC 7296 3.3.3); an IKE proposal that carries
 *   one is unacceptable.
 * - Child SAs created in IKE_AUTH carry no KE payload, so their SA payloads "cannot contain
 *   Transform Type 4 (Diffie-Hellman group) with any value other than NONE" and implementations
 *   SHOULD omit it (RFC 7296 1.2). `withoutKeyExchange` builds such offers and, when selecting,
 *   ignores any DH transforms offered (some peers send their PFS groups anyway).
 * - DH NONE in an ESP offer makes PFS optional (RFC 7296 3.3.3 lists NONE as a D-H transform ID).
 *   The responder may choose it if its configuration has no PFS or lists `none`; the reply then
 *   carries the DH NONE transform, and the initiator's check accepts a reply that omits it too.
 */
import type { CryptoRegistry } from '../crypto/registry.js';
import { cryptoRegistry } from '../crypto/registry.js';
import { err, ok, type Result } from '../result.js';
import { assertNever } from '../wire/assert-never.js';
import { DhId, EncrId, EsnId, IntegId, PrfId, ProtocolId, TransformAttributeType, TransformType, nameOf } from '../wire/iana.js';
import { keyLengthAttribute, type Proposal, type Transform, type TransformAttribute } from '../wire/payloads/sa.js';
import {
  formatProposal,
  isAeadEncryption,
  transformKeyword,
  unknownKeyword,
  type AlgorithmSet,
  type ProposalProtocol,
} from '../policy/proposal-syntax.js';

/** What a negotiation settled on: exactly one of each type that applies. */
export interface NegotiatedTransforms {
  readonly encryption: { readonly id: EncrId; readonly keyLengthBits?: number };
  /** IKE only. */
  readonly prf?: PrfId;
  /** Absent for AEAD. */
  readonly integrity?: IntegId;
  /** IKE: always; ESP: only with PFS. */
  readonly dh?: DhId;
  /** ESP only. */
  readonly esn?: EsnId;
}

export interface NoProposalChosen {
  readonly kind: 'NO_PROPOSAL_CHOSEN';
  readonly reason: string;
}

export interface ChosenProposalError {
  readonly kind: 'INVALID_SYNTAX' | 'NO_PROPOSAL_CHOSEN';
  readonly reason: string;
}

export interface BuildProposalsOptions {
  /**
   * Algorithms the registry does not implement are left out of the offer, and a set left without
   * a mandatory type is dropped (numbers stay 1, 2, ... over what remains). Default: the default
   * registry (no legacy groups); pass the daemon's registry when it allows them.
   */
  readonly registry?: CryptoRegistry;
  /** ESP/AH offer in IKE_AUTH (RFC 7296 1.2): no DH transforms. Not valid for IKE. */
  readonly withoutKeyExchange?: boolean;
}

export interface SelectProposalOptions {
  /** Selecting for a Child SA of IKE_AUTH: DH transforms in the offer are ignored, none is chosen (RFC 7296 1.2). */
  readonly withoutKeyExchange?: boolean;
}

const IKE_SPI_LENGTH = 8;
const IPSEC_SPI_LENGTH = 4;

const ENCR_IDS: ReadonlySet<number> = new Set(Object.values(EncrId));
const PRF_IDS: ReadonlySet<number> = new Set(Object.values(PrfId));
const INTEG_IDS: ReadonlySet<number> = new Set(Object.values(IntegId));
const DH_IDS: ReadonlySet<number> = new Set(Object.values(DhId));
const ESN_IDS: ReadonlySet<number> = new Set(Object.values(EsnId));

const isEncrId = (n: number): n is EncrId => ENCR_IDS.has(n);
const isPrfId = (n: number): n is PrfId => PRF_IDS.has(n);
const isIntegId = (n: number): n is IntegId => INTEG_IDS.has(n);
const isDhId = (n: number): n is DhId => DH_IDS.has(n);
const isEsnId = (n: number): n is EsnId => ESN_IDS.has(n);

/** Transform types in the order RFC 7296's examples list them and ikekm sends them. */
const TYPE_ORDER = [TransformType.ENCR, TransformType.PRF, TransformType.INTEG, TransformType.DH, TransformType.ESN] as const;

function protocolName(protocolId: number): string {
  return nameOf(ProtocolId, protocolId);
}

function syntaxProtocol(protocolId: ProtocolId): ProposalProtocol {
  switch (protocolId) {
    case ProtocolId.IKE:
      return 'ike';
    case ProtocolId.ESP:
    case ProtocolId.AH:
      return 'esp';
    default:
      return assertNever(protocolId, 'ProtocolId');
  }
}

// ---- building ----

/**
 * Our offer: one Proposal per set, Proposal Num 1, 2, ... (RFC 7296 3.3.1), every proposal with
 * `spi` (empty for an initial IKE SA, our 8-octet SPI for an IKE rekey, our 4-octet SPI for ESP).
 * One Transform per algorithm in preference order; KEY_LENGTH as a TV attribute (3.3.5). ESP
 * proposals always carry ESN transforms (NO_ESN when the set has none). AH is not supported.
 */
export function buildProposals(
  sets: readonly AlgorithmSet[],
  protocolId: ProtocolId,
  spi: Buffer,
  options: BuildProposalsOptions = {},
): Proposal[] {
  const registry = options.registry ?? cryptoRegistry;
  const withoutKe = options.withoutKeyExchange === true;
  const proposals: Proposal[] = [];
  for (const set of sets) {
    const encryption = set.encryption.filter((e) => registry.encryption(e.id, e.keyLengthBits) !== undefined);
    const integrity = set.integrity.filter((id) => id !== IntegId.NONE && registry.integrity(id) !== undefined);
    const prfs = set.prf.filter((id) => registry.prf(id) !== undefined);
    const groups = set.dh.filter((id) => id === DhId.NONE || registry.dhGroup(id) !== undefined);
    const allAead = encryption.length > 0 && encryption.every((e) => isAeadEncryption(e.id));
    const anyClassic = encryption.some((e) => !isAeadEncryption(e.id));
    if (encryption.length === 0 || (anyClassic && integrity.length === 0)) continue;

    const transforms: Transform[] = encryption.map((e) => ({
      transformType: TransformType.ENCR,
      transformId: e.id,
      attributes: e.keyLengthBits === undefined ? [] : [keyLengthAttribute(e.keyLengthBits)],
    }));
    const add = (type: number, ids: readonly number[]) => {
      for (const id of ids) transforms.push({ transformType: type, transformId: id, attributes: [] });
    };
    switch (protocolId) {
      case ProtocolId.IKE: {
        if (withoutKe) throw new RangeError('withoutKeyExchange applies to Child SA proposals, not IKE');
        const ikeGroups = groups.filter((id) => id !== DhId.NONE);
        if (prfs.length === 0 || ikeGroups.length === 0) continue;
        add(TransformType.PRF, prfs);
        if (!allAead) add(TransformType.INTEG, integrity);
        add(TransformType.DH, ikeGroups);
        break;
      }
      case ProtocolId.ESP: {
        if (!allAead) add(TransformType.INTEG, integrity);
        if (!withoutKe) add(TransformType.DH, groups);
        add(TransformType.ESN, set.esn.length === 0 ? [EsnId.NO_ESN] : set.esn);
        break;
      }
      case ProtocolId.AH:
        throw new RangeError('AH proposals are not supported');
      default:
        return assertNever(protocolId, 'ProtocolId');
    }
    proposals.push({ proposalNum: proposals.length + 1, protocolId, spi: Buffer.from(spi), transforms });
  }
  return proposals;
}

// ---- reading a peer's transforms ----

/**
 * The KEY_LENGTH of a transform when every attribute is understood (3.3.6): `null` when some
 * attribute is not (unknown type, KEY_LENGTH in TLV form, KEY_LENGTH twice), `undefined` when
 * there is none.
 */
function understoodKeyLength(t: Transform): number | undefined | null {
  let keyLength: number | undefined;
  for (const a of t.attributes) {
    if (a.attributeType !== TransformAttributeType.KEY_LENGTH || a.format !== 'TV' || keyLength !== undefined) return null;
    keyLength = a.value;
  }
  return keyLength;
}

function byType(p: Proposal): Map<number, Transform[]> {
  const map = new Map<number, Transform[]>();
  for (const t of p.transforms) {
    const list = map.get(t.transformType);
    if (list === undefined) map.set(t.transformType, [t]);
    else list.push(t);
  }
  return map;
}

const KNOWN_TYPES: ReadonlySet<number> = new Set(TYPE_ORDER);

/** A transform in strongSwan keyword form; unknown ones as UNKNOWN_<type>_<id>, ununderstood attributes marked. */
function transformText(t: Transform): string {
  const keyLength = understoodKeyLength(t);
  if (keyLength === null) {
    const attrs = t.attributes.map((a) => `${a.format}:${a.attributeType}`).join(',');
    return `${unknownKeyword(t.transformType, t.transformId)}[${attrs}]`;
  }
  return transformKeyword(t.transformType, t.transformId, keyLength) ?? unknownKeyword(t.transformType, t.transformId, keyLength);
}

/**
 * A received (or sent) wire proposal in strongSwan syntax, for logs: every transform as offered,
 * grouped by type in the order ENCR, INTEG, PRF, DH, ESN, then unknown types.
 */
export function formatWireProposal(p: Proposal): string {
  const order = [TransformType.ENCR, TransformType.INTEG, TransformType.PRF, TransformType.DH, TransformType.ESN];
  const known = order.flatMap((type) => p.transforms.filter((t) => t.transformType === type));
  const unknown = p.transforms.filter((t) => !KNOWN_TYPES.has(t.transformType));
  return [...known, ...unknown].map(transformText).join('-');
}

// ---- responder: selection ----

/** How far a (proposal, configured set) pair got before failing; the furthest explains best. */
interface Mismatch {
  readonly stage: number;
  readonly reason: string;
}

interface Match {
  readonly transforms: Transform[];
  readonly negotiated: NegotiatedTransforms;
}

function cloneTransform(t: Transform): Transform {
  // 3.3.6: "Any attributes of a selected Transform MUST be returned unmodified."
  const attributes: TransformAttribute[] = t.attributes.map((a) =>
    a.format === 'TV' ? { ...a } : { format: 'TLV', attributeType: a.attributeType, value: Buffer.from(a.value) },
  );
  return { transformType: t.transformType, transformId: t.transformId, attributes };
}

function matchSet(
  types: Map<number, Transform[]>,
  set: AlgorithmSet,
  protocolId: typeof ProtocolId.IKE | typeof ProtocolId.ESP,
  registry: CryptoRegistry,
  withoutKe: boolean,
): Match | Mismatch {
  const of = (type: number): Transform[] => types.get(type) ?? [];

  const encrOk = (t: Transform): { id: EncrId; keyLengthBits?: number } | undefined => {
    const keyLength = understoodKeyLength(t);
    if (keyLength === null || !isEncrId(t.transformId)) return undefined;
    const entry = set.encryption.find((e) => e.id === t.transformId && e.keyLengthBits === keyLength);
    if (entry === undefined || registry.encryption(entry.id, entry.keyLengthBits) === undefined) return undefined;
    return entry;
  };
  const plain = (t: Transform): boolean => t.attributes.length === 0;
  const integOk = (t: Transform): t is Transform & { transformId: IntegId } =>
    plain(t) && isIntegId(t.transformId) && t.transformId !== IntegId.NONE && set.integrity.includes(t.transformId) && registry.integrity(t.transformId) !== undefined;
  const prfOk = (t: Transform): t is Transform & { transformId: PrfId } =>
    plain(t) && isPrfId(t.transformId) && set.prf.includes(t.transformId) && registry.prf(t.transformId) !== undefined;
  const ikeDhOk = (t: Transform): t is Transform & { transformId: DhId } =>
    plain(t) && isDhId(t.transformId) && t.transformId !== DhId.NONE && set.dh.includes(t.transformId) && registry.dhGroup(t.transformId) !== undefined;
  const childDhOk = (t: Transform): t is Transform & { transformId: DhId } => {
    if (!plain(t) || !isDhId(t.transformId)) return false;
    if (t.transformId === DhId.NONE) return set.dh.length === 0 || set.dh.includes(DhId.NONE);
    return set.dh.includes(t.transformId) && registry.dhGroup(t.transformId) !== undefined;
  };
  const ourEsn = set.esn.length === 0 ? [EsnId.NO_ESN] : set.esn;
  const esnOk = (t: Transform): t is Transform & { transformId: EsnId } => plain(t) && isEsnId(t.transformId) && ourEsn.includes(t.transformId);

  const encryption = of(TransformType.ENCR).flatMap((t) => {
    const entry = encrOk(t);
    return entry === undefined ? [] : [{ t, entry }];
  });
  if (encryption.length === 0) return { stage: 10, reason: 'no acceptable encryption algorithm' };

  let furthest: Mismatch = { stage: 11, reason: 'no acceptable integrity algorithm' };
  for (const { t: encrT, entry } of encryption) {
    const aead = isAeadEncryption(entry.id);
    const integT = aead ? undefined : of(TransformType.INTEG).find(integOk);
    if (!aead && integT === undefined) continue; // another offered cipher (an AEAD in a mixed proposal) may still do
    const chosen: Transform[] = [cloneTransform(encrT)];
    switch (protocolId) {
      case ProtocolId.IKE: {
        const prfT = of(TransformType.PRF).find(prfOk);
        if (prfT === undefined) {
          furthest = { stage: 12, reason: 'no acceptable PRF' };
          continue;
        }
        const dhT = of(TransformType.DH).find(ikeDhOk);
        if (dhT === undefined) {
          furthest = { stage: 13, reason: 'no acceptable DH group' };
          continue;
        }
        chosen.push(cloneTransform(prfT));
        if (integT !== undefined) chosen.push(cloneTransform(integT));
        chosen.push(cloneTransform(dhT));
        const negotiated: NegotiatedTransforms = {
          encryption: entry,
          prf: prfT.transformId,
          ...(integT !== undefined && isIntegId(integT.transformId) ? { integrity: integT.transformId } : {}),
          dh: dhT.transformId,
        };
        return { transforms: chosen, negotiated };
      }
      case ProtocolId.ESP: {
        if (integT !== undefined) chosen.push(cloneTransform(integT));
        let dh: DhId | undefined;
        if (!withoutKe) {
          const offeredDh = of(TransformType.DH);
          if (offeredDh.length === 0) {
            if (set.dh.length > 0 && !set.dh.includes(DhId.NONE)) {
              furthest = { stage: 13, reason: 'PFS required but the peer offered no DH group' };
              continue;
            }
          } else {
            const dhT = offeredDh.find(childDhOk);
            if (dhT === undefined) {
              furthest = {
                stage: 13,
                reason: set.dh.length === 0 ? 'the peer requires PFS, which is not configured' : 'no acceptable DH group',
              };
              continue;
            }
            chosen.push(cloneTransform(dhT));
            if (dhT.transformId !== DhId.NONE) dh = dhT.transformId;
          }
        }
        const esnT = of(TransformType.ESN).find(esnOk);
        if (esnT === undefined) {
          furthest = { stage: 14, reason: 'no acceptable ESN mode' };
          continue;
        }
        chosen.push(cloneTransform(esnT));
        const negotiated: NegotiatedTransforms = {
          encryption: entry,
          ...(integT !== undefined && isIntegId(integT.transformId) ? { integrity: integT.transformId } : {}),
          ...(dh !== undefined ? { dh } : {}),
          esn: esnT.transformId,
        };
        return { transforms: chosen, negotiated };
      }
      default:
        return assertNever(protocolId, 'ProtocolId');
    }
  }
  return furthest;
}

/** Checks that hold for a proposal whatever we configured; a reason when it is unacceptable. */
function proposalProblem(p: Proposal, protocolId: ProtocolId, types: Map<number, Transform[]>): string | undefined {
  if (p.protocolId !== protocolId) return `protocol ${protocolName(p.protocolId)}, not ${protocolName(protocolId)}`;
  for (const type of types.keys()) {
    if (!KNOWN_TYPES.has(type)) return `Transform Type ${type} is not understood (RFC 7296 3.3.6)`;
  }
  switch (protocolId) {
    case ProtocolId.IKE:
      if (p.spi.length !== 0 && p.spi.length !== IKE_SPI_LENGTH) return `SPI Size ${p.spi.length} is not 0 or 8`;
      if (types.has(TransformType.ESN)) return 'an IKE proposal must not carry ESN transforms';
      return undefined;
    case ProtocolId.ESP:
      if (p.spi.length !== IPSEC_SPI_LENGTH) return `SPI Size ${p.spi.length} is not 4`;
      if (!types.has(TransformType.ESN)) return 'an ESP proposal must carry ESN transforms (RFC 7296 3.3.3)';
      return undefined;
    case ProtocolId.AH:
      return 'AH is not supported';
    default:
      return assertNever(protocolId, 'ProtocolId');
  }
}

/**
 * Responder's choice (RFC 7296 2.7): the first of `offered` (the initiator's order) that one of
 * `acceptable` allows; `proposal` is the reply's Proposal, with the offered Proposal Num, one
 * Transform per type and an EMPTY SPI for the caller to fill (ours, for ESP or an IKE rekey).
 * `peerSpi` is the SPI the initiator put in the chosen proposal. On failure the reason lists both
 * sides in strongSwan syntax, each received proposal with why it was refused.
 */
export function selectProposal(
  offered: readonly Proposal[],
  acceptable: readonly AlgorithmSet[],
  protocolId: ProtocolId,
  registry: CryptoRegistry,
  options: SelectProposalOptions = {},
): Result<{ readonly proposal: Proposal; readonly negotiated: NegotiatedTransforms; readonly peerSpi: Buffer }, NoProposalChosen> {
  const withoutKe = options.withoutKeyExchange === true && protocolId !== ProtocolId.IKE;
  const refusals: string[] = [];
  for (const p of offered) {
    const types = byType(p);
    const problem = proposalProblem(p, protocolId, types);
    let why: Mismatch = { stage: 0, reason: problem ?? 'nothing configured' };
    if (problem === undefined && (protocolId === ProtocolId.IKE || protocolId === ProtocolId.ESP)) {
      for (const set of acceptable) {
        const m = matchSet(types, set, protocolId, registry, withoutKe);
        if ('transforms' in m) {
          const proposal: Proposal = { proposalNum: p.proposalNum, protocolId, spi: Buffer.alloc(0), transforms: m.transforms };
          return ok({ proposal, negotiated: m.negotiated, peerSpi: Buffer.from(p.spi) });
        }
        if (m.stage > why.stage) why = m;
      }
    }
    refusals.push(`#${p.proposalNum} ${formatWireProposal(p)} (${why.reason})`);
  }
  // In IKE_AUTH the configured DH groups play no part (RFC 7296 1.2), so they are not shown.
  const ours = acceptable.map((s) => formatProposal(withoutKe ? { ...s, dh: [] } : s, syntaxProtocol(protocolId)));
  const reason =
    `no acceptable ${protocolName(protocolId)} proposal: received ` +
    (refusals.length === 0 ? 'none' : refusals.join(', ')) +
    `; configured ${ours.length === 0 ? 'none' : ours.join(', ')}`;
  return err({ kind: 'NO_PROPOSAL_CHOSEN', reason });
}

// ---- initiator: checking the choice ----

function sameTransform(a: Transform, b: Transform): boolean {
  if (a.transformType !== b.transformType || a.transformId !== b.transformId || a.attributes.length !== b.attributes.length) return false;
  return a.attributes.every((x, i) => {
    const y = b.attributes[i];
    if (y === undefined || x.attributeType !== y.attributeType) return false;
    if (x.format === 'TV') return y.format === 'TV' && x.value === y.value;
    return y.format === 'TLV' && x.value.equals(y.value);
  });
}

/**
 * Initiator's check of the responder's SA payload (RFC 7296 3.3.6: "The initiator of an exchange
 * MUST check that the accepted offer is consistent with one of its proposals, and if not MUST
 * terminate the exchange"). The reply must be exactly one proposal, with the number of one we
 * offered, at most one transform per type, each one we offered in that proposal (attributes
 * unmodified), and every type that is mandatory present. An INTEG or DH transform NONE that we
 * did not offer is taken as the type left out (some responders send one). INVALID_SYNTAX: the reply is malformed
 * whatever we offered; NO_PROPOSAL_CHOSEN: it is well formed but not a choice from our offer.
 */
export function checkChosenProposal(
  offered: readonly Proposal[],
  chosen: readonly Proposal[],
  protocolId: ProtocolId,
): Result<{ negotiated: NegotiatedTransforms; peerSpi: Buffer }, ChosenProposalError> {
  const syntax = (reason: string) => err({ kind: 'INVALID_SYNTAX' as const, reason });
  const mismatch = (reason: string) => err({ kind: 'NO_PROPOSAL_CHOSEN' as const, reason });

  if (chosen.length !== 1) return syntax(`the reply must hold exactly one proposal, it holds ${chosen.length}`);
  const c = chosen[0]!;
  if (c.protocolId !== protocolId) return syntax(`the reply's proposal is for ${protocolName(c.protocolId)}, not ${protocolName(protocolId)}`);
  const o = offered.find((p) => p.proposalNum === c.proposalNum && p.protocolId === protocolId);
  if (o === undefined) return mismatch(`the reply chose proposal #${c.proposalNum}, which we did not offer`);

  const types = byType(c);
  for (const [type, list] of types) {
    if (list.length > 1) return syntax(`the reply holds ${list.length} transforms of type ${nameOf(TransformType, type)}, not one`);
  }
  for (const t of c.transforms) {
    // Some responders answer "no integrity" / "no PFS" with an explicit NONE transform we did
    // not offer; it means the same as leaving the type out, and the checks below judge that.
    const explicitNone = t.attributes.length === 0 && t.transformId === 0 && (t.transformType === TransformType.INTEG || t.transformType === TransformType.DH);
    if (!explicitNone && !o.transforms.some((x) => sameTransform(x, t))) {
      return mismatch(`the reply's ${nameOf(TransformType, t.transformType)} ${transformText(t)} was not offered in proposal #${o.proposalNum}`);
    }
  }
  const one = (type: number): Transform | undefined => types.get(type)?.[0];
  const encrT = one(TransformType.ENCR);
  if (encrT === undefined || !isEncrId(encrT.transformId)) return syntax('the reply has no encryption transform');
  const keyLength = understoodKeyLength(encrT);
  const encryption = keyLength === undefined || keyLength === null ? { id: encrT.transformId } : { id: encrT.transformId, keyLengthBits: keyLength };
  const aead = isAeadEncryption(encrT.transformId);
  const integT = one(TransformType.INTEG);
  const integrity = integT !== undefined && isIntegId(integT.transformId) && integT.transformId !== IntegId.NONE ? integT.transformId : undefined;
  if (aead && integrity !== undefined) return syntax('the reply pairs an AEAD cipher with an integrity algorithm (RFC 5282 8)');
  if (!aead && integrity === undefined) return syntax('the reply has classic encryption but no integrity algorithm');
  const dhT = one(TransformType.DH);
  const dh = dhT !== undefined && isDhId(dhT.transformId) && dhT.transformId !== DhId.NONE ? dhT.transformId : undefined;
  const peerSpi = Buffer.from(c.spi);

  switch (protocolId) {
    case ProtocolId.IKE: {
      if (c.spi.length !== 0 && c.spi.length !== IKE_SPI_LENGTH) return syntax(`SPI Size ${c.spi.length} is not 0 or 8`);
      const prfT = one(TransformType.PRF);
      if (prfT === undefined || !isPrfId(prfT.transformId)) return syntax('the reply has no PRF transform');
      if (dh === undefined) return syntax('the reply has no DH group');
      const negotiated: NegotiatedTransforms = { encryption, prf: prfT.transformId, ...(integrity !== undefined ? { integrity } : {}), dh };
      return ok({ negotiated, peerSpi });
    }
    case ProtocolId.ESP: {
      if (c.spi.length !== IPSEC_SPI_LENGTH) return syntax(`SPI Size ${c.spi.length} is not 4`);
      const esnT = one(TransformType.ESN);
      if (esnT === undefined || !isEsnId(esnT.transformId)) return syntax('the reply has no ESN transform (RFC 7296 3.3.3)');
      const offeredDh = o.transforms.filter((t) => t.transformType === TransformType.DH);
      const pfsOptional = offeredDh.length === 0 || offeredDh.some((t) => t.transformId === DhId.NONE);
      if (dh === undefined && !pfsOptional) return mismatch('we offered PFS only, the reply chose no DH group');
      const negotiated: NegotiatedTransforms = {
        encryption,
        ...(integrity !== undefined ? { integrity } : {}),
        ...(dh !== undefined ? { dh } : {}),
        esn: esnT.transformId,
      };
      return ok({ negotiated, peerSpi });
    }
    case ProtocolId.AH:
      return mismatch('AH is not supported');
    default:
      return assertNever(protocolId, 'ProtocolId');
  }
}

/**
 * Every DH group (not NONE) in an offer, first appearance first: what an INVALID_KE_PAYLOAD
 * exchange (RFC 7296 1.2, 2.7) may ask for, and what the initiator checks a requested group against.
 */
export function dhGroupsOffered(offered: readonly Proposal[]): DhId[] {
  const groups: DhId[] = [];
  for (const p of offered) {
    for (const t of p.transforms) {
      if (t.transformType === TransformType.DH && isDhId(t.transformId) && t.transformId !== DhId.NONE && !groups.includes(t.transformId)) {
        groups.push(t.transformId);
      }
    }
  }
  return groups;
}
