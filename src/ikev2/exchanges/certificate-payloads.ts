/**
 * CERT and CERTREQ payloads for X.509 (RFC 7296 3.6, 3.7): the certificates a peer sends to be
 * checked, end entity first, and the CAs whose chains it asks for, each as the SHA-1 hash of the
 * CA's SubjectPublicKeyInfo. Other encodings (hash and URL, PKCS#7, raw keys) are not used.
 */
import type { ConnectionConfig, LocalCertificate } from '../../config/model.js';
import { configuredCertificate } from '../peer-certificates.js';
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


/**
 * The certificates to send for the peer's CERTREQ (RFC 7296 3.7; RFC 4945 3.2.1): the end entity
 * and the intermediates up to, not including, the first one the peer names as a CA it trusts —
 * it has that one and what is above. When the peer names none of ours (or none at all), the
 * whole chain: its anchor may be above our last intermediate.
 */
export function certificatesForRequest(chain: readonly Buffer[], requested: readonly Buffer[] | undefined): readonly Buffer[] {
  if (requested === undefined || requested.length === 0) return chain;
  const wanted = new Set(requested.map((h) => h.toString('hex')));
  const cut = chain.findIndex((der, i) => i > 0 && wanted.has(configuredCertificate(der)?.spkiSha1.toString('hex') ?? ''));
  return cut < 0 ? chain : chain.slice(0, cut);
}

/** The CA hashes we ask the peer's chain for (CERTREQ, RFC 7296 3.7); none with a PSK. */
export function ourCertificateRequest(connection: ConnectionConfig): readonly Buffer[] {
  return connection.ikePolicy.auth === 'pubkey' ? (connection.remote.trust?.caHashes ?? []) : [];
}

/**
 * The CERTs of our IKE_AUTH (RFC 7296 3.6): the chain when the peer asked with a CERTREQ or the
 * connection always sends (`sendCert`), else none (strongSwan's `send_cert = ifasked`); cut at a
 * CA the peer names (`requested`, certificatesForRequest).
 */
export function certificatesToSend(certificate: LocalCertificate, peerAsked: boolean, requested: readonly Buffer[] | undefined): readonly Buffer[] {
  return certificate.sendCert === 'always' || peerAsked ? certificatesForRequest(certificate.chain, requested) : [];
}
