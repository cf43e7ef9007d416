/**
 * CERT and CERTREQ payloads for X.509 (RFC 7296 3.6, 3.7): the certificates a peer sends to be
 * checked, end entity first, and the CAs whose chains it asks for, each as the SHA-1 hash of the
 * CA's SubjectPublicKeyInfo. Other encodings (hash and URL, PKCS#7, raw keys) are not used.
 */
import { CertEncoding, PayloadType, certReqAuthorityHashes, certReqPayload, type CertPayload, type CertReqPayload, type Payload } from '../../wire/index.js';

/** CERTREQ for X.509 with the SHA-1 hashes of the CAs' public keys (RFC 7296 3.7); none when empty. */
export function certificateRequest(caHashes: readonly Buffer[]): Payload[] {
  return caHashes.length === 0 ? [] : [certReqPayload(CertEncoding.X509_SIGNATURE, Buffer.concat(caHashes))];
}

/** The X.509 certificates of CERT payloads, in the order sent (end entity first, 3.6); other encodings are left out. */
export function certificatesOf(inner: readonly Payload[]): Buffer[] {
  return inner.filter((p): p is CertPayload => p.type === PayloadType.CERT && 'encoding' in p && p.encoding === CertEncoding.X509_SIGNATURE).map((p) => p.data);
}

/** The CA hashes of X.509 CERTREQ payloads; undefined when there is none. */
export function certificateRequestsOf(inner: readonly Payload[]): Buffer[] | undefined {
  const requests = inner.filter((p): p is CertReqPayload => p.type === PayloadType.CERTREQ && 'encoding' in p && p.encoding === CertEncoding.X509_SIGNATURE);
  if (requests.length === 0) return undefined;
  return requests.flatMap((r) => certReqAuthorityHashes(r) ?? []);
}

