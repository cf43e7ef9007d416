/**
 * Signature authentication (RFC 7296 2.15): the AUTH payload's data is a signature over the
 * same octets the preshared-key method MACs (InitiatorSignedOctets / ResponderSignedOctets).
 *
 * Methods, newest first:
 * - 14, Digital Signature (RFC 7427 3): `length octet | AlgorithmIdentifier | signature`, any
 *   scheme X.509 names (RSASSA-PKCS1-v1_5 or RSASSA-PSS with SHA-2, ECDSA, Ed25519). Used when
 *   the peer announced SIGNATURE_HASH_ALGORITHMS (RFC 7427 4) with a hash we can sign with.
 * - 1, RSA Digital Signature (RFC 7296 3.8): PKCS#1 v1.5 with SHA-1, for peers that announce
 *   nothing (old ones, or strongSwan with `signature_authentication = no`).
 * - 9, 10, 11, ECDSA with SHA-256 on P-256, SHA-384 on P-384, SHA-512 on P-521 (RFC 4754 7):
 *   the signature is r | s, each the size of the curve's order, not DER.
 */
import type { KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../result.js';
import { AuthMethod, HashAlgorithm, nameOf, type AuthPayload } from '../wire/index.js';
import {
  decodeAlgorithmIdentifier,
  describeScheme,
  encodeAlgorithmIdentifier,
  hashLength,
  schemeFitsKey,
  verifyData,
  type HashName,
  type SignatureScheme,
} from '../pki/signature-algorithm.js';
import { NIST_CURVE_HASHES, describeKey, nistCurveOf, type NistCurve } from '../pki/key-description.js';

/** What we sign AUTH with, and under which method. */
export interface SignatureChoice {
  readonly method: AuthMethod;
  readonly scheme: SignatureScheme;
}

/** How a connection prefers to sign (its IKE policy). */
export interface SignaturePreferences {
  /** RSA keys: PKCS#1 v1.5 (strongSwan's default) or RSASSA-PSS (strongSwan's `rsa/pss`). */
  readonly rsaPadding: 'pkcs1' | 'pss';
  /** Digital Signature (method 14) when the peer announces hashes; false: the older methods (1, 9, 10, 11) only. */
  readonly digitalSignature: boolean;
}

/** The hashes we accept in Digital Signature AUTH payloads, in SIGNATURE_HASH_ALGORITHMS order. */
export const ACCEPTED_SIGNATURE_HASHES: readonly HashAlgorithm[] = [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512, HashAlgorithm.IDENTITY];

const HASH_BY_ID: ReadonlyMap<number, HashName> = new Map([
  [HashAlgorithm.SHA1, 'sha1'],
  [HashAlgorithm.SHA2_256, 'sha256'],
  [HashAlgorithm.SHA2_384, 'sha384'],
  [HashAlgorithm.SHA2_512, 'sha512'],
]);

/** RFC 4754 7 and the hash that matches each curve's strength (RFC 5656 6.2.1 pairs them alike). */
const CURVE_PARAMS: Readonly<Record<NistCurve, { readonly method: AuthMethod; readonly hash: HashName; readonly octets: number }>> = {
  'P-256': { method: AuthMethod.ECDSA_SHA256_P256, hash: NIST_CURVE_HASHES['P-256'], octets: 32 },
  'P-384': { method: AuthMethod.ECDSA_SHA384_P384, hash: NIST_CURVE_HASHES['P-384'], octets: 48 },
  'P-521': { method: AuthMethod.ECDSA_SHA512_P521, hash: NIST_CURVE_HASHES['P-521'], octets: 66 },
};

/** The curve of ECDSA method 9, 10 or 11 (RFC 4754 7). */
function curveOfMethod(method: number): NistCurve {
  return (Object.keys(CURVE_PARAMS) as NistCurve[]).find((c) => CURVE_PARAMS[c].method === method)!;
}

/**
 * The method and scheme to sign our AUTH with (RFC 7427 4): Digital Signature with a hash the
 * peer announced, else the classic method for the key. `peerHashes` is undefined when the peer
 * sent no SIGNATURE_HASH_ALGORITHMS.
 */
export function chooseSignature(key: KeyObject, peerHashes: readonly number[] | undefined, prefs: SignaturePreferences): Result<SignatureChoice, string> {
  const announced = prefs.digitalSignature ? (peerHashes ?? []) : [];
  const sha2 = [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512].filter((h) => announced.includes(h)).map((h) => HASH_BY_ID.get(h)!);
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss': {
      const hash = sha2[0];
      if (hash !== undefined) {
        const scheme: SignatureScheme = prefs.rsaPadding === 'pss' || key.asymmetricKeyType === 'rsa-pss' ? { kind: 'rsa-pss', hash, saltLength: hashLength(hash) } : { kind: 'rsa-pkcs1', hash };
        return ok({ method: AuthMethod.DIGITAL_SIGNATURE, scheme });
      }
      if (key.asymmetricKeyType === 'rsa-pss') return err('an RSASSA-PSS key signs only with Digital Signature (RFC 7427), and the peer announced no SHA-2 hash for it');
      return ok({ method: AuthMethod.RSA_DIGITAL_SIGNATURE, scheme: { kind: 'rsa-pkcs1', hash: 'sha1' } });
    }
    case 'ec': {
      const curve = nistCurveOf(key);
      if (curve === undefined) return err(`ECDSA on curve ${key.asymmetricKeyDetails?.namedCurve ?? '?'} is not supported (P-256, P-384, P-521 are)`);
      const own = CURVE_PARAMS[curve];
      // The curve's own hash first (what strongSwan signs with), else any SHA-2 the peer takes.
      const hash = sha2.includes(own.hash) ? own.hash : sha2[0];
      if (hash !== undefined) return ok({ method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'ecdsa', hash } });
      return ok({ method: own.method, scheme: { kind: 'ecdsa', hash: own.hash } });
    }
    case 'ed25519':
      // RFC 8420 2: EdDSA signs the octets themselves, announced as the "Identity" hash.
      if (announced.includes(HashAlgorithm.IDENTITY)) return ok({ method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'ed25519' } });
      return err('an Ed25519 key needs the peer to announce the Identity hash (RFC 8420), and it did not');
    default:
      return err(`keys of type ${key.asymmetricKeyType ?? 'unknown'} cannot sign IKE AUTH payloads`);
  }
}

/** The Authentication Data of our AUTH payload, from a signature made with `choice.scheme`. */
export function signatureAuthData(choice: SignatureChoice, signature: Buffer): Result<Buffer, string> {
  switch (choice.method) {
    case AuthMethod.DIGITAL_SIGNATURE: {
      const algorithm = encodeAlgorithmIdentifier(choice.scheme);
      // RFC 7427 3: "ASN.1 Length (1 octet)" of the AlgorithmIdentifier that follows.
      return ok(Buffer.concat([Buffer.from([algorithm.length]), algorithm, signature]));
    }
    case AuthMethod.RSA_DIGITAL_SIGNATURE:
      return ok(signature);
    case AuthMethod.ECDSA_SHA256_P256:
    case AuthMethod.ECDSA_SHA384_P384:
    case AuthMethod.ECDSA_SHA512_P521: {
      return ecdsaDerToFixed(signature, CURVE_PARAMS[curveOfMethod(choice.method)].octets);
    }
    default:
      return err(`AUTH method ${nameOf(AuthMethod, choice.method)} is not a signature method`);
  }
}

/** Is the method one of the signature methods this module reads? */
export function isSignatureMethod(method: number): boolean {
  return (
    method === AuthMethod.DIGITAL_SIGNATURE ||
    method === AuthMethod.RSA_DIGITAL_SIGNATURE ||
    method === AuthMethod.ECDSA_SHA256_P256 ||
    method === AuthMethod.ECDSA_SHA384_P384 ||
    method === AuthMethod.ECDSA_SHA512_P521
  );
}

/**
 * Checks the peer's signature AUTH over `octets` with the public key of its certificate. On
 * success, the scheme it used (for the log); otherwise why not, in words a user can act on.
 */
export function verifySignatureAuth(auth: Pick<AuthPayload, 'method' | 'data'>, publicKey: KeyObject, octets: Buffer): Result<SignatureScheme, string> {
  let scheme: SignatureScheme;
  let signature: Buffer;
  switch (auth.method) {
    case AuthMethod.DIGITAL_SIGNATURE: {
      const length = auth.data[0];
      if (length === undefined || auth.data.length < 1 + length) return err('the Digital Signature AUTH data is shorter than its AlgorithmIdentifier length says (RFC 7427 3)');
      const decoded = decodeAlgorithmIdentifier(auth.data.subarray(1, 1 + length));
      if (!decoded.ok) return err(`the Digital Signature AUTH payload's ${decoded.error}`);
      scheme = decoded.value;
      // RFC 7427 4: the hash must be one we announced; we never announce SHA-1.
      if (scheme.kind !== 'ed25519' && scheme.hash === 'sha1') return err(`the peer signed with ${describeScheme(scheme)}, but SHA-1 is not among the hashes we announced (SHA-256, SHA-384, SHA-512)`);
      signature = auth.data.subarray(1 + length);
      break;
    }
    case AuthMethod.RSA_DIGITAL_SIGNATURE:
      scheme = { kind: 'rsa-pkcs1', hash: 'sha1' };
      signature = auth.data;
      break;
    case AuthMethod.ECDSA_SHA256_P256:
    case AuthMethod.ECDSA_SHA384_P384:
    case AuthMethod.ECDSA_SHA512_P521: {
      const curve = curveOfMethod(auth.method);
      if (nistCurveOf(publicKey) !== curve) return err(`AUTH method ${nameOf(AuthMethod, auth.method)} needs a ${curve} key, the certificate's key is ${describeKey(publicKey)}`);
      const der = ecdsaFixedToDer(auth.data, CURVE_PARAMS[curve].octets);
      if (!der.ok) return der;
      scheme = { kind: 'ecdsa', hash: CURVE_PARAMS[curve].hash };
      signature = der.value;
      break;
    }
    default:
      return err(`AUTH method ${nameOf(AuthMethod, auth.method)} is not a signature method`);
  }
  if (!schemeFitsKey(scheme, publicKey)) return err(`the peer signed with ${describeScheme(scheme)}, which does not fit the certificate's ${describeKey(publicKey)} key`);
  if (!verifyData(scheme, publicKey, octets, signature)) return err(`the signature (${describeScheme(scheme)}, AUTH method ${nameOf(AuthMethod, auth.method)}) does not verify with the certificate's key`);
  return ok(scheme);
}

// ---- ECDSA signature forms: DER Ecdsa-Sig-Value (X.509, RFC 7427) and r | s (RFC 4754) ----

/** The unsigned big-endian value of a DER INTEGER's contents, padded to `size` octets. */
function fixedWidth(contents: Buffer, size: number): Buffer | undefined {
  let start = 0;
  while (start < contents.length - 1 && contents[start] === 0) start++;
  const value = contents.subarray(start);
  if (value.length > size) return undefined;
  return Buffer.concat([Buffer.alloc(size - value.length), value]);
}

/** DER Ecdsa-Sig-Value { r INTEGER, s INTEGER } → r | s, each `size` octets. */
export function ecdsaDerToFixed(der: Buffer, size: number): Result<Buffer, string> {
  const bad = err('the ECDSA signature is not a DER Ecdsa-Sig-Value');
  if (der[0] !== 0x30) return bad;
  let offset = 2;
  let length = der[1] ?? 0;
  if (length === 0x81) {
    length = der[2] ?? 0;
    offset = 3;
  }
  if (offset + length !== der.length) return bad;
  const parts: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    if (der[offset] !== 0x02) return bad;
    const n = der[offset + 1] ?? 0;
    const contents = der.subarray(offset + 2, offset + 2 + n);
    if (contents.length !== n || n === 0) return bad;
    const fixed = fixedWidth(contents, size);
    if (fixed === undefined) return bad;
    parts.push(fixed);
    offset += 2 + n;
  }
  return offset === der.length ? ok(Buffer.concat(parts)) : bad;
}

/** r | s (RFC 4754 7) → DER Ecdsa-Sig-Value, for node:crypto. */
export function ecdsaFixedToDer(fixed: Buffer, size: number): Result<Buffer, string> {
  if (fixed.length !== 2 * size) return err(`the ECDSA signature is ${fixed.length} octets, RFC 4754 7 needs ${2 * size}`);
  const integer = (value: Buffer): Buffer => {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    let v = value.subarray(start);
    if ((v[0]! & 0x80) !== 0) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const body = Buffer.concat([integer(fixed.subarray(0, size)), integer(fixed.subarray(size))]);
  const head = body.length < 0x80 ? Buffer.from([0x30, body.length]) : Buffer.from([0x30, 0x81, body.length]);
  return ok(Buffer.concat([head, body]));
}
