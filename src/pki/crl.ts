/**
 * Certificate revocation lists (RFC 5280 5) as ikekm reads them from the CRL files of its
 * configuration: the issuer, the update times, and each revoked serial with its date and reason.
 * The chain validation decides whether a CRL counts for a certificate (its issuer, its signature,
 * its scope); reading only checks that it is well-formed. Never throws.
 */
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { serialTextOf } from './certificate.js';
import { bitStringOf, childrenOf, contentsOf, decodeDer, elementsOf, isContext, isUniversal, sequenceOf, smallIntegerOf, type Asn1 } from './der.js';
import { nameFromAsn1, type DistinguishedName } from './distinguished-name.js';
import { looksLikePem, pemBlocks } from './pem-blocks.js';
import { printable } from './display-text.js';
import { describeScheme, schemeOfAlgorithmIdentifier, type SignatureScheme } from './signature-algorithm.js';
import { EXTENSION_OIDS, extensionLabel, extensionsOf, type Extension } from './x509-extension.js';
import { formatTime, timeOf } from './x509-time.js';

export interface RevokedEntry {
  readonly atMs: number;
  /** The RFC 5280 5.3.1 name: `keyCompromise`, `cACompromise`, `superseded`, … */
  readonly reason?: string;
}

/** What an issuingDistributionPoint (RFC 5280 5.2.5) limits the CRL to. */
export interface CrlScope {
  readonly onlyUserCerts: boolean;
  readonly onlyCaCerts: boolean;
  readonly onlyAttributeCerts: boolean;
  /** onlySomeReasons is present: the CRL lists only revocations for some reasons. */
  readonly someReasons: boolean;
  /** indirectCRL: entries may concern certificates of other issuers. */
  readonly indirect: boolean;
}

export interface Crl {
  readonly der: Buffer;
  /** The TBSCertList's DER as received: the octets the signature covers. */
  readonly tbs: Buffer;
  readonly signatureScheme: Result<SignatureScheme, string>;
  /** The BIT STRING's octets without the unused-bits octet. */
  readonly signature: Buffer;
  readonly issuer: DistinguishedName;
  readonly thisUpdateMs: number;
  readonly nextUpdateMs: number | undefined;
  /** By serial in Certificate.serialText form (`0a:1b`). */
  readonly revoked: ReadonlyMap<string, RevokedEntry>;
  /**
   * Serials (serialText form) listed as negative INTEGERs, which RFC 5280 4.1.2.2 forbids: the
   * text form cannot tell them from the positive serial of the same octets, so a tool that
   * copies entries on must refuse them rather than change their meaning.
   */
  readonly negativeSerials: readonly string[];
  readonly crlNumber?: bigint;
  readonly authorityKeyId?: Buffer;
  /** Present when the CRL has an issuingDistributionPoint. */
  readonly scope?: CrlScope;
  /**
   * Critical CRL or CRL entry extensions this code does not process (a delta CRL's indicator, an
   * indirect CRL's certificateIssuer): RFC 5280 5.2 and 5.3 forbid using such a CRL.
   */
  readonly unknownCriticalExtensions: readonly string[];
}

const { Type } = forge.asn1;


/** CRLReason (RFC 5280 5.3.1); 7 is not used. */
const REASONS: readonly (string | undefined)[] = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  undefined,
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
];

/** A CRL's DER to its fields; the error says which field is wrong. */
export function parseCrl(der: Buffer): Result<Crl, string> {
  const parts = elementsOf(der);
  if (!parts.ok) return err(`CertificateList: ${parts.error}`);
  if (der[0] !== 0x30 || parts.value.length !== 3) return err('CertificateList: not a SEQUENCE of tbsCertList, signatureAlgorithm and signatureValue');
  const [tbs, outerAlgorithm, signatureValue] = parts.value as [Buffer, Buffer, Buffer];
  const algorithm = decodeDer(outerAlgorithm);
  if (!algorithm.ok) return err(`CertificateList.signatureAlgorithm: ${algorithm.error}`);
  const signatureNode = decodeDer(signatureValue);
  const signature = signatureNode.ok ? bitStringOf(signatureNode.value) : undefined;
  if (signature === undefined || signature.unusedBits !== 0) return err('CertificateList.signatureValue: not a BIT STRING of whole octets');
  const fields = tbsFields(tbs, outerAlgorithm);
  if (!fields.ok) return err(`CertificateList.tbsCertList${fields.error}`);
  return ok({
    der: Buffer.from(der),
    tbs: Buffer.from(tbs),
    signatureScheme: schemeOfAlgorithmIdentifier(algorithm.value),
    signature: Buffer.from(signature.octets),
    ...fields.value,
  });
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type TbsFields = Omit<Crl, 'der' | 'tbs' | 'signatureScheme' | 'signature'>;

/** TBSCertList (RFC 5280 5.1.2); errors start with `.field: `. */
function tbsFields(tbs: Buffer, outerAlgorithm: Buffer): Result<TbsFields, string> {
  const elements = elementsOf(tbs);
  if (!elements.ok) return err(`: ${elements.error}`);
  if (tbs[0] !== 0x30) return err(': not a SEQUENCE');
  const nodes: Asn1[] = [];
  for (const element of elements.value) {
    const node = decodeDer(element);
    if (!node.ok) return err(`: element ${nodes.length + 1}: ${node.error}`);
    nodes.push(node.value);
  }
  let i = 0;
  // version Version OPTIONAL; if present MUST be v2 (RFC 5280 5.1.2.1).
  let version = 1;
  if (nodes[0] !== undefined && isUniversal(nodes[0], Type.INTEGER)) {
    if (smallIntegerOf(nodes[0]) !== 1) return err('.version: not v2');
    version = 2;
    i++;
  }
  // RFC 5280 5.1.1.2: the signature field inside MUST equal signatureAlgorithm outside.
  if (elements.value[i] === undefined || !elements.value[i]!.equals(outerAlgorithm)) return err('.signature: differs from the outer signatureAlgorithm (RFC 5280 5.1.1.2)');
  i++;
  if (nodes[i] === undefined) return err('.issuer: missing');
  const issuer = nameFromAsn1(nodes[i++]!);
  if (!issuer.ok) return err(`.issuer: ${issuer.error}`);
  if (nodes[i] === undefined) return err('.thisUpdate: missing');
  const thisUpdate = timeOf(nodes[i++]!);
  if (!thisUpdate.ok) return err(`.thisUpdate: ${thisUpdate.error}`);
  let nextUpdateMs: number | undefined;
  if (nodes[i] !== undefined && (isUniversal(nodes[i]!, Type.UTCTIME) || isUniversal(nodes[i]!, Type.GENERALIZEDTIME))) {
    const nextUpdate = timeOf(nodes[i++]!);
    if (!nextUpdate.ok) return err(`.nextUpdate: ${nextUpdate.error}`);
    nextUpdateMs = nextUpdate.value;
  }

  const unknownCritical: string[] = [];
  const revoked = new Map<string, RevokedEntry>();
  const negativeSerials: string[] = [];
  if (nodes[i] !== undefined && isUniversal(nodes[i]!, Type.SEQUENCE)) {
    const entries = sequenceOf(nodes[i++]!)!;
    for (const [index, entry] of entries.entries()) {
      const read = revokedEntry(entry, version);
      if (!read.ok) return err(`.revokedCertificates[${index}]: ${read.error}`);
      for (const oid of read.value.unknownCritical) if (!unknownCritical.includes(oid)) unknownCritical.push(oid);
      if (read.value.negative) negativeSerials.push(read.value.serialText);
      // A serial listed twice keeps its first entry; both say it is revoked.
      if (!revoked.has(read.value.serialText)) revoked.set(read.value.serialText, read.value.entry);
    }
  }

  const fields: Mutable<TbsFields> = { issuer: issuer.value, thisUpdateMs: thisUpdate.value, nextUpdateMs, revoked, negativeSerials, unknownCriticalExtensions: unknownCritical };
  if (nodes[i] !== undefined && isContext(nodes[i]!, 0)) {
    if (version !== 2) return err('.crlExtensions: present in a version 1 CRL (RFC 5280 5.1.2.1)');
    const inner = childrenOf(nodes[i++]!);
    if (inner?.length !== 1) return err('.crlExtensions: not [0] EXPLICIT Extensions');
    const list = extensionsOf(inner[0]!);
    if (!list.ok) return err(`.crlExtensions: ${list.error}`);
    for (const extension of list.value) {
      const read = crlExtension(extension, fields);
      if (read === 'unknown') {
        if (extension.critical && !unknownCritical.includes(extension.oid)) unknownCritical.push(extension.oid);
      } else if (!read.ok) return err(`.crlExtensions: ${extensionLabel(extension.oid)}: ${read.error}`);
    }
  }
  if (i < nodes.length) return err(`: ${nodes.length - i} unexpected elements at the end`);
  return ok(fields);
}

/** One revokedCertificates entry: userCertificate, revocationDate, crlEntryExtensions (RFC 5280 5.3). */
function revokedEntry(node: Asn1, version: number): Result<{ serialText: string; negative: boolean; entry: RevokedEntry; unknownCritical: string[] }, string> {
  const fields = sequenceOf(node);
  if (fields === undefined || fields.length < 2 || fields.length > 3) return err('not a SEQUENCE of a serial, a date and extensions');
  const serial = isUniversal(fields[0]!, Type.INTEGER) ? contentsOf(fields[0]!) : undefined;
  if (serial === undefined || serial.length === 0) return err('userCertificate is not an INTEGER');
  const at = timeOf(fields[1]!);
  if (!at.ok) return err(`revocationDate: ${at.error}`);
  const unknownCritical: string[] = [];
  let reason: string | undefined;
  if (fields[2] !== undefined) {
    if (version !== 2) return err('crlEntryExtensions: present in a version 1 CRL (RFC 5280 5.1.2.1)');
    const list = extensionsOf(fields[2]);
    if (!list.ok) return err(`crlEntryExtensions: ${list.error}`);
    for (const extension of list.value) {
      if (extension.oid === EXTENSION_OIDS.reasonCode) {
        const code = extension.value.ok ? smallIntegerOf(extension.value.value, Type.ENUMERATED) : undefined;
        if (code === undefined) return err('reasonCode (2.5.29.21): not an ENUMERATED');
        reason = REASONS[code] ?? `reason ${code}`;
      } else if (extension.oid === EXTENSION_OIDS.invalidityDate) {
        // Informational (RFC 5280 5.3.2): when the key is known or suspected to have been compromised.
      } else if (extension.critical) {
        unknownCritical.push(extension.oid);
      }
    }
  }
  return ok({ serialText: serialTextOf(serial), negative: (serial[0]! & 0x80) !== 0, entry: reason === undefined ? { atMs: at.value } : { atMs: at.value, reason }, unknownCritical });
}

function crlExtension(extension: Extension, fields: Mutable<TbsFields>): Result<void, string> | 'unknown' {
  const known: readonly string[] = [EXTENSION_OIDS.cRLNumber, EXTENSION_OIDS.authorityKeyIdentifier, EXTENSION_OIDS.issuingDistributionPoint, EXTENSION_OIDS.issuerAltName];
  if (!known.includes(extension.oid)) return 'unknown';
  if (!extension.value.ok) return extension.value;
  const node = extension.value.value;
  switch (extension.oid) {
    case EXTENSION_OIDS.cRLNumber: {
      // CRLNumber ::= INTEGER (0..MAX), up to 20 octets (RFC 5280 5.2.3): a bigint.
      const octets = isUniversal(node, Type.INTEGER) ? contentsOf(node) : undefined;
      if (octets === undefined || octets.length === 0 || octets.length > 21 || (octets[0]! & 0x80) !== 0) return err('not a non-negative INTEGER of at most 20 octets');
      fields.crlNumber = BigInt(`0x${octets.toString('hex')}`);
      return ok(undefined);
    }
    case EXTENSION_OIDS.authorityKeyIdentifier: {
      const items = sequenceOf(node);
      if (items === undefined) return err('not a SEQUENCE');
      const keyId = items.find((item) => isContext(item, 0));
      const octets = keyId === undefined ? undefined : contentsOf(keyId);
      if (keyId !== undefined && octets === undefined) return err('keyIdentifier is not an OCTET STRING');
      if (octets !== undefined) fields.authorityKeyId = octets;
      return ok(undefined);
    }
    case EXTENSION_OIDS.issuingDistributionPoint: {
      const scope = scopeOf(node);
      if (!scope.ok) return scope;
      fields.scope = scope.value;
      return ok(undefined);
    }
    case EXTENSION_OIDS.issuerAltName:
      return sequenceOf(node) === undefined ? err('not a SEQUENCE') : ok(undefined);
    default:
      return 'unknown';
  }
}

/** IssuingDistributionPoint (RFC 5280 5.2.5); the distributionPoint name is not used (ikekm reads CRLs from files). */
function scopeOf(node: Asn1): Result<CrlScope, string> {
  const items = sequenceOf(node);
  if (items === undefined) return err('not a SEQUENCE');
  // IMPLICIT BOOLEANs: a context-specific primitive of one octet.
  const flag = (tag: number): boolean | undefined => {
    const item = items.find((f) => isContext(f, tag));
    if (item === undefined) return false;
    const octets = contentsOf(item);
    return octets?.length === 1 ? octets[0] !== 0 : undefined;
  };
  const [onlyUserCerts, onlyCaCerts, indirect, onlyAttributeCerts] = [flag(1), flag(2), flag(4), flag(5)];
  if (onlyUserCerts === undefined || onlyCaCerts === undefined || indirect === undefined || onlyAttributeCerts === undefined) return err('a flag is not a BOOLEAN');
  return ok({ onlyUserCerts, onlyCaCerts, onlyAttributeCerts, someReasons: items.some((f) => isContext(f, 3)), indirect });
}

/** A file's CRLs: PEM with one or more X509 CRL blocks, or one DER CRL. */
export function readCrls(content: Buffer): Result<Crl[], string> {
  if (!looksLikePem(content)) {
    const one = parseCrl(content);
    return one.ok ? ok([one.value]) : err(`not PEM, and as DER: ${one.error}`);
  }
  const blocks = pemBlocks(content.toString('latin1'), ['X509 CRL']);
  if (!blocks.ok) return blocks;
  if (blocks.value.length === 0) return err('the PEM holds no X509 CRL block');
  const crls: Crl[] = [];
  for (const { block, der } of blocks.value) {
    const crl = parseCrl(der);
    if (!crl.ok) return err(`PEM block ${block}: ${crl.error}`);
    crls.push(crl.value);
  }
  return ok(crls);
}

/** Is the CRL past its nextUpdate at `atMs` (RFC 5280 5.1.2.5)? */
export function crlIsStale(crl: Crl, atMs: number): boolean {
  return crl.nextUpdateMs !== undefined && crl.nextUpdateMs < atMs;
}

/** The lines `ikekm pki show` prints for a CRL. */
export function describeCrl(crl: Crl): string[] {
  const lines = [
    `issuer:      "${printable(crl.issuer.text)}"`,
    `thisUpdate:  ${formatTime(crl.thisUpdateMs)}`,
    `nextUpdate:  ${crl.nextUpdateMs === undefined ? 'none' : formatTime(crl.nextUpdateMs)}`,
  ];
  if (crl.crlNumber !== undefined) lines.push(`crlNumber:   ${crl.crlNumber}`);
  lines.push(`signature:   ${crl.signatureScheme.ok ? describeScheme(crl.signatureScheme.value) : crl.signatureScheme.error}`);
  if (crl.authorityKeyId !== undefined) lines.push(`authorityKeyId: ${[...crl.authorityKeyId].map((o) => o.toString(16).padStart(2, '0')).join(':')}`);
  if (crl.scope !== undefined) {
    const { onlyUserCerts, onlyCaCerts, onlyAttributeCerts, someReasons, indirect } = crl.scope;
    const limits = [onlyUserCerts && 'only end-entity certificates', onlyCaCerts && 'only CA certificates', onlyAttributeCerts && 'only attribute certificates', someReasons && 'only some reasons', indirect && 'indirect'].filter(
      (l): l is string => typeof l === 'string',
    );
    lines.push(`scope:       ${limits.length === 0 ? 'all certificates of the issuer' : limits.join(', ')}`);
  }
  if (crl.unknownCriticalExtensions.length > 0) lines.push(`unprocessed critical extensions: ${crl.unknownCriticalExtensions.map(extensionLabel).join(', ')}`);
  lines.push(`revoked:     ${crl.revoked.size === 0 ? 'none' : `${crl.revoked.size} certificate${crl.revoked.size === 1 ? '' : 's'}`}`);
  for (const [serial, entry] of crl.revoked) lines.push(`  ${serial} revoked ${formatTime(entry.atMs)}${entry.reason === undefined ? '' : ` (${entry.reason})`}`);
  return lines;
}
