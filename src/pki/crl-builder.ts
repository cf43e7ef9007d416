/**
 * Issuing X.509 v2 CRLs (RFC 5280 5): what `ikekm pki crl` writes, and what tests revoke with.
 * The TBSCertList is built with node-forge's ASN.1 codec and signed with node:crypto, as
 * certificates are (certificate-builder.ts).
 *
 * Every CRL carries the two extensions RFC 5280 5.2 asks a conforming CA for: the
 * authorityKeyIdentifier (5.2.1) and the cRLNumber (5.2.3). An entry carries a reasonCode
 * (5.3.1) unless its reason is unspecified, where the extension SHOULD be absent.
 */
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { decodeDer, encodeDer, type Asn1 } from './der.js';
import { nameFromDer, parseDistinguishedName } from './distinguished-name.js';
import { algorithmIdentifierAsn1 } from './signature-algorithm.js';
import { EXTENSION_OIDS } from './x509-extension.js';
import type { CertificateIssuer } from './certificate-builder.js';
import {
  authorityKeyIdentifierExtension,
  bigintMagnitude,
  explicitTag,
  extensionNode,
  integerNode,
  keyIdentifierOf,
  sequence,
  serialContents,
  signatureSchemeFor,
  signedEnvelope,
  timeNode,
  unsignedIntegerContents,
} from './x509-encoding.js';

const { Class, Type } = forge.asn1;

/** CRLReason (RFC 5280 5.3.1) by name; 7 is not used, and removeFromCRL (8) belongs to delta CRLs only. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type RevocationReason = keyof typeof REVOCATION_REASONS;

export interface RevokedCertificate {
  /** The serial's magnitude, as the certificate holds it. */
  readonly serial: Buffer;
  readonly atMs: number;
  readonly reason?: RevocationReason;
}

export interface CrlTemplate {
  readonly issuer: CertificateIssuer;
  readonly thisUpdateMs: number;
  readonly nextUpdateMs: number;
  /** RFC 5280 5.2.3: a non-negative number, larger in each CRL the CA issues, at most 20 octets. */
  readonly crlNumber: bigint;
  readonly revoked: readonly RevokedCertificate[];
  readonly signatureHash?: 'sha256' | 'sha384' | 'sha512';
  readonly rsaPss?: boolean;
}

function issuerNameNode(subject: string | Buffer): Result<Asn1, string> {
  const der = typeof subject === 'string' ? parseDistinguishedName(subject) : nameFromDer(subject);
  if (!der.ok) return err(`issuer: ${der.error}`);
  return decodeDer(der.value.der);
}

/** The CRL's DER, or what in the template cannot be encoded. */
export function crlFromTemplate(t: CrlTemplate): Result<Buffer, string> {
  const issuer = issuerNameNode(t.issuer.subject);
  if (!issuer.ok) return issuer;
  const scheme = signatureSchemeFor(t.issuer.privateKey, { ...(t.signatureHash === undefined ? {} : { hash: t.signatureHash }), ...(t.rsaPss === undefined ? {} : { rsaPss: t.rsaPss }) });
  if (!scheme.ok) return scheme;
  if (!(t.nextUpdateMs > t.thisUpdateMs)) return err('the next update must come after this update');
  const thisUpdate = timeNode(t.thisUpdateMs);
  if (!thisUpdate.ok) return thisUpdate;
  const nextUpdate = timeNode(t.nextUpdateMs);
  if (!nextUpdate.ok) return nextUpdate;
  if (t.crlNumber < 0n) return err('a CRL number is not negative (RFC 5280 5.2.3)');
  const crlNumber = unsignedIntegerContents(bigintMagnitude(t.crlNumber));
  if (crlNumber.length > 20) return err('a CRL number is at most 20 octets (RFC 5280 5.2.3)');

  const entries: Asn1[] = [];
  const seen = new Set<string>();
  for (const revoked of t.revoked) {
    const serial = serialContents(revoked.serial);
    if (!serial.ok) return serial;
    const key = serial.value.toString('hex');
    if (seen.has(key)) return err(`serial ${key} is listed twice`);
    seen.add(key);
    const at = timeNode(revoked.atMs);
    if (!at.ok) return at;
    const code = revoked.reason === undefined ? 0 : REVOCATION_REASONS[revoked.reason];
    if (code === undefined) return err(`unknown revocation reason '${revoked.reason}'`);
    const entryExtensions =
      code === 0 ? [] : [sequence([extensionNode(EXTENSION_OIDS.reasonCode, false, encodeDer(forge.asn1.create(Class.UNIVERSAL, Type.ENUMERATED, false, String.fromCharCode(code))))])];
    entries.push(sequence([integerNode(serial.value), at.value, ...entryExtensions]));
  }

  const extensions = [
    authorityKeyIdentifierExtension(t.issuer.subjectKeyId ?? keyIdentifierOf(t.issuer.privateKey)),
    extensionNode(EXTENSION_OIDS.cRLNumber, false, encodeDer(integerNode(crlNumber))),
  ];
  // TBSCertList (RFC 5280 5.1): v2 (INTEGER 1) since it has extensions; revokedCertificates is
  // left out, not empty, when nothing is revoked (5.1.2.6).
  const tbs = sequence([
    integerNode(Buffer.from([1])),
    algorithmIdentifierAsn1(scheme.value),
    issuer.value,
    thisUpdate.value,
    nextUpdate.value,
    ...(entries.length > 0 ? [sequence(entries)] : []),
    explicitTag(0, sequence(extensions)),
  ]);
  try {
    return ok(signedEnvelope(tbs, scheme.value, t.issuer.privateKey));
  } catch (e) {
    return err(`signing the CRL failed: ${(e as Error).message}`);
  }
}

/** For tests and callers whose template is known good: the DER, or an exception saying what is wrong. */
export function buildCrl(t: CrlTemplate): Buffer {
  const der = crlFromTemplate(t);
  if (!der.ok) throw new Error(der.error);
  return der.value;
}
