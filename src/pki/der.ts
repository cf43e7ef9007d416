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
