/**
 * RFC 7296 3.3: Security Association payload — Proposals, Transforms, Transform Attributes.
 *
 * Proposal substructure (3.3.1):
 *   | Last Substruc |   RESERVED    |         Proposal Length       |
 *   | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
 *   ~                        SPI (variable)                         ~
 *   ~                        <Transforms>                           ~
 *
 * Transform substructure (3.3.2):
 *   | Last Substruc |   RESERVED    |        Transform Length       |
 *   |Transform Type |   RESERVED    |          Transform ID         |
 *   ~                      Transform Attributes                     ~
 *
 * Data attribute (3.3.5):
 *   |A|       Attribute Type        |    AF=0  Attribute Length     |
 *   |F|                             |    AF=1  Attribute Value      |
 *   |                   AF=0  Attribute Value                       |
 *
 * Derived on encode (and checked on decode): Last Substruc, lengths, SPI Size, Num Transforms.
 * Kept: RESERVED octets, attribute format (TV or TLV), unknown attribute types.
 * Bounded: Proposals, Transforms and attributes per SA payload (decode-limits.ts), counted as
 * they are met, so that 255 Proposals of 30 Transforms stop at the 65th Proposal.
 */
import { MAX_PROPOSALS, MAX_TRANSFORM_ATTRIBUTES, MAX_TRANSFORMS } from '../decode-limits.js';
import { PayloadType, TransformAttributeType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

/** RFC 7296 3.3.1: Last Substruc of a Proposal that is followed by another one. */
const MORE_PROPOSALS = 2;
/** RFC 7296 3.3.2: Last Substruc of a Transform that is followed by another one (3, inherited from ISAKMP). */
const MORE_TRANSFORMS = 3;
const PROPOSAL_HEADER_LENGTH = 8;
const TRANSFORM_HEADER_LENGTH = 8;
/** RFC 7296 3.3.5: the AF bit; set means TV (2-octet value in place of the length). */
const AF_BIT = 0x8000;

export type TransformAttribute =
  /** AF=1, Type/Value: a 16-bit value, e.g. KEY_LENGTH (RFC 7296 3.3.5 requires TV for it). */
  | { format: 'TV'; attributeType: number; value: number }
  /** AF=0, Type/Length/Value: any other attribute, kept as bytes. */
  | { format: 'TLV'; attributeType: number; value: Buffer };

export interface Transform {
  /** TransformType registry value. */
  transformType: number;
  /** Transform ID within the type's registry (EncrId, PrfId, ...). */
  transformId: number;
  attributes: TransformAttribute[];
  /** RESERVED octet after Last Substruc; omitted when zero. */
  reserved?: number;
  /** RESERVED octet after Transform Type; omitted when zero. */
  reserved2?: number;
}

export interface Proposal {
  /** RFC 7296 3.3.1: 1 for the first Proposal, then +1 (checked by the protocol layer). */
  proposalNum: number;
  /** ProtocolId registry value. */
  protocolId: number;
  /** Empty for an initial IKE SA negotiation; 8 octets for IKE rekey, 4 for ESP/AH. */
  spi: Buffer;
  transforms: Transform[];
  /** RESERVED octet after Last Substruc; omitted when zero. */
  reserved?: number;
}

export interface SaPayload extends PayloadHeaderFields {
  type: typeof PayloadType.SA;
  proposals: Proposal[];
}

/** What one SA payload may still hold (decode-limits.ts), counted down while it is decoded. */
interface SaBudget {
  transforms: number;
  attributes: number;
}

export function decodeSaBody(r: ByteReader): SaPayload {
  const proposals: Proposal[] = [];
  const budget: SaBudget = { transforms: MAX_TRANSFORMS, attributes: MAX_TRANSFORM_ATTRIBUTES };
  if (r.atEnd) r.fail('no-proposals', 'SA payload without a Proposal substructure');
  while (!r.atEnd) {
    const start = r.offset;
    if (proposals.length === MAX_PROPOSALS) r.fail('too-many-substructures', `more than ${MAX_PROPOSALS} Proposals in one SA payload`, start);
    const lastSubstruc = r.u8();
    const reserved = r.u8();
    const length = r.u16();
    if (length < PROPOSAL_HEADER_LENGTH || length - 4 > r.remaining) {
      r.fail('length-mismatch', `Proposal Length ${length} does not fit the ${r.remaining + 4} octets left`, start + 2);
    }
    const pr = r.sub(length - 4);
    checkLastSubstruc(r, lastSubstruc, MORE_PROPOSALS, 'Proposal', start);
    proposals.push(decodeProposal(pr, reserved, budget));
  }
  return { type: PayloadType.SA, proposals };
}

function decodeProposal(r: ByteReader, reserved: number, budget: SaBudget): Proposal {
  const proposalNum = r.u8();
  const protocolId = r.u8();
  const spiSize = r.u8();
  const countOffset = r.offset;
  const numTransforms = r.u8();
  const spi = r.bytes(spiSize);
  const transforms: Transform[] = [];
  while (!r.atEnd) {
    const start = r.offset;
    if (budget.transforms-- === 0) r.fail('too-many-substructures', `more than ${MAX_TRANSFORMS} Transforms in one SA payload`, start);
    const lastSubstruc = r.u8();
    const tReserved = r.u8();
    const length = r.u16();
    if (length < TRANSFORM_HEADER_LENGTH || length - 4 > r.remaining) {
      r.fail('length-mismatch', `Transform Length ${length} does not fit the ${r.remaining + 4} octets left`, start + 2);
    }
    const tr = r.sub(length - 4);
    checkLastSubstruc(r, lastSubstruc, MORE_TRANSFORMS, 'Transform', start);
    transforms.push(decodeTransform(tr, tReserved, budget));
  }
  if (transforms.length !== numTransforms) {
    r.fail('count-mismatch', `Num Transforms is ${numTransforms} but the Proposal holds ${transforms.length}`, countOffset);
  }
  const p: Proposal = { proposalNum, protocolId, spi, transforms };
  if (reserved !== 0) p.reserved = reserved;
  return p;
}

function decodeTransform(r: ByteReader, reserved: number, budget: SaBudget): Transform {
  const transformType = r.u8();
  const reserved2 = r.u8();
  const transformId = r.u16();
  const attributes: TransformAttribute[] = [];
  while (!r.atEnd) {
    if (budget.attributes-- === 0) r.fail('too-many-substructures', `more than ${MAX_TRANSFORM_ATTRIBUTES} Transform Attributes in one SA payload`);
    const typeField = r.u16();
    const attributeType = typeField & ~AF_BIT;
    if ((typeField & AF_BIT) !== 0) {
      attributes.push({ format: 'TV', attributeType, value: r.u16() });
    } else {
      const lengthOffset = r.offset;
      const length = r.u16();
      if (length > r.remaining) {
        r.fail('length-mismatch', `Attribute Length ${length} exceeds the ${r.remaining} octets left in the Transform`, lengthOffset);
      }
      attributes.push({ format: 'TLV', attributeType, value: r.bytes(length) });
    }
  }
  const t: Transform = { transformType, transformId, attributes };
  if (reserved !== 0) t.reserved = reserved;
  if (reserved2 !== 0) t.reserved2 = reserved2;
  return t;
}

/**
 * Last Substruc must say "more" exactly when the enclosing structure has bytes left. A value
 * that is neither 0 nor "more" is malformed; a valid value at the wrong place means the
 * lengths disagree (e.g. Proposal lengths that do not sum to the SA payload length).
 */
function checkLastSubstruc(r: ByteReader, value: number, more: number, what: string, offset: number): void {
  if (value !== 0 && value !== more) {
    r.fail('bad-last-substruc', `${what} Last Substruc is ${value}, expected 0 or ${more}`, offset);
  }
  if (value === 0 && !r.atEnd) {
    r.fail('length-mismatch', `${r.remaining} octet(s) follow the last ${what}`, offset);
  }
  if (value === more && r.atEnd) {
    r.fail('length-mismatch', `${what} Last Substruc announces another ${what} but the enclosing length ends`, offset);
  }
}

export function saBodyLength(p: SaPayload): number {
  let n = 0;
  for (const proposal of p.proposals) n += proposalLength(proposal);
  return n;
}

function proposalLength(p: Proposal): number {
  let n = PROPOSAL_HEADER_LENGTH + p.spi.length;
  for (const t of p.transforms) n += transformLength(t);
  return n;
}

function transformLength(t: Transform): number {
  let n = TRANSFORM_HEADER_LENGTH;
  for (const a of t.attributes) n += a.format === 'TV' ? 4 : 4 + a.value.length;
  return n;
}

export function writeSaBody(w: ByteWriter, p: SaPayload): void {
  if (p.proposals.length === 0) throw new RangeError('SA payload needs at least one Proposal (RFC 7296 3.3)');
  p.proposals.forEach((proposal, i) => {
    const last = i === p.proposals.length - 1;
    w.u8(last ? 0 : MORE_PROPOSALS);
    w.u8(proposal.reserved ?? 0, 'Proposal RESERVED');
    w.u16(proposalLength(proposal), 'Proposal Length');
    w.u8(proposal.proposalNum, 'Proposal Num');
    w.u8(proposal.protocolId, 'Protocol ID');
    w.u8(proposal.spi.length, 'SPI Size');
    w.u8(proposal.transforms.length, 'Num Transforms');
    w.bytes(proposal.spi);
    proposal.transforms.forEach((t, j) => {
      w.u8(j === proposal.transforms.length - 1 ? 0 : MORE_TRANSFORMS);
      w.u8(t.reserved ?? 0, 'Transform RESERVED');
      w.u16(transformLength(t), 'Transform Length');
      w.u8(t.transformType, 'Transform Type');
      w.u8(t.reserved2 ?? 0, 'Transform RESERVED');
      w.u16(t.transformId, 'Transform ID');
      for (const a of t.attributes) {
        if (a.attributeType > 0x7fff) throw new RangeError(`Attribute Type ${a.attributeType} does not fit 15 bits`);
        if (a.format === 'TV') {
          w.u16(AF_BIT | a.attributeType);
          w.u16(a.value, 'Attribute Value');
        } else {
          w.u16(a.attributeType);
          w.u16(a.value.length, 'Attribute Length');
          w.bytes(a.value);
        }
      }
    });
  });
}

// ---- construction and typed access ----

/** RFC 7296 3.3.5: KEY_LENGTH, in bits, always in TV form. */
export function keyLengthAttribute(bits: number): TransformAttribute {
  return { format: 'TV', attributeType: TransformAttributeType.KEY_LENGTH, value: bits };
}

/** The KEY_LENGTH of a transform in bits, if it has one (TV form; a TLV KEY_LENGTH is not valid). */
export function keyLengthOf(t: Transform): number | undefined {
  for (const a of t.attributes) {
    if (a.attributeType === TransformAttributeType.KEY_LENGTH && a.format === 'TV') return a.value;
  }
  return undefined;
}

export function transform(transformType: number, transformId: number, keyLengthBits?: number): Transform {
  return {
    transformType,
    transformId,
    attributes: keyLengthBits === undefined ? [] : [keyLengthAttribute(keyLengthBits)],
  };
}

export function saPayload(proposals: Proposal[]): SaPayload {
  return { type: PayloadType.SA, proposals };
}
