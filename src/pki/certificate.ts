/**
 * X.509 certificates (RFC 5280 4.1) as IKEv2 receives them in CERT payloads (RFC 7296 3.6) and
 * as ikekm reads them from its CA files: every field the chain validation and the identity
 * check need, read from the DER by walking it (node-forge's certificate reader knows only RSA
 * keys), keys handed to node:crypto.
 *
 * Reading never throws: a certificate that is not one comes back as an error value saying which
 * field is wrong. What is well-formed but not acceptable (an unsupported signature algorithm, a
 * critical extension nothing here processes) is read, and refused by the chain validation with a
 * message that names the certificate.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { bitStringOf, booleanOf, childrenOf, contentsOf, decodeDer, elementsOf, isContext, isUniversal, oidOf, sequenceOf, smallIntegerOf, type Asn1 } from './der.js';
import { describeKey } from './key-description.js';
import { nameFromAsn1, sameName, type DistinguishedName } from './distinguished-name.js';
import { describeGeneralName, generalNameList, generalNamesOf, type GeneralName } from './general-name.js';
import { describeScheme, schemeOfAlgorithmIdentifier, spkiSha1, verifyData, type SignatureScheme } from './signature-algorithm.js';
import { EXTENSION_OIDS, KEY_PURPOSE_NAMES, extensionLabel, extensionsOf, type Extension } from './x509-extension.js';
import { formatTime, timeOf } from './x509-time.js';
import { looksLikePem, pemBlocks } from './pem-blocks.js';
import { printable } from './display-text.js';

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'cRLSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** KeyUsage bits in order (RFC 5280 4.2.1.3): bit 0 is the first octet's most significant bit. */
export const KEY_USAGE_BITS: readonly KeyUsageName[] = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
];

export type SubjectAltName = GeneralName;

export interface Certificate {
  /** The whole certificate. */
  readonly der: Buffer;
  /** The TBSCertificate's DER as received: the octets the signature covers. */
  readonly tbs: Buffer;
  /** The outer signatureAlgorithm; an unsupported one is not a parse error (validation refuses it by name). */
  readonly signatureScheme: Result<SignatureScheme, string>;
  /** The BIT STRING's octets without the unused-bits octet. */
  readonly signature: Buffer;
  /** 1..3 */
  readonly version: number;
  /** The INTEGER's contents octets. */
  readonly serial: Buffer;
  /** `0a:1b:2c`: lower-case hex, colon separated, a leading 00 sign octet dropped, as strongSwan and OpenSSL print it. */
  readonly serialText: string;
  readonly subject: DistinguishedName;
  readonly issuer: DistinguishedName;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** SubjectPublicKeyInfo DER as received. */
  readonly spki: Buffer;
  /** SHA-1 of the SubjectPublicKeyInfo: how a CERTREQ names a CA (RFC 7296 3.7). */
  readonly spkiSha1: Buffer;
  /** Undefined when node:crypto cannot read the key, or it is no key ikekm checks signatures with. */
  readonly publicKey: KeyObject | undefined;
  /** `RSA-2048`, `ECDSA P-256`, `ECDSA P-384`, `Ed25519`, or `unsupported key <oid>`. */
  readonly keyDescription: string;
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  readonly keyUsage?: ReadonlySet<KeyUsageName>;
  /** Dotted OIDs. */
  readonly extendedKeyUsage?: readonly string[];
  readonly subjectAltNames: readonly SubjectAltName[];
  readonly subjectKeyId?: Buffer;
  readonly authorityKeyId?: Buffer;
  /** URIs of the CRL distribution points, for information (ikekm reads CRLs from files). */
  readonly crlDistributionPoints: readonly string[];
  /** Critical extensions this code does not process (RFC 5280 4.2: such a certificate MUST be rejected). */
  readonly unknownCriticalExtensions: readonly string[];
  /** The subject equals the issuer and the signature verifies with the certificate's own key. */
  readonly selfSigned: boolean;
}

const { Type } = forge.asn1;


/** `0a:1b`, a leading sign octet 00 dropped (it is there only to keep the INTEGER positive). */
export function serialTextOf(serial: Buffer): string {
  const octets = serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
  return [...octets].map((o) => o.toString(16).padStart(2, '0')).join(':');
}

/** `"C=CH, O=ikekm, CN=gw" (issuer "C=CH, O=ikekm, CN=ikekm CA", serial 0a:1b)`: how every refusal names a certificate. */
export function certificateName(c: Certificate): string {
  return `"${printable(c.subject.text)}" (issuer "${printable(c.issuer.text)}", serial ${c.serialText})`;
}

/** A certificate's DER to its fields; the error says which field is wrong. Never throws. */
export function parseCertificate(der: Buffer): Result<Certificate, string> {
  const parts = elementsOf(der);
  if (!parts.ok) return err(`Certificate: ${parts.error}`);
  if (der[0] !== 0x30 || parts.value.length !== 3) return err('Certificate: not a SEQUENCE of tbsCertificate, signatureAlgorithm and signatureValue');
  const [tbs, outerAlgorithm, signatureValue] = parts.value as [Buffer, Buffer, Buffer];

  const algorithm = decodeDer(outerAlgorithm);
  if (!algorithm.ok) return err(`Certificate.signatureAlgorithm: ${algorithm.error}`);
  const signatureNode = decodeDer(signatureValue);
  const signature = signatureNode.ok ? bitStringOf(signatureNode.value) : undefined;
  if (signature === undefined || signature.unusedBits !== 0) return err('Certificate.signatureValue: not a BIT STRING of whole octets');

  const fields = tbsFields(tbs, outerAlgorithm);
  if (!fields.ok) return err(`Certificate.tbsCertificate${fields.error}`);
  const scheme = schemeOfAlgorithmIdentifier(algorithm.value);
  const f = fields.value;
  const selfSigned = sameName(f.subject, f.issuer) && f.publicKey !== undefined && scheme.ok && verifyData(scheme.value, f.publicKey, tbs, signature.octets);
  return ok({ der: Buffer.from(der), tbs: Buffer.from(tbs), signatureScheme: scheme, signature: Buffer.from(signature.octets), ...f, selfSigned });
}

type TbsFields = Omit<Certificate, 'der' | 'tbs' | 'signatureScheme' | 'signature' | 'selfSigned'>;

/** TBSCertificate (RFC 5280 4.1.2); errors start with `.field: ` so the caller can prefix the path. */
function tbsFields(tbs: Buffer, outerAlgorithm: Buffer): Result<TbsFields, string> {
  const elements = elementsOf(tbs);
  if (!elements.ok) return err(`: ${elements.error}`);
  if (tbs[0] !== 0x30) return err(': not a SEQUENCE');
  const items = elements.value;
  let i = 0;
  const next = (): Buffer | undefined => items[i++];

  // version [0] EXPLICIT Version DEFAULT v1 (RFC 5280 4.1.2.1)
  let version = 1;
  if (items[0]?.[0] === 0xa0) {
    const node = decodeDer(next()!);
    const inner = node.ok ? childrenOf(node.value) : undefined;
    const v = inner?.length === 1 ? smallIntegerOf(inner[0]!) : undefined;
    if (v === undefined || v > 2) return err('.version: not v1, v2 or v3');
    version = v + 1;
  }

  const serialNode = decodeOne(next(), 'serialNumber');
  if (!serialNode.ok) return serialNode;
  const serial = isUniversal(serialNode.value, Type.INTEGER) ? contentsOf(serialNode.value) : undefined;
  if (serial === undefined || serial.length === 0) return err('.serialNumber: not an INTEGER');

  // RFC 5280 4.1.1.2: the signature field inside MUST equal signatureAlgorithm outside.
  const innerAlgorithm = next();
  if (innerAlgorithm === undefined) return err('.signature: missing');
  if (!innerAlgorithm.equals(outerAlgorithm)) return err('.signature: differs from the outer signatureAlgorithm (RFC 5280 4.1.1.2)');

  const issuerNode = decodeOne(next(), 'issuer');
  if (!issuerNode.ok) return issuerNode;
  const issuer = nameFromAsn1(issuerNode.value);
  if (!issuer.ok) return err(`.issuer: ${issuer.error}`);

  const validityNode = decodeOne(next(), 'validity');
  if (!validityNode.ok) return validityNode;
  const validity = sequenceOf(validityNode.value);
  if (validity?.length !== 2) return err('.validity: not a SEQUENCE of notBefore and notAfter');
  const notBefore = timeOf(validity[0]!);
  if (!notBefore.ok) return err(`.validity.notBefore: ${notBefore.error}`);
  const notAfter = timeOf(validity[1]!);
  if (!notAfter.ok) return err(`.validity.notAfter: ${notAfter.error}`);

  const subjectNode = decodeOne(next(), 'subject');
  if (!subjectNode.ok) return subjectNode;
  const subject = nameFromAsn1(subjectNode.value);
  if (!subject.ok) return err(`.subject: ${subject.error}`);

  const spki = next();
  if (spki === undefined) return err('.subjectPublicKeyInfo: missing');
  const key = publicKeyOf(spki);
  if (!key.ok) return err(`.subjectPublicKeyInfo: ${key.error}`);

  // issuerUniqueID [1] and subjectUniqueID [2] (RFC 5280 4.1.2.8): skipped, nothing uses them.
  while (items[i] !== undefined && (items[i]![0] === 0x81 || items[i]![0] === 0xa1 || items[i]![0] === 0x82 || items[i]![0] === 0xa2)) i++;

  let extensions: Extension[] = [];
  const extensionsElement = next();
  if (extensionsElement !== undefined) {
    if (extensionsElement[0] !== 0xa3) return err(`: unexpected element ${i} (tag 0x${extensionsElement[0]!.toString(16)})`);
    if (version !== 3) return err(`.extensions: present in a version ${version} certificate (RFC 5280 4.1.2.9 allows them in v3 only)`);
    const node = decodeDer(extensionsElement);
    const inner = node.ok ? childrenOf(node.value) : undefined;
    if (inner?.length !== 1) return err('.extensions: not [3] EXPLICIT Extensions');
    const list = extensionsOf(inner[0]!);
    if (!list.ok) return err(`.extensions: ${list.error}`);
    extensions = list.value;
  }
  if (i < items.length) return err(`: ${items.length - i} unexpected elements after the extensions`);

  const known = knownExtensions(extensions);
  if (!known.ok) return err(`.extensions: ${known.error}`);

  return ok({
    version,
    serial: Buffer.from(serial),
    serialText: serialTextOf(serial),
    subject: subject.value,
    issuer: issuer.value,
    notBeforeMs: notBefore.value,
    notAfterMs: notAfter.value,
    spki: Buffer.from(spki),
    spkiSha1: spkiSha1(spki),
    ...key.value,
    ...known.value,
  });
}

function decodeOne(element: Buffer | undefined, field: string): Result<Asn1, string> {
  if (element === undefined) return err(`.${field}: missing`);
  const node = decodeDer(element);
  return node.ok ? node : err(`.${field}: ${node.error}`);
}

/** The key node:crypto reads from the SubjectPublicKeyInfo, and how messages name it. */
function publicKeyOf(spki: Buffer): Result<{ publicKey: KeyObject | undefined; keyDescription: string }, string> {
  const node = decodeDer(spki);
  const fields = node.ok ? sequenceOf(node.value) : undefined;
  const algorithm = fields?.[0] === undefined ? undefined : sequenceOf(fields[0]);
  const oid = algorithm?.[0] === undefined ? undefined : oidOf(algorithm[0]);
  if (fields?.length !== 2 || oid === undefined || bitStringOf(fields[1]!) === undefined) return err('not an AlgorithmIdentifier and a BIT STRING');
  const unsupported = { publicKey: undefined, keyDescription: `unsupported key ${oid}` };
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    return ok(unsupported); // a key type or curve OpenSSL does not know, or a malformed key
  }
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
    case 'ec':
    case 'ed25519':
      return ok({ publicKey: key, keyDescription: describeKey(key) });
    default:
      // DSA, Ed448, X25519…: node reads them, but no signature scheme of ikekm uses them.
      return ok(unsupported);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type KnownExtensionFields = Pick<
  Certificate,
  'basicConstraints' | 'keyUsage' | 'extendedKeyUsage' | 'subjectAltNames' | 'subjectKeyId' | 'authorityKeyId' | 'crlDistributionPoints' | 'unknownCriticalExtensions'
>;

/** The extensions this code processes, read; a malformed one is an error naming it. */
function knownExtensions(extensions: readonly Extension[]): Result<KnownExtensionFields, string> {
  const fields: Mutable<KnownExtensionFields> = { subjectAltNames: [], crlDistributionPoints: [], unknownCriticalExtensions: [] };
  const unknownCritical: string[] = [];
  for (const extension of extensions) {
    const read = readExtension(extension, fields);
    if (read === 'unknown') {
      if (extension.critical) unknownCritical.push(extension.oid);
    } else if (!read.ok) {
      return err(`${extensionLabel(extension.oid)}: ${read.error}`);
    }
  }
  fields.unknownCriticalExtensions = unknownCritical;
  return ok(fields);
}

/** The extensions this code processes (RFC 5280 4.2); any other critical one makes the certificate unacceptable. */
const PROCESSED_EXTENSIONS: ReadonlySet<string> = new Set([
  EXTENSION_OIDS.basicConstraints,
  EXTENSION_OIDS.keyUsage,
  EXTENSION_OIDS.extKeyUsage,
  EXTENSION_OIDS.subjectAltName,
  EXTENSION_OIDS.issuerAltName,
  EXTENSION_OIDS.subjectKeyIdentifier,
  EXTENSION_OIDS.authorityKeyIdentifier,
  EXTENSION_OIDS.cRLDistributionPoints,
  EXTENSION_OIDS.authorityInfoAccess,
]);

function readExtension(extension: Extension, fields: Mutable<KnownExtensionFields>): Result<void, string> | 'unknown' {
  if (!PROCESSED_EXTENSIONS.has(extension.oid)) return 'unknown';
  if (!extension.value.ok) return extension.value;
  const node = extension.value.value;
  switch (extension.oid) {
    case EXTENSION_OIDS.basicConstraints: {
      const r = basicConstraintsOf(node);
      if (!r.ok) return r;
      fields.basicConstraints = r.value;
      return ok(undefined);
    }
    case EXTENSION_OIDS.keyUsage: {
      const r = keyUsageOf(node);
      if (!r.ok) return r;
      fields.keyUsage = r.value;
      return ok(undefined);
    }
    case EXTENSION_OIDS.extKeyUsage: {
      const items = sequenceOf(node);
      const oids = items?.map(oidOf);
      if (oids === undefined || oids.length === 0 || oids.some((o) => o === undefined)) return err('not a SEQUENCE OF KeyPurposeId');
      fields.extendedKeyUsage = oids as string[];
      return ok(undefined);
    }
    case EXTENSION_OIDS.subjectAltName: {
      const names = generalNamesOf(node);
      if (!names.ok) return names;
      fields.subjectAltNames = names.value;
      return ok(undefined);
    }
    case EXTENSION_OIDS.issuerAltName: {
      // Read to check it is well-formed; nothing in IKE uses it (RFC 4945 5.1.3.7).
      const names = generalNamesOf(node);
      return names.ok ? ok(undefined) : names;
    }
    case EXTENSION_OIDS.subjectKeyIdentifier: {
      const id = isUniversal(node, Type.OCTETSTRING) ? contentsOf(node) : undefined;
      if (id === undefined) return err('not an OCTET STRING');
      fields.subjectKeyId = id;
      return ok(undefined);
    }
    case EXTENSION_OIDS.authorityKeyIdentifier: {
      const r = authorityKeyIdOf(node);
      if (!r.ok) return r;
      if (r.value !== undefined) fields.authorityKeyId = r.value;
      return ok(undefined);
    }
    case EXTENSION_OIDS.cRLDistributionPoints: {
      const r = distributionPointUris(node);
      if (!r.ok) return r;
      fields.crlDistributionPoints = r.value;
      return ok(undefined);
    }
    case EXTENSION_OIDS.authorityInfoAccess:
      // OCSP and caIssuers locations: ikekm fetches nothing, so only the shape matters.
      return sequenceOf(node) === undefined ? err('not a SEQUENCE OF AccessDescription') : ok(undefined);
    default:
      return 'unknown';
  }
}

/** BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER (0..MAX) OPTIONAL } (RFC 5280 4.2.1.9). */
function basicConstraintsOf(node: Asn1): Result<{ ca: boolean; pathLen?: number }, string> {
  const items = sequenceOf(node);
  if (items === undefined || items.length > 2) return err('not a SEQUENCE of cA and pathLenConstraint');
  let ca = false;
  let rest = items;
  if (rest[0] !== undefined && isUniversal(rest[0], Type.BOOLEAN)) {
    const flag = booleanOf(rest[0]);
    if (flag === undefined) return err('cA is not a BOOLEAN');
    ca = flag;
    rest = rest.slice(1);
  }
  if (rest.length === 0) return ok({ ca });
  const pathLen = rest.length === 1 ? smallIntegerOf(rest[0]!) : undefined;
  if (pathLen === undefined) return err('pathLenConstraint is not a non-negative INTEGER');
  return ok({ ca, pathLen });
}

/** KeyUsage ::= BIT STRING (RFC 5280 4.2.1.3). */
function keyUsageOf(node: Asn1): Result<Set<KeyUsageName>, string> {
  const bits = bitStringOf(node);
  if (bits === undefined) return err('not a BIT STRING');
  const usage = new Set<KeyUsageName>();
  KEY_USAGE_BITS.forEach((name, bit) => {
    const octet = bits.octets[bit >> 3];
    if (octet !== undefined && (octet & (0x80 >> (bit & 7))) !== 0) usage.add(name);
  });
  return ok(usage);
}

/** AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, … } (RFC 5280 4.2.1.1). */
function authorityKeyIdOf(node: Asn1): Result<Buffer | undefined, string> {
  const items = sequenceOf(node);
  if (items === undefined) return err('not a SEQUENCE');
  const keyId = items.find((item) => isContext(item, 0));
  if (keyId === undefined) return ok(undefined);
  const octets = contentsOf(keyId);
  return octets === undefined ? err('keyIdentifier is not an OCTET STRING') : ok(octets);
}

/**
 * The URIs of CRLDistributionPoints (RFC 5280 4.2.1.13): each DistributionPoint's
 * distributionPoint [0] holding fullName [0] GeneralNames.
 */
function distributionPointUris(node: Asn1): Result<string[], string> {
  const points = sequenceOf(node);
  if (points === undefined) return err('not a SEQUENCE OF DistributionPoint');
  const uris: string[] = [];
  for (const point of points) {
    const fields = sequenceOf(point);
    if (fields === undefined) return err('a DistributionPoint is not a SEQUENCE');
    const name = fields.find((f) => isContext(f, 0));
    const fullName = name === undefined ? undefined : childrenOf(name)?.find((f) => isContext(f, 0));
    const names = fullName === undefined ? undefined : childrenOf(fullName);
    if (names === undefined) continue; // nameRelativeToCRLIssuer or cRLIssuer only: no URI here
    const list = generalNameList(names);
    if (!list.ok) return list;
    for (const n of list.value) if (n.kind === 'uri') uris.push(n.value);
  }
  return ok(uris);
}

/** A file's certificates: PEM with one or more CERTIFICATE blocks, or one DER certificate. */
export function readCertificates(content: Buffer): Result<Certificate[], string> {
  if (!looksLikePem(content)) {
    const one = parseCertificate(content);
    return one.ok ? ok([one.value]) : err(`not PEM, and as DER: ${one.error}`);
  }
  const blocks = pemBlocks(content.toString('latin1'), ['CERTIFICATE', 'X509 CERTIFICATE']);
  if (!blocks.ok) return blocks;
  if (blocks.value.length === 0) return err('the PEM holds no CERTIFICATE block');
  const certificates: Certificate[] = [];
  for (const { block, der } of blocks.value) {
    const c = parseCertificate(der);
    if (!c.ok) return err(`PEM block ${block}: ${c.error}`);
    certificates.push(c.value);
  }
  return ok(certificates);
}

export const keyPurposeName = (oid: string): string => KEY_PURPOSE_NAMES[oid] ?? oid;

/** Key usage names in bit order, for messages. */
export function keyUsageText(usage: ReadonlySet<KeyUsageName>): string {
  const names = KEY_USAGE_BITS.filter((n) => usage.has(n));
  return names.length === 0 ? '(no bit set)' : names.join(', ');
}

const hexColons = (octets: Buffer, upper = false): string => {
  const text = [...octets].map((o) => o.toString(16).padStart(2, '0')).join(':');
  return upper ? text.toUpperCase() : text;
};

/** The lines `ikekm pki show` prints for a certificate. */
export function describeCertificate(c: Certificate): string[] {
  const lines = [
    `subject:     "${printable(c.subject.text)}"`,
    `issuer:      "${printable(c.issuer.text)}"${c.selfSigned ? ' (self-signed)' : ''}`,
    `serial:      ${c.serialText}`,
    `validity:    ${formatTime(c.notBeforeMs)} .. ${formatTime(c.notAfterMs)}`,
    `key:         ${c.keyDescription}`,
    `signature:   ${c.signatureScheme.ok ? describeScheme(c.signatureScheme.value) : c.signatureScheme.error}`,
  ];
  if (c.subjectAltNames.length > 0) lines.push(`altNames:    ${c.subjectAltNames.map(describeGeneralName).join(', ')}`);
  if (c.basicConstraints !== undefined) {
    const { ca, pathLen } = c.basicConstraints;
    lines.push(`basicConstraints: ${ca ? 'CA' : 'not a CA'}${pathLen === undefined ? '' : `, pathLenConstraint ${pathLen}`}`);
  }
  if (c.keyUsage !== undefined) lines.push(`keyUsage:    ${keyUsageText(c.keyUsage)}`);
  if (c.extendedKeyUsage !== undefined) lines.push(`extendedKeyUsage: ${c.extendedKeyUsage.map(keyPurposeName).join(', ')}`);
  if (c.subjectKeyId !== undefined) lines.push(`subjectKeyId: ${hexColons(c.subjectKeyId)}`);
  if (c.authorityKeyId !== undefined) lines.push(`authorityKeyId: ${hexColons(c.authorityKeyId)}`);
  if (c.crlDistributionPoints.length > 0) lines.push(`crlDistributionPoints: ${c.crlDistributionPoints.map(printable).join(', ')}`);
  if (c.unknownCriticalExtensions.length > 0) lines.push(`unprocessed critical extensions: ${c.unknownCriticalExtensions.map(extensionLabel).join(', ')}`);
  lines.push(`CERTREQ hash (SHA-1 of the public key): ${hexColons(c.spkiSha1)}`);
  lines.push(`SHA-256 fingerprint: ${hexColons(createHash('sha256').update(c.der).digest(), true)}`);
  return lines;
}
