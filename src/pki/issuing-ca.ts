/**
 * What issuing needs from files a CA already has: its certificate (the subject Name octet for
 * octet, RFC 5280 4.1.2.4, and its subjectKeyIdentifier for the authorityKeyIdentifier of what
 * it signs, 4.2.1.1) and its previous CRL (the entries to carry over and the cRLNumber to
 * increase, 5.2.3). Only these fields are read; node:crypto's X509Certificate parses the rest.
 *
 * Files are PEM or DER. Nothing here throws on a bad file: errors say what is wrong.
 */
import { X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import { err, ok, type Result } from '../result.js';
import { contentsOf, decodeDer, encodeDer, oidOf, type Asn1 } from './der.js';
import { nameFromAsn1, sameName, type DistinguishedName } from './distinguished-name.js';
import { REVOCATION_REASONS, type RevocationReason, type RevokedCertificate } from './crl-builder.js';
import { schemeOfAlgorithmIdentifier, verifyData } from './signature-algorithm.js';
import { EXTENSION_OIDS } from './x509-encoding.js';

const { Class, Type } = forge.asn1;

export interface IssuingCa {
  readonly certificate: X509Certificate;
  readonly subject: DistinguishedName;
  /** Its subjectKeyIdentifier as the certificate holds it, if it has one. */
  readonly subjectKeyId: Buffer | undefined;
}

export interface CertificateNames {
  readonly subject: DistinguishedName;
  readonly subjectKeyId: Buffer | undefined;
}

const sequenceItems = (node: Asn1 | undefined): Asn1[] | undefined =>
  node !== undefined && node.tagClass === Class.UNIVERSAL && node.type === Type.SEQUENCE && Array.isArray(node.value) ? node.value : undefined;

/** The extensions of a TBSCertificate ([3]) or a TBSCertList ([0]) or a CRL entry, by OID: the extnValue contents. */
function extensionValues(extensions: Asn1 | undefined): Map<string, Buffer> {
  const values = new Map<string, Buffer>();
  for (const extension of sequenceItems(extensions) ?? []) {
    const fields = sequenceItems(extension);
    const oid = fields?.[0] === undefined ? undefined : oidOf(fields[0]);
    const value = fields?.[fields.length - 1];
    const octets = value === undefined ? undefined : contentsOf(value);
    if (oid !== undefined && octets !== undefined && !values.has(oid)) values.set(oid, octets);
  }
  return values;
}

const explicitInner = (node: Asn1 | undefined, tag: number): Asn1 | undefined =>
  node !== undefined && node.tagClass === Class.CONTEXT_SPECIFIC && node.type === tag && Array.isArray(node.value) ? node.value[0] : undefined;

/** A certificate's subject Name and subjectKeyIdentifier, read from its DER. */
export function certificateNames(der: Buffer): Result<CertificateNames, string> {
  const certificate = decodeDer(der);
  if (!certificate.ok) return err(`the certificate is ${certificate.error}`);
  const tbs = sequenceItems(sequenceItems(certificate.value)?.[0]);
  if (tbs === undefined) return err('the certificate has no TBSCertificate');
  // version [0] is absent in a v1 certificate (RFC 5280 4.1: DEFAULT v1).
  const first = tbs[0]?.tagClass === Class.CONTEXT_SPECIFIC ? 1 : 0;
  const subjectNode = tbs[first + 4];
  if (subjectNode === undefined) return err('the certificate has no subject');
  const subject = nameFromAsn1(subjectNode);
  if (!subject.ok) return err(`the certificate subject: ${subject.error}`);
  const extensions = explicitInner(
    tbs.find((n) => n.tagClass === Class.CONTEXT_SPECIFIC && n.type === 3),
    3,
  );
  const skiValue = extensionValues(extensions).get(EXTENSION_OIDS.subjectKeyIdentifier);
  const ski = skiValue === undefined ? undefined : decodeDer(skiValue);
  const subjectKeyId = ski?.ok === true ? contentsOf(ski.value) : undefined;
  return ok({ subject: { ...subject.value, der: encodeDer(subjectNode) }, subjectKeyId });
}

/** The CA certificate of `ikekm pki issue` and `ikekm pki crl`: a certificate with basicConstraints cA=TRUE. */
export function readIssuingCa(content: Buffer): Result<IssuingCa, string> {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(content);
  } catch (e) {
    return err(`not a certificate (PEM or DER): ${(e as Error).message.replace(/^error:[0-9A-F]+:/, '')}`);
  }
  if (!certificate.ca) return err(`${certificate.subject.split('\n').join(', ')} is not a CA certificate (no basicConstraints cA=TRUE)`);
  const names = certificateNames(certificate.raw);
  if (!names.ok) return names;
  return ok({ certificate, ...names.value });
}

const CRL_PEM = /-----BEGIN X509 CRL-----\r?\n([\s\S]*?)-----END X509 CRL-----/;

function crlDer(content: Buffer): Buffer {
  const pem = CRL_PEM.exec(content.toString('latin1'));
  return pem === null ? content : Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64');
}

function timeMs(node: Asn1 | undefined): number | undefined {
  if (node === undefined || typeof node.value !== 'string' || node.tagClass !== Class.UNIVERSAL) return undefined;
  try {
    if (node.type === Type.UTCTIME) return forge.asn1.utcTimeToDate(node.value).getTime();
    if (node.type === Type.GENERALIZEDTIME) return forge.asn1.generalizedTimeToDate(node.value).getTime();
  } catch {
    return undefined;
  }
  return undefined;
}

const isTime = (node: Asn1 | undefined): boolean => node?.tagClass === Class.UNIVERSAL && (node.type === Type.UTCTIME || node.type === Type.GENERALIZEDTIME);

const REASON_NAMES = new Map<number, RevocationReason>(Object.entries(REVOCATION_REASONS).map(([name, code]) => [code, name as RevocationReason]));

export interface PreviousCrl {
  /** Its cRLNumber; undefined in a CRL without one (a v1 CRL, or another tool's). */
  readonly crlNumber: bigint | undefined;
  readonly revoked: readonly RevokedCertificate[];
}

/**
 * A CRL this CA issued before: its signature checked with the CA's key and its issuer compared
 * with the CA's subject, so entries are only carried over from the CA's own list.
 */
export function readPreviousCrl(content: Buffer, ca: IssuingCa): Result<PreviousCrl, string> {
  const decoded = decodeDer(crlDer(content));
  if (!decoded.ok) return err(`not a CRL (PEM or DER): ${decoded.error}`);
  const [tbsNode, algorithm, signatureNode] = sequenceItems(decoded.value) ?? [];
  const tbs = sequenceItems(tbsNode);
  const signature = signatureNode === undefined ? undefined : contentsOf(signatureNode);
  if (tbsNode === undefined || tbs === undefined || algorithm === undefined || signature === undefined || signature[0] !== 0) return err('not a CRL: no TBSCertList, algorithm and signature');
  const scheme = schemeOfAlgorithmIdentifier(algorithm);
  if (!scheme.ok) return err(`the CRL's ${scheme.error}`);
  if (!verifyData(scheme.value, ca.certificate.publicKey, encodeDer(tbsNode), signature.subarray(1))) return err('the CRL is not signed by this CA');

  let i = tbs[0]?.type === Type.INTEGER ? 1 : 0; // version, present in v2
  i++; // signature AlgorithmIdentifier
  const issuer = tbs[i] === undefined ? undefined : nameFromAsn1(tbs[i]!);
  if (issuer === undefined || !issuer.ok || !sameName(issuer.value, ca.subject)) return err(`the CRL's issuer is not ${ca.subject.text}`);
  i += 2; // issuer, thisUpdate
  if (isTime(tbs[i])) i++; // nextUpdate
  const entriesNode = sequenceItems(tbs[i]) !== undefined ? tbs[i++] : undefined;
  const crlExtensions = extensionValues(explicitInner(tbs[i], 0));

  const revoked: RevokedCertificate[] = [];
  for (const entry of sequenceItems(entriesNode) ?? []) {
    const [serialNode, dateNode, entryExtensions] = sequenceItems(entry) ?? [];
    const serial = serialNode?.type === Type.INTEGER ? contentsOf(serialNode) : undefined;
    const atMs = timeMs(dateNode);
    if (serial === undefined || serial.length === 0 || atMs === undefined) return err('the CRL has an entry without a serial number and a date');
    if ((serial[0]! & 0x80) !== 0) return err('the CRL lists a negative serial number');
    const reasonValue = extensionValues(entryExtensions).get(EXTENSION_OIDS.reasonCode);
    let reason: RevocationReason | undefined;
    if (reasonValue !== undefined) {
      const code = decodeDer(reasonValue);
      const octets = code.ok && code.value.type === Type.ENUMERATED ? contentsOf(code.value) : undefined;
      reason = octets?.length === 1 ? REASON_NAMES.get(octets[0]!) : undefined;
      if (reason === undefined) return err(`the CRL has an entry with a reason code ikekm does not carry over (${reasonValue.toString('hex')})`);
    }
    // The magnitude, as the builder takes it: without the sign octet DER puts before a high bit.
    const magnitude = serial.length > 1 && serial[0] === 0 ? serial.subarray(1) : serial;
    revoked.push({ serial: magnitude, atMs, ...(reason === undefined || reason === 'unspecified' ? {} : { reason }) });
  }

  const numberValue = crlExtensions.get(EXTENSION_OIDS.cRLNumber);
  let crlNumber: bigint | undefined;
  if (numberValue !== undefined) {
    const number = decodeDer(numberValue);
    const octets = number.ok && number.value.type === Type.INTEGER ? contentsOf(number.value) : undefined;
    if (octets === undefined || octets.length === 0 || (octets[0]! & 0x80) !== 0) return err('the CRL number is not a non-negative INTEGER');
    crlNumber = BigInt(`0x${octets.toString('hex')}`);
  }
  return ok({ crlNumber, revoked });
}
