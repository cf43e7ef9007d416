/**
 * Issuing X.509 v3 certificates (RFC 5280) for IKEv2 signature authentication: key pairs, CA
 * certificates and the gateway certificates IKE peers expect (RFC 4945 5: the profile of
 * certificates for IKE), what `ikekm pki ca create` and `ikekm pki issue` write.
 *
 * The TBSCertificate is built with node-forge's ASN.1 codec and signed with node:crypto, so EC
 * keys work as well as RSA (forge's certificate objects know only RSA).
 *
 * Defaults, as strongSwan's `pki --issue --flag serverAuth --flag clientAuth --flag ikeIntermediate`
 * gives them and as Windows, macOS and strongSwan accept:
 * - an end entity: basicConstraints cA=FALSE; keyUsage (critical) digitalSignature, plus
 *   keyEncipherment for RSA (TLS-era clients still look for it); extendedKeyUsage serverAuth,
 *   clientAuth and ipsecIKE (RFC 4945 5.1.3.12: IKE accepts any EKU, but Windows and macOS
 *   want serverAuth on a gateway's certificate); subjectKeyIdentifier, authorityKeyIdentifier;
 *   subjectAltName as given (RFC 4945 5.1.3.6: the IKE ID is matched against them).
 * - a CA: basicConstraints (critical) cA=TRUE with the pathLenConstraint given; keyUsage
 *   (critical) keyCertSign and cRLSign (RFC 5280 4.2.1.3, 4.2.1.9); the key identifiers.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { parseIp } from '../wire/ip-address.js';
import { err, ok, type Result } from '../result.js';
import { decodeDer, encodeDer, type Asn1 } from './der.js';
import { nameFromDer, parseDistinguishedName } from './distinguished-name.js';
import { algorithmIdentifierAsn1 } from './signature-algorithm.js';
import { EXTENSION_OIDS, KEY_PURPOSE_OIDS } from './x509-extension.js';
import {
  authorityKeyIdentifierExtension,
  bigintMagnitude,
  booleanTrue,
  explicitTag,
  extensionNode,
  implicitPrimitive,
  integerNode,
  keyIdentifierOf,
  octetString,
  oidNode,
  sequence,
  serialContents,
  signatureSchemeFor,
  signedEnvelope,
  subjectPublicKeyInfoDer,
  timeNode,
  unsignedIntegerContents,
} from './x509-encoding.js';

const { Class, Type } = forge.asn1;

export type KeyAlgorithm = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ecdsa-p256' | 'ecdsa-p384';
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ecdsa-p256', 'ecdsa-p384'];

/** A fresh key pair; RSA with e = 65537, ECDSA on a NIST curve (RFC 4754 for IKE). */
export function generateKeyPair(algorithm: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (algorithm) {
    case 'rsa-2048':
    case 'rsa-3072':
    case 'rsa-4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(algorithm.slice(4)), publicExponent: 0x10001 });
    case 'ecdsa-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ecdsa-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
  }
}

/** The CA that signs: its subject (DN text, or the DER of the Name exactly as its certificate holds it), its key. */
export interface CertificateIssuer {
  /**
   * Text such as `C=CH, O=ikekm, CN=ikekm Root CA`, or the DER of the CA certificate's subject:
   * the issuer field should be those octets (RFC 5280 4.1.2.4), which matters when the CA
   * certificate was made by another tool with other string types.
   */
  readonly subject: string | Buffer;
  readonly privateKey: KeyObject;
  /** The CA certificate's subjectKeyIdentifier; by default the RFC 5280 4.2.1.2 (1) hash of its key. */
  readonly subjectKeyId?: Buffer;
}

/** A self-signed certificate: signed with the private key of the certificate's own public key. */
export interface SelfSigned {
  readonly selfSignedWith: KeyObject;
}

export interface CertificateTemplate {
  /** DN text, e.g. `C=CH, O=ikekm, CN=gw.example`. */
  readonly subject: string;
  readonly publicKey: KeyObject;
  readonly issuer: CertificateIssuer | SelfSigned;
  /** The serial's magnitude; default 16 random octets with the top bit cleared (RFC 5280 4.1.2.2: positive, at most 20 octets). */
  readonly serial?: Buffer;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** A CA certificate: basicConstraints critical cA=TRUE, keyUsage critical keyCertSign and cRLSign. */
  readonly ca?: { readonly pathLen?: number };
  /** strongSwan-like: `gw.example` DNS, `192.0.2.1` or `2001:db8::1` IP, `a@b.example` email; `dns:`, `ip:`, `email:`, `uri:` say so explicitly. */
  readonly subjectAltNames?: readonly string[];
  /** Names of RFC 5280 4.2.1.3 bits, instead of the defaults; `[]` leaves the extension out. */
  readonly keyUsage?: readonly string[];
  /** `serverAuth`, `clientAuth`, `ipsecIKE`, `codeSigning`, … or dotted OIDs, instead of the defaults; `[]` leaves the extension out. */
  readonly extendedKeyUsage?: readonly string[];
  /** Added after the others, as given (tests: an unknown critical extension). */
  readonly extraExtensions?: readonly { readonly oid: string; readonly critical: boolean; readonly valueDer: Buffer }[];
  /** URIs of the CRL, as a cRLDistributionPoints extension (RFC 5280 4.2.1.13). */
  readonly crlDistributionPoints?: readonly string[];
  /** By the issuer's key: SHA-384 for P-384, SHA-512 for P-521, SHA-256 otherwise. */
  readonly signatureHash?: 'sha256' | 'sha384' | 'sha512';
  /** Sign with RSASSA-PSS (RFC 4055) rather than PKCS#1 v1.5; the issuer's key must be RSA. */
  readonly rsaPss?: boolean;
}

/** A subjectAltName entry (a GeneralName of RFC 5280 4.2.1.6 that IKE IDs match). */
export type SubjectAltName =
  | { readonly kind: 'dns'; readonly value: string }
  | { readonly kind: 'email'; readonly value: string }
  | { readonly kind: 'uri'; readonly value: string }
  | { readonly kind: 'ip'; readonly value: Buffer; readonly text: string };

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * A SAN from its text, the way strongSwan's `pki --san` reads it: an IP address is an
 * iPAddress, text with an `@` an rfc822Name, anything else a dNSName; `dns:`, `ip:`, `email:`
 * or `uri:` in front says which. Names must be ASCII (IA5String): an IDN goes in its xn-- form.
 */
export function parseSubjectAltName(text: string): Result<SubjectAltName, string> {
  const prefixed = /^(dns|ip|email|uri):(.*)$/i.exec(text);
  const kind = prefixed !== null ? (prefixed[1]!.toLowerCase() as SubjectAltName['kind']) : parseIp(text) !== undefined ? 'ip' : text.includes('@') ? 'email' : 'dns';
  const value = prefixed !== null ? prefixed[2]! : text;
  if (value === '') return err(`subjectAltName '${text}' is empty`);
  if (kind !== 'ip' && !/^[\x21-\x7e]+$/.test(value)) return err(`subjectAltName '${text}' must be ASCII without spaces (write an international domain name in its xn-- form)`);
  switch (kind) {
    case 'ip': {
      const bytes = parseIp(value);
      return bytes === undefined ? err(`subjectAltName '${text}' is not an IPv4 or IPv6 address`) : ok({ kind, value: bytes, text: value });
    }
    case 'email':
      return /^[^@]+@[^@]+$/.test(value) ? ok({ kind, value }) : err(`subjectAltName '${text}' is not an email address (local@domain)`);
    case 'uri':
      return /^[A-Za-z][A-Za-z0-9+.-]*:./.test(value) ? ok({ kind, value }) : err(`subjectAltName '${text}' is not a URI (scheme:rest)`);
    case 'dns': {
      const labels = value.split('.');
      // RFC 5280 4.2.1.6 asks for the preferred name syntax; a leading `*` label is the usual wildcard.
      const fits = value.length <= 253 && labels.every((label, i) => DNS_LABEL.test(label) || (i === 0 && label === '*' && labels.length > 1));
      return fits ? ok({ kind, value }) : err(`subjectAltName '${text}' is not a DNS name (letters, digits and hyphens in dot-separated labels)`);
    }
  }
}

/** GeneralName tags (RFC 5280 4.2.1.6; IMPLICIT, so the tag replaces IA5String's and OCTET STRING's). */
const GENERAL_NAME_TAGS = { email: 1, dns: 2, uri: 6, ip: 7 } as const;

function generalNameNode(name: SubjectAltName): Asn1 {
  return implicitPrimitive(GENERAL_NAME_TAGS[name.kind], name.kind === 'ip' ? name.value : Buffer.from(name.value, 'latin1'));
}

/** RFC 5280 4.2.1.3 KeyUsage bits, by position. */
const KEY_USAGE_BITS: Readonly<Record<string, number>> = {
  digitalsignature: 0,
  nonrepudiation: 1,
  contentcommitment: 1,
  keyencipherment: 2,
  dataencipherment: 3,
  keyagreement: 4,
  keycertsign: 5,
  crlsign: 6,
  encipheronly: 7,
  decipheronly: 8,
};
const KEY_USAGE_NAMES = 'digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly, decipherOnly';

/** A named BIT STRING in DER: trailing zero bits left out, the unused bits counted (X.690 11.2.2). */
function keyUsageValue(names: readonly string[]): Result<Buffer, string> {
  const bits = new Set<number>();
  for (const name of names) {
    const bit = KEY_USAGE_BITS[name.toLowerCase()];
    if (bit === undefined) return err(`unknown key usage '${name}'; known: ${KEY_USAGE_NAMES}`);
    bits.add(bit);
  }
  const highest = Math.max(...bits);
  const octets = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) octets[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest % 8);
  return ok(encodeDer(forge.asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, String.fromCharCode(unused) + octets.toString('binary'))));
}

/** The key purposes `--eku` takes by name (RFC 5280 4.2.1.12, RFC 4945 5.1.3.12), in the order the error lists them. */
const ISSUABLE_KEY_PURPOSES = [
  'serverAuth',
  'clientAuth',
  'ipsecIKE',
  'codeSigning',
  'emailProtection',
  'timeStamping',
  'OCSPSigning',
  'ipsecEndSystem',
  'ipsecTunnel',
  'ipsecUser',
  'anyExtendedKeyUsage',
] as const satisfies readonly (keyof typeof KEY_PURPOSE_OIDS)[];
const KEY_PURPOSES: ReadonlyMap<string, string> = new Map(ISSUABLE_KEY_PURPOSES.map((name) => [name.toLowerCase(), KEY_PURPOSE_OIDS[name]]));
const DOTTED_OID = /^[0-2](\.(0|[1-9]\d*))+$/;

function extendedKeyUsageValue(names: readonly string[]): Result<Buffer, string> {
  const oids: string[] = [];
  for (const name of names) {
    const oid = DOTTED_OID.test(name) ? name : KEY_PURPOSES.get(name.toLowerCase());
    if (oid === undefined) return err(`unknown extended key usage '${name}'; known: ${ISSUABLE_KEY_PURPOSES.join(', ')}, or a dotted OID`);
    if (!oids.includes(oid)) oids.push(oid);
  }
  return ok(encodeDer(sequence(oids.map(oidNode))));
}

/** DistributionPoint { distributionPoint [0] { fullName [0] GeneralNames } } per URI (RFC 5280 4.2.1.13). */
function crlDistributionPointsValue(uris: readonly string[]): Result<Buffer, string> {
  const points: Asn1[] = [];
  for (const uri of uris) {
    const name = parseSubjectAltName(`uri:${uri}`);
    if (!name.ok) return err(`CRL distribution point '${uri}' is not a URI (scheme:rest)`);
    // DistributionPointName is a CHOICE, so its [0] is explicit; fullName's [0] is implicit (constructed: GeneralNames is a SEQUENCE).
    const fullName = forge.asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [generalNameNode(name.value)]);
    points.push(sequence([forge.asn1.create(Class.CONTEXT_SPECIFIC, 0, true, [fullName])]));
  }
  return ok(encodeDer(sequence(points)));
}

function basicConstraintsValue(ca: { readonly pathLen?: number } | undefined): Result<Buffer, string> {
  if (ca === undefined) return ok(encodeDer(sequence([]))); // cA DEFAULT FALSE: left out in DER
  const { pathLen } = ca;
  if (pathLen === undefined) return ok(encodeDer(sequence([booleanTrue()])));
  if (!Number.isSafeInteger(pathLen) || pathLen < 0) return err(`a path length constraint is a whole number ≥ 0, not ${pathLen}`);
  return ok(encodeDer(sequence([booleanTrue(), integerNode(unsignedIntegerContents(bigintMagnitude(BigInt(pathLen))))])));
}

const isSelfSigned = (issuer: CertificateIssuer | SelfSigned): issuer is SelfSigned => 'selfSignedWith' in issuer;

/** The Name as forge ASN.1: parsed from text, or taken as the DER holds it. */
function nameNode(name: string | Buffer, what: string): Result<Asn1, string> {
  if (typeof name === 'string') {
    const parsed = parseDistinguishedName(name);
    if (!parsed.ok) return err(`${what}: ${parsed.error}`);
    const node = decodeDer(parsed.value.der);
    return node.ok ? node : err(`${what}: ${node.error}`);
  }
  const checked = nameFromDer(name);
  if (!checked.ok) return err(`${what}: ${checked.error}`);
  const node = decodeDer(name);
  return node.ok ? node : err(`${what}: ${node.error}`);
}

/** The certificate's DER, or what in the template cannot be encoded. */
export function certificateFromTemplate(t: CertificateTemplate): Result<Buffer, string> {
  if (t.publicKey.type !== 'public') return err('the certificate is for a public key (a private key was given)');
  const subject = nameNode(t.subject, 'subject');
  if (!subject.ok) return subject;
  const selfSigned = isSelfSigned(t.issuer);
  const signingKey = isSelfSigned(t.issuer) ? t.issuer.selfSignedWith : t.issuer.privateKey;
  if (signingKey.type !== 'private') return err('the issuer key is not a private key');
  const signingPublic = subjectPublicKeyInfoDer(createPublicKey(signingKey));
  const spkiDer = subjectPublicKeyInfoDer(t.publicKey);
  if (selfSigned && !signingPublic.equals(spkiDer)) return err('a self-signed certificate must be signed with the private key of its own public key');
  const issuerName = isSelfSigned(t.issuer) ? subject : nameNode(t.issuer.subject, 'issuer');
  if (!issuerName.ok) return issuerName;

  const scheme = signatureSchemeFor(signingKey, { ...(t.signatureHash === undefined ? {} : { hash: t.signatureHash }), ...(t.rsaPss === undefined ? {} : { rsaPss: t.rsaPss }) });
  if (!scheme.ok) return scheme;
  const serial = serialContents(t.serial ?? defaultSerial());
  if (!serial.ok) return serial;
  if (!(t.notAfterMs > t.notBeforeMs)) return err('the certificate must end after it begins (notAfter after notBefore)');
  const notBefore = timeNode(t.notBeforeMs);
  if (!notBefore.ok) return notBefore;
  const notAfter = timeNode(t.notAfterMs);
  if (!notAfter.ok) return notAfter;
  const spki = decodeDer(spkiDer);
  if (!spki.ok) return spki;

  const extensions = certificateExtensions(t, selfSigned ? undefined : (t.issuer as CertificateIssuer));
  if (!extensions.ok) return extensions;

  // TBSCertificate (RFC 5280 4.1): v3, since it carries extensions (4.1.2.1).
  const tbs = sequence([
    explicitTag(0, integerNode(Buffer.from([2]))),
    integerNode(serial.value),
    algorithmIdentifierAsn1(scheme.value),
    issuerName.value,
    sequence([notBefore.value, notAfter.value]),
    subject.value,
    spki.value,
    explicitTag(3, sequence(extensions.value)),
  ]);
  try {
    return ok(signedEnvelope(tbs, scheme.value, signingKey));
  } catch (e) {
    return err(`signing the certificate failed: ${(e as Error).message}`);
  }
}

/** 16 random octets, top bit cleared so the INTEGER is positive without a leading zero octet. */
function defaultSerial(): Buffer {
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  // A leading zero octet would be dropped by DER: keep the serial 16 octets long.
  serial[0]! |= 0x40;
  return serial;
}

function certificateExtensions(t: CertificateTemplate, issuer: CertificateIssuer | undefined): Result<Asn1[], string> {
  const extensions: Asn1[] = [];
  const add = (oid: string, critical: boolean, value: Result<Buffer, string>): Result<void, string> => {
    if (!value.ok) return value;
    extensions.push(extensionNode(oid, critical, value.value));
    return ok(undefined);
  };
  const isCa = t.ca !== undefined;
  const isRsa = t.publicKey.asymmetricKeyType === 'rsa' || t.publicKey.asymmetricKeyType === 'rsa-pss';

  // basicConstraints: critical in a CA certificate (RFC 5280 4.2.1.9 MUST); in an end entity
  // cA=FALSE says so to any reader, non-critical as RFC 5280 allows.
  let step = add(EXTENSION_OIDS.basicConstraints, isCa, basicConstraintsValue(t.ca));
  if (!step.ok) return step;

  const keyUsage = t.keyUsage ?? (isCa ? ['keyCertSign', 'cRLSign'] : isRsa ? ['digitalSignature', 'keyEncipherment'] : ['digitalSignature']);
  if (keyUsage.length > 0) {
    // RFC 5280 4.2.1.3: SHOULD be critical when present.
    step = add(EXTENSION_OIDS.keyUsage, true, keyUsageValue(keyUsage));
    if (!step.ok) return step;
  }

  const extendedKeyUsage = t.extendedKeyUsage ?? (isCa ? [] : ['serverAuth', 'clientAuth', 'ipsecIKE']);
  if (extendedKeyUsage.length > 0) {
    step = add(EXTENSION_OIDS.extKeyUsage, false, extendedKeyUsageValue(extendedKeyUsage));
    if (!step.ok) return step;
  }

  // RFC 5280 4.2.1.2: MUST in a CA certificate, SHOULD in an end entity's; never critical.
  const subjectKeyId = keyIdentifierOf(t.publicKey);
  extensions.push(extensionNode(EXTENSION_OIDS.subjectKeyIdentifier, false, encodeDer(octetString(subjectKeyId))));
  // RFC 5280 4.2.1.1: MUST except in a self-signed CA certificate, where it MAY be (and names itself).
  extensions.push(authorityKeyIdentifierExtension(issuer === undefined ? subjectKeyId : (issuer.subjectKeyId ?? keyIdentifierOf(issuer.privateKey))));

  const sans = t.subjectAltNames ?? [];
  if (sans.length > 0) {
    const names: Asn1[] = [];
    for (const text of sans) {
      const name = parseSubjectAltName(text);
      if (!name.ok) return name;
      names.push(generalNameNode(name.value));
    }
    // Non-critical: the subject is never empty here (parseDistinguishedName refuses an empty DN).
    extensions.push(extensionNode(EXTENSION_OIDS.subjectAltName, false, encodeDer(sequence(names))));
  }

  if (t.crlDistributionPoints !== undefined && t.crlDistributionPoints.length > 0) {
    step = add(EXTENSION_OIDS.cRLDistributionPoints, false, crlDistributionPointsValue(t.crlDistributionPoints));
    if (!step.ok) return step;
  }

  for (const extra of t.extraExtensions ?? []) {
    if (!DOTTED_OID.test(extra.oid)) return err(`extension OID '${extra.oid}' is not a dotted OID`);
    extensions.push(extensionNode(extra.oid, extra.critical, extra.valueDer));
  }
  // RFC 5280 4.2: a certificate MUST NOT include more than one instance of an extension.
  const oids = extensions.map((e) => (Array.isArray(e.value) ? forge.asn1.derToOid(forge.util.createBuffer(e.value[0]!.value as string)) : ''));
  const repeated = oids.find((oid, i) => oids.indexOf(oid) !== i);
  if (repeated !== undefined) return err(`extension ${repeated} appears twice (RFC 5280 4.2 allows one instance)`);
  return ok(extensions);
}

/** For tests and callers whose template is known good: the DER, or an exception saying what is wrong. */
export function buildCertificate(t: CertificateTemplate): Buffer {
  const der = certificateFromTemplate(t);
  if (!der.ok) throw new Error(der.error);
  return der.value;
}

export type PemLabel = 'CERTIFICATE' | 'X509 CRL' | 'PRIVATE KEY' | 'ENCRYPTED PRIVATE KEY';

/** RFC 7468 textual encoding: base64 in lines of 64 characters between the labels. */
export function toPem(label: PemLabel, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
