/**
 * DER in and out through node-forge's ASN.1 codec, with Buffers at the edges. forge reads
 * hostile input by throwing; here a bad encoding is an error value. Its typings lack the options
 * object `fromDer` takes since 1.0, so the call is typed here once.
 */
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';

export type Asn1 = forge.asn1.Asn1;

interface FromDerOptions {
  /** Reject what DER forbids where forge can tell (lengths, trailing octets inside a TLV). */
  readonly strict: boolean;
  /** Reject octets after the outermost TLV. */
  readonly parseAllBytes: boolean;
  /** Leave BIT STRING contents as octets (a signature is not an encapsulated TLV). */
  readonly decodeBitStrings: boolean;
}

const fromDer = forge.asn1.fromDer as unknown as (bytes: forge.util.ByteStringBuffer, options: FromDerOptions) => Asn1;

/** One DER TLV, exactly: no octets after it. */
export function decodeDer(der: Buffer): Result<Asn1, string> {
  try {
    return ok(fromDer(forge.util.createBuffer(der.toString('binary')), { strict: true, parseAllBytes: true, decodeBitStrings: false }));
  } catch (e) {
    return err(`not DER: ${(e as Error).message}`);
  }
}

export function encodeDer(node: Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(node).getBytes(), 'binary');
}

/** A primitive's contents octets (forge keeps them as a binary string). */
export function contentsOf(node: Asn1): Buffer | undefined {
  return typeof node.value === 'string' ? Buffer.from(node.value, 'binary') : undefined;
}

/** The dotted form of an OBJECT IDENTIFIER node, undefined for any other node. */
export function oidOf(node: Asn1): string | undefined {
  if (node.tagClass !== forge.asn1.Class.UNIVERSAL || node.type !== forge.asn1.Type.OID || typeof node.value !== 'string') return undefined;
  return forge.asn1.derToOid(forge.util.createBuffer(node.value));
}

const { Class, Type } = forge.asn1;

/**
 * The TLVs inside one constructed DER value, each as its octets exactly as received. Signatures
 * cover octets, not a decoding: a TBSCertificate is checked as the peer sent it, and the CERTREQ
 * hash is over the SubjectPublicKeyInfo as the CA encoded it (RFC 7296 3.7), so these are sliced
 * from the input rather than re-encoded. Only definite, minimal lengths (X.690 10.1) and
 * low tag numbers are read; anything else is an error value.
 */
export function elementsOf(der: Buffer): Result<Buffer[], string> {
  const outer = tlvAt(der, 0);
  if (!outer.ok) return outer;
  if ((der[0]! & 0x20) === 0) return err('a primitive value where a SEQUENCE was expected');
  if (outer.value.end !== der.length) return err(`${der.length - outer.value.end} octets after the end of the value`);
  const elements: Buffer[] = [];
  for (let offset = outer.value.contentsStart; offset < der.length; ) {
    const inner = tlvAt(der, offset);
    if (!inner.ok) return err(`element ${elements.length + 1}: ${inner.error}`);
    elements.push(der.subarray(offset, inner.value.end));
    offset = inner.value.end;
  }
  return ok(elements);
}

/** Where the TLV at `offset` has its contents and where it ends. */
function tlvAt(der: Buffer, offset: number): Result<{ readonly contentsStart: number; readonly end: number }, string> {
  if (der.length - offset < 2) return err('truncated: no room for a tag and a length');
  if ((der[offset]! & 0x1f) === 0x1f) return err(`tag octet 0x${der[offset]!.toString(16)} uses the high tag number form, which nothing here does`);
  const first = der[offset + 1]!;
  if (first < 0x80) {
    const end = offset + 2 + first;
    return end <= der.length ? ok({ contentsStart: offset + 2, end }) : err(`truncated: the length says ${first} octets, ${der.length - offset - 2} remain`);
  }
  const count = first & 0x7f;
  if (count === 0) return err('indefinite length, which DER does not allow (X.690 10.1)');
  if (count > 4) return err(`a length of ${count} octets`);
  if (der.length - offset - 2 < count) return err('truncated inside a length');
  const length = der.readUIntBE(offset + 2, count);
  if (der[offset + 2] === 0 || length < 0x80) return err('a length not in its shortest form, which DER does not allow (X.690 10.1)');
  const end = offset + 2 + count + length;
  return end <= der.length ? ok({ contentsStart: offset + 2 + count, end }) : err(`truncated: the length says ${length} octets, ${der.length - offset - 2 - count} remain`);
}

/** Is the node of universal type `type` (SEQUENCE, INTEGER, …)? */
export function isUniversal(node: Asn1, type: number): boolean {
  return node.tagClass === Class.UNIVERSAL && node.type === type;
}

/** Is the node the context-specific tag [n]? */
export function isContext(node: Asn1, n: number): boolean {
  return node.tagClass === Class.CONTEXT_SPECIFIC && node.type === n;
}

/** The children of a constructed node; undefined for a primitive one. */
export function childrenOf(node: Asn1): Asn1[] | undefined {
  return Array.isArray(node.value) ? node.value : undefined;
}

/** The elements of a SEQUENCE (or SEQUENCE OF); undefined for any other node. */
export function sequenceOf(node: Asn1): Asn1[] | undefined {
  return isUniversal(node, Type.SEQUENCE) ? childrenOf(node) : undefined;
}

/** A BOOLEAN's value (X.690 8.2: any non-zero octet is TRUE). */
export function booleanOf(node: Asn1): boolean | undefined {
  const octets = isUniversal(node, Type.BOOLEAN) ? contentsOf(node) : undefined;
  return octets?.length === 1 ? octets[0] !== 0 : undefined;
}

/** A non-negative INTEGER (or ENUMERATED, `type`) small enough for a number; undefined otherwise. */
export function smallIntegerOf(node: Asn1, type: number = Type.INTEGER): number | undefined {
  const octets = isUniversal(node, type) ? contentsOf(node) : undefined;
  if (octets === undefined || octets.length === 0 || octets.length > 6 || (octets[0]! & 0x80) !== 0) return undefined;
  return octets.readUIntBE(0, octets.length);
}

/** A BIT STRING's unused-bits count and its octets (forge leaves them raw with decodeBitStrings off). */
export function bitStringOf(node: Asn1): { readonly unusedBits: number; readonly octets: Buffer } | undefined {
  const raw = isUniversal(node, Type.BITSTRING) ? contentsOf(node) : undefined;
  if (raw === undefined || raw.length === 0 || raw[0]! > 7 || (raw.length === 1 && raw[0] !== 0)) return undefined;
  return { unusedBits: raw[0]!, octets: raw.subarray(1) };
}
