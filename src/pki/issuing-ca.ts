/**
 * What issuing needs from files a CA already has: its certificate (the subject Name octet for
 * octet, RFC 5280 4.1.2.4, and its subjectKeyIdentifier for the authorityKeyIdentifier of what
 * it signs, 4.2.1.1) and its previous CRL (the entries to carry over and the cRLNumber to
 * increase, 5.2.3).
 *
 * Both are read by the same parsers that read a peer's certificates and the configured CRLs
 * (certificate.ts, crl.ts), so `ikekm pki` and the daemon agree on what a file holds. Files are
 * PEM or DER; the first certificate or CRL of a PEM file is the one used. Nothing here throws on
 * a bad file: errors say what is wrong.
 */
import type { KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../result.js';
import { readCertificates, type Certificate } from './certificate.js';
import { readCrls } from './crl.js';
import { REVOCATION_REASONS, type RevocationReason, type RevokedCertificate } from './crl-builder.js';
import { sameName, type DistinguishedName } from './distinguished-name.js';
import { verifyData } from './signature-algorithm.js';

export interface IssuingCa {
  readonly certificate: Certificate;
  /** Its key, which verifies what the CA signed (a CA whose key ikekm cannot use is refused). */
  readonly publicKey: KeyObject;
  /** The subject as the certificate holds it: `der` is what the issuer field of what it signs repeats. */
  readonly subject: DistinguishedName;
  /** Its subjectKeyIdentifier as the certificate holds it, if it has one. */
  readonly subjectKeyId: Buffer | undefined;
}

/** The CA certificate of `ikekm pki issue` and `ikekm pki crl`: a certificate with basicConstraints cA=TRUE. */
export function readIssuingCa(content: Buffer): Result<IssuingCa, string> {
  const read = readCertificates(content);
  if (!read.ok) return err(`not a certificate (PEM or DER): ${read.error}`);
  const certificate = read.value[0]!;
  // RFC 5280 4.2.1.9: only cA=TRUE makes a certificate's key one that may sign certificates.
  if (certificate.basicConstraints?.ca !== true) return err(`${certificate.subject.text} is not a CA certificate (no basicConstraints cA=TRUE)`);
  if (certificate.publicKey === undefined) return err(`${certificate.subject.text} has a key ikekm cannot sign with (${certificate.keyDescription})`);
  return ok({ certificate, publicKey: certificate.publicKey, subject: certificate.subject, subjectKeyId: certificate.subjectKeyId });
}

const REASON_NAMES: ReadonlySet<string> = new Set(Object.keys(REVOCATION_REASONS));

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
  const read = readCrls(content);
  if (!read.ok) return err(`not a CRL (PEM or DER): ${read.error}`);
  const crl = read.value[0]!;
  if (!crl.signatureScheme.ok) return err(`the CRL's ${crl.signatureScheme.error}`);
  if (!verifyData(crl.signatureScheme.value, ca.publicKey, crl.tbs, crl.signature)) return err('the CRL is not signed by this CA');
  if (!sameName(crl.issuer, ca.subject)) return err(`the CRL's issuer is not ${ca.subject.text}`);
  // RFC 5280 4.1.2.2: serials are positive. A negative one would be carried over as the positive
  // serial of the same octets, another certificate's.
  if (crl.negativeSerials.length > 0) return err('the CRL lists a negative serial number');

  const revoked: RevokedCertificate[] = [];
  for (const [serialText, entry] of crl.revoked) {
    // crl.ts names the reasons as RFC 5280 5.3.1 does; the builder writes the same names, except
    // removeFromCRL, which belongs to delta CRLs (RFC 5280 5.3.1), and codes RFC 5280 does not define.
    if (entry.reason !== undefined && !REASON_NAMES.has(entry.reason)) return err(`the CRL has an entry with reason ${entry.reason}, which ikekm does not carry over`);
    const reason = entry.reason as RevocationReason | undefined;
    // The magnitude, as the builder takes it: serialText has no sign octet.
    const serial = Buffer.from(serialText.replace(/:/g, ''), 'hex');
    revoked.push({ serial, atMs: entry.atMs, ...(reason === undefined || reason === 'unspecified' ? {} : { reason }) });
  }
  return ok({ crlNumber: crl.crlNumber, revoked });
}
