/**
 * What certificates and CRLs both encode when ikekm issues them (RFC 5280): the Time choice,
 * INTEGERs of any size, the Extension SEQUENCE, the key identifiers, and the signed envelope
 * (a TBS, its AlgorithmIdentifier, the signature as a BIT STRING).
 *
 * Built with node-forge's ASN.1 codec (create, toDer) and signed with node:crypto: forge cannot
 * sign with EC keys, so its certificate objects are not used at all.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { decodeDer, encodeDer, type Asn1 } from './der.js';
import { EXTENSION_OIDS } from './x509-extension.js';
import { NIST_CURVE_HASHES, nistCurveOf } from './key-description.js';
import { algorithmIdentifierAsn1, hashLength, signData, type SignatureScheme } from './signature-algorithm.js';

const { Class, Type } = forge.asn1;

export const sequence = (items: Asn1[]): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
export const oidNode = (oid: string): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.OID, false, forge.asn1.oidToDer(oid).getBytes());
export const octetString = (octets: Buffer): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.OCTETSTRING, false, octets.toString('binary'));
export const booleanTrue = (): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.BOOLEAN, false, '\xff');
export const explicitTag = (tag: number, inner: Asn1): Asn1 => forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, true, [inner]);
export const implicitPrimitive = (tag: number, contents: Buffer): Asn1 => forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, false, contents.toString('binary'));
/** A BIT STRING whose contents are whole octets (a signature, a public key). */
export const bitStringOfOctets = (octets: Buffer): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, `\x00${octets.toString('binary')}`);

/**
 * A non-negative INTEGER from its magnitude (big-endian, leading zeros allowed): DER's minimal
 * two's complement, so a 0x00 goes in front of a magnitude whose top bit is set (X.690 8.3).
 */
export function unsignedIntegerContents(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.length === 0 ? Buffer.alloc(1) : magnitude.subarray(start);
  return (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.alloc(1), trimmed]) : Buffer.from(trimmed);
}

export const integerNode = (contents: Buffer): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.INTEGER, false, contents.toString('binary'));

export function bigintMagnitude(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex');
}

/** A serial number's magnitude as people print it: `0a:1b:…` (lower case, colons), as strongSwan and OpenSSL do. */
export function serialText(magnitude: Buffer): string {
  const contents = unsignedIntegerContents(magnitude);
  return [...contents].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * The serial's INTEGER contents, checked against RFC 5280 4.1.2.2: positive, and at most 20
 * octets as encoded.
 */
export function serialContents(magnitude: Buffer): Result<Buffer, string> {
  const contents = unsignedIntegerContents(magnitude);
  if (contents.every((b) => b === 0)) return err('a serial number must be positive (RFC 5280 4.1.2.2), not 0');
  if (contents.length > 20) return err(`a serial number is at most 20 octets encoded (RFC 5280 4.1.2.2); this one is ${contents.length}`);
  return ok(contents);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always Zulu with seconds,
 * never fractions (so the milliseconds are dropped). 5.1.2.4 asks the same of CRL times.
 */
export function timeNode(ms: number): Result<Asn1, string> {
  if (!Number.isFinite(ms)) return err('a time is not a number');
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const year = d.getUTCFullYear();
  if (year < 1950 || year > 9999) return err(`the year ${year} cannot be encoded in a certificate (1950 to 9999)`);
  const rest = `${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`;
  return ok(year < 2050 ? forge.asn1.create(Class.UNIVERSAL, Type.UTCTIME, false, `${pad2(year % 100)}${rest}`) : forge.asn1.create(Class.UNIVERSAL, Type.GENERALIZEDTIME, false, `${year}${rest}`));
}

/** Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } (RFC 5280 4.1). */
export function extensionNode(oid: string, critical: boolean, valueDer: Buffer): Asn1 {
  // DER leaves out a value equal to its DEFAULT (X.690 11.5): critical appears only when TRUE.
  return sequence([oidNode(oid), ...(critical ? [booleanTrue()] : []), octetString(valueDer)]);
}

/** The DER of a SubjectPublicKeyInfo, as node:crypto writes it (named curves for EC, RFC 5480). */
export function subjectPublicKeyInfoDer(key: KeyObject): Buffer {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return publicKey.export({ type: 'spki', format: 'der' });
}

/**
 * RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value, without its
 * tag, length and unused-bits octet. strongSwan and OpenSSL compute the same.
 */
export function keyIdentifierOf(key: KeyObject): Buffer {
  const spki = decodeDer(subjectPublicKeyInfoDer(key));
  // node:crypto's own output: it decodes, and its second element is the BIT STRING.
  if (!spki.ok || !Array.isArray(spki.value.value)) throw new Error('node:crypto wrote a SubjectPublicKeyInfo that does not decode');
  const bits = spki.value.value[1];
  if (bits === undefined || typeof bits.value !== 'string') throw new Error('node:crypto wrote a SubjectPublicKeyInfo without a BIT STRING');
  return createHash('sha1').update(Buffer.from(bits.value, 'binary').subarray(1)).digest();
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING } (RFC 5280 4.2.1.1). */
export function authorityKeyIdentifierExtension(keyIdentifier: Buffer): Asn1 {
  return extensionNode(EXTENSION_OIDS.authorityKeyIdentifier, false, encodeDer(sequence([implicitPrimitive(0, keyIdentifier)])));
}

/**
 * The scheme a key signs a certificate or CRL with: RSA PKCS#1 v1.5, or RSASSA-PSS with MGF1 of
 * the same hash and a salt as long as the hash (RFC 4055 3.1, what strongSwan uses); ECDSA with
 * the hash of the curve's strength unless told otherwise (RFC 5480 4: P-384 with SHA-384).
 */
export function signatureSchemeFor(key: KeyObject, options: { readonly hash?: 'sha256' | 'sha384' | 'sha512'; readonly rsaPss?: boolean }): Result<SignatureScheme, string> {
  if (key.type !== 'private') return err('the signing key is not a private key');
  const type = key.asymmetricKeyType;
  if (type === 'rsa' || type === 'rsa-pss') {
    const hash = options.hash ?? 'sha256';
    return ok(options.rsaPss === true || type === 'rsa-pss' ? { kind: 'rsa-pss', hash, saltLength: hashLength(hash) } : { kind: 'rsa-pkcs1', hash });
  }
  if (options.rsaPss === true) return err(`RSASSA-PSS needs an RSA key, not ${type ?? 'this key'}`);
  if (type === 'ec') {
    const curve = nistCurveOf(key);
    return ok({ kind: 'ecdsa', hash: options.hash ?? (curve === undefined ? 'sha256' : NIST_CURVE_HASHES[curve]) });
  }
  if (type === 'ed25519') {
    if (options.hash !== undefined) return err('Ed25519 has its own hash: no signature hash can be chosen');
    return ok({ kind: 'ed25519' });
  }
  return err(`a ${type ?? 'key of unknown type'} key cannot sign certificates (RSA, ECDSA and Ed25519 keys can)`);
}

/**
 * SEQUENCE { tbs, signatureAlgorithm, signatureValue BIT STRING }: the envelope of a Certificate
 * (RFC 5280 4.1.1) and of a CertificateList (5.1.1). The TBS already holds the same
 * AlgorithmIdentifier (4.1.2.3, 5.1.2.2: the two MUST be equal), built by `algorithmIdentifierAsn1`.
 */
export function signedEnvelope(tbs: Asn1, scheme: SignatureScheme, key: KeyObject): Buffer {
  const signature = signData(scheme, key, encodeDer(tbs));
  return encodeDer(sequence([tbs, algorithmIdentifierAsn1(scheme), bitStringOfOctets(signature)]));
}
