/**
 * Signature algorithms as X.509 names them (AlgorithmIdentifier, RFC 5280 4.1.1.2): what signs a
 * certificate or a CRL, and, in IKEv2's Digital Signature authentication (RFC 7427 3), what
 * signs the AUTH payload, whose data starts with the same AlgorithmIdentifier.
 *
 * The encodings are RFC 7427 Appendix A's (PKCS#1 v1.5 with NULL parameters, RFC 4055 2.1;
 * ECDSA without parameters, RFC 5758 3.2; RSASSA-PSS with explicit parameters, RFC 4055 3.1;
 * Ed25519, RFC 8410 3). Signing and verifying go through node:crypto (OpenSSL).
 */
import { createHash, sign as cryptoSign, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { contentsOf, decodeDer, encodeDer, oidOf, type Asn1 } from './der.js';

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** What a signature is made with: the scheme, its hash and, for PSS, the salt length. */
export type SignatureScheme =
  | { readonly kind: 'rsa-pkcs1'; readonly hash: HashName }
  | { readonly kind: 'rsa-pss'; readonly hash: HashName; readonly saltLength: number }
  | { readonly kind: 'ecdsa'; readonly hash: HashName }
  | { readonly kind: 'ed25519' };

const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1WithRSAEncryption: '1.2.840.113549.1.1.5',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  rsassaPss: '1.2.840.113549.1.1.10',
  mgf1: '1.2.840.113549.1.1.8',
  ecdsaWithSHA1: '1.2.840.10045.4.1',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

const PKCS1_OIDS: Record<HashName, string> = {
  sha1: OID.sha1WithRSAEncryption,
  sha256: OID.sha256WithRSAEncryption,
  sha384: OID.sha384WithRSAEncryption,
  sha512: OID.sha512WithRSAEncryption,
};
const ECDSA_OIDS: Record<HashName, string> = {
  sha1: OID.ecdsaWithSHA1,
  sha256: OID.ecdsaWithSHA256,
  sha384: OID.ecdsaWithSHA384,
  sha512: OID.ecdsaWithSHA512,
};
const HASH_OIDS: Record<HashName, string> = { sha1: OID.sha1, sha256: OID.sha256, sha384: OID.sha384, sha512: OID.sha512 };
const HASH_LENGTHS: Record<HashName, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

const byValue = <K extends string>(table: Record<K, string>, oid: string): K | undefined =>
  (Object.keys(table) as K[]).find((k) => table[k] === oid);

export const hashLength = (hash: HashName): number => HASH_LENGTHS[hash];

const { Class, Type } = forge.asn1;
const seq = (items: Asn1[]): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, items);
const oidNode = (oid: string): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.OID, false, forge.asn1.oidToDer(oid).getBytes());
const nullNode = (): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.NULL, false, '');
const explicit = (tag: number, inner: Asn1): Asn1 => forge.asn1.create(Class.CONTEXT_SPECIFIC, tag, true, [inner]);
const integerNode = (n: number): Asn1 => forge.asn1.create(Class.UNIVERSAL, Type.INTEGER, false, forge.asn1.integerToDer(n).getBytes());

/** The AlgorithmIdentifier as forge ASN.1, for certificate and CRL builders. */
export function algorithmIdentifierAsn1(scheme: SignatureScheme): Asn1 {
  switch (scheme.kind) {
    case 'rsa-pkcs1':
      return seq([oidNode(PKCS1_OIDS[scheme.hash]), nullNode()]);
    case 'ecdsa':
      return seq([oidNode(ECDSA_OIDS[scheme.hash])]);
    case 'ed25519':
      return seq([oidNode(OID.ed25519)]);
    case 'rsa-pss': {
      // RFC 4055 3.1: the hash, MGF1 with the same hash, the salt length; trailerField 1 is the default.
      const hashId = seq([oidNode(HASH_OIDS[scheme.hash]), nullNode()]);
      const params = seq([explicit(0, hashId), explicit(1, seq([oidNode(OID.mgf1), seq([oidNode(HASH_OIDS[scheme.hash]), nullNode()])])), explicit(2, integerNode(scheme.saltLength))]);
      return seq([oidNode(OID.rsassaPss), params]);
    }
  }
}

/** The DER of the AlgorithmIdentifier (RFC 7427 Appendix A gives these octets). */
export function encodeAlgorithmIdentifier(scheme: SignatureScheme): Buffer {
  return encodeDer(algorithmIdentifierAsn1(scheme));
}

/** The hash of an AlgorithmIdentifier naming one (`{ sha256, NULL }` or `{ sha256 }`, RFC 4055 2.1). */
function hashOfIdentifier(node: Asn1): HashName | undefined {
  if (!Array.isArray(node.value) || node.value.length < 1 || node.value.length > 2) return undefined;
  const oid = oidOf(node.value[0]!);
  return oid === undefined ? undefined : byValue(HASH_OIDS, oid);
}

/** RFC 4055 3.1 RSASSA-PSS-params; the defaults (SHA-1, MGF1-SHA-1, salt 20) where a field is absent. */
function pssScheme(params: Asn1 | undefined): Result<SignatureScheme, string> {
  let hash: HashName = 'sha1';
  let mgfHash: HashName = 'sha1';
  let saltLength = 20;
  if (params !== undefined) {
    if (!Array.isArray(params.value)) return err('RSASSA-PSS parameters are not a SEQUENCE');
    for (const field of params.value) {
      const inner = Array.isArray(field.value) ? field.value[0] : undefined;
      if (field.tagClass !== Class.CONTEXT_SPECIFIC || inner === undefined) return err('RSASSA-PSS parameters hold an unexpected field');
      switch (field.type as number) {
        case 0: {
          const h = hashOfIdentifier(inner);
          if (h === undefined) return err('RSASSA-PSS names a hash this does not support');
          hash = h;
          break;
        }
        case 1: {
          if (!Array.isArray(inner.value) || oidOf(inner.value[0]!) !== OID.mgf1 || inner.value[1] === undefined) return err('RSASSA-PSS names a mask generation function other than MGF1');
          const h = hashOfIdentifier(inner.value[1]);
          if (h === undefined) return err('RSASSA-PSS MGF1 names a hash this does not support');
          mgfHash = h;
          break;
        }
        case 2: {
          const octets = contentsOf(inner);
          if (octets === undefined || octets.length === 0 || octets.length > 4) return err('RSASSA-PSS salt length is not a small INTEGER');
          saltLength = octets.readUIntBE(0, octets.length);
          break;
        }
        case 3: {
          const octets = contentsOf(inner);
          if (octets === undefined || octets.length !== 1 || octets[0] !== 1) return err('RSASSA-PSS trailer field is not 1');
          break;
        }
        default:
          return err('RSASSA-PSS parameters hold an unexpected field');
      }
    }
  }
  // node:crypto's PSS uses MGF1 with the signature's own hash, as RFC 7427 and strongSwan do.
  if (mgfHash !== hash) return err(`RSASSA-PSS with MGF1-${mgfHash.toUpperCase()} and hash ${hash.toUpperCase()} differing is not supported`);
  return ok({ kind: 'rsa-pss', hash, saltLength });
}

/** A decoded AlgorithmIdentifier to the scheme it names. */
export function schemeOfAlgorithmIdentifier(node: Asn1): Result<SignatureScheme, string> {
  if (node.tagClass !== Class.UNIVERSAL || node.type !== Type.SEQUENCE || !Array.isArray(node.value) || node.value.length < 1 || node.value.length > 2) {
    return err('the AlgorithmIdentifier is not a SEQUENCE of an OID and parameters');
  }
  const oid = oidOf(node.value[0]!);
  if (oid === undefined) return err('the AlgorithmIdentifier does not start with an OID');
  const params = node.value[1];
  const pkcs1 = byValue(PKCS1_OIDS, oid);
  if (pkcs1 !== undefined) return ok({ kind: 'rsa-pkcs1', hash: pkcs1 });
  const ecdsa = byValue(ECDSA_OIDS, oid);
  if (ecdsa !== undefined) return ok({ kind: 'ecdsa', hash: ecdsa });
  if (oid === OID.ed25519) return ok({ kind: 'ed25519' });
  if (oid === OID.rsassaPss) return pssScheme(params);
  return err(`signature algorithm ${oid} is not supported (RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA and Ed25519 are)`);
}

/** An AlgorithmIdentifier's DER to its scheme. */
export function decodeAlgorithmIdentifier(der: Buffer): Result<SignatureScheme, string> {
  const node = decodeDer(der);
  if (!node.ok) return err(`the AlgorithmIdentifier is ${node.error}`);
  return schemeOfAlgorithmIdentifier(node.value);
}

/** `RSASSA-PKCS1-v1_5 SHA-256`, `ECDSA SHA-384`: for logs and `ikekm pki show`. */
export function describeScheme(scheme: SignatureScheme): string {
  const hash = (h: HashName): string => (h === 'sha1' ? 'SHA-1' : `SHA-${h.slice(3)}`);
  switch (scheme.kind) {
    case 'rsa-pkcs1':
      return `RSASSA-PKCS1-v1_5 ${hash(scheme.hash)}`;
    case 'rsa-pss':
      return `RSASSA-PSS ${hash(scheme.hash)} salt ${scheme.saltLength}`;
    case 'ecdsa':
      return `ECDSA ${hash(scheme.hash)}`;
    case 'ed25519':
      return 'Ed25519';
  }
}

/** Does `key` (public or private) have the type `scheme` signs with? */
export function schemeFitsKey(scheme: SignatureScheme, key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  switch (scheme.kind) {
    case 'rsa-pkcs1':
      return type === 'rsa';
    case 'rsa-pss':
      return type === 'rsa' || type === 'rsa-pss';
    case 'ecdsa':
      return type === 'ec';
    case 'ed25519':
      return type === 'ed25519';
  }
}

/** What node:crypto's sign and verify take beside the key for a scheme. */
export interface SchemeOptions {
  readonly dsaEncoding?: 'der';
  readonly padding?: number;
  readonly saltLength?: number;
}

function schemeOptions(scheme: SignatureScheme): SchemeOptions {
  switch (scheme.kind) {
    case 'rsa-pkcs1':
    case 'ed25519':
      return {};
    case 'ecdsa':
      // DER Ecdsa-Sig-Value, as X.509 (RFC 5480) and RFC 7427's ecdsa-with-SHA* carry it.
      return { dsaEncoding: 'der' };
    case 'rsa-pss':
      return { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.saltLength };
  }
}

/** The key and its options as node:crypto's sign and verify both take them. */
const keyOptions = (scheme: SignatureScheme, key: KeyObject): { readonly key: KeyObject } & SchemeOptions => ({ key, ...schemeOptions(scheme) });

const digestOf = (scheme: SignatureScheme): string | null => (scheme.kind === 'ed25519' ? null : scheme.hash);

/**
 * What node:crypto's `sign(digest, data, { key, ...options })` takes for `scheme`, so a signer in
 * another thread (src/engine/signing-workers.ts) signs exactly as signData does.
 */
export function signingParameters(scheme: SignatureScheme): { readonly digest: string | null; readonly options: SchemeOptions } {
  return { digest: digestOf(scheme), options: schemeOptions(scheme) };
}

/** Signs `data` (the whole of it: the hash is the scheme's). */
export function signData(scheme: SignatureScheme, key: KeyObject, data: Buffer): Buffer {
  return cryptoSign(digestOf(scheme), data, keyOptions(scheme, key));
}

/** Checks a signature; false for a bad signature and for a key that does not fit the scheme. */
export function verifyData(scheme: SignatureScheme, key: KeyObject, data: Buffer, signature: Buffer): boolean {
  if (!schemeFitsKey(scheme, key)) return false;
  try {
    return cryptoVerify(digestOf(scheme), data, keyOptions(scheme, key), signature);
  } catch {
    return false; // a malformed DER ECDSA value or a signature of the wrong length
  }
}

/** SHA-1 of a DER SubjectPublicKeyInfo: a CERTREQ's CA hash (RFC 7296 3.7). */
export function spkiSha1(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}
