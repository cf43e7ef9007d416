/**
 * RFC 7296 3.6 Certificate payload (CERT) and 3.7 Certificate Request payload (CERTREQ).
 *
 *   | Cert Encoding |                                               |
 *   +-+-+-+-+-+-+-+-+                                               |
 *   ~                       Certificate Data                        ~      (CERT)
 *   ~                    Certification Authority                    ~      (CERTREQ)
 *
 * Both stay opaque here: the codec does not parse X.509 (and ikekm has no certificate
 * authentication yet).
 */
import { PayloadType } from '../iana.js';
import type { ByteReader } from '../reader.js';
import type { ByteWriter } from '../writer.js';
import type { PayloadHeaderFields } from '../payload-header.js';

/** RFC 7296 3.7: for X.509 encodings, the CA field is a concatenation of SHA-1 hashes. */
const SHA1_LENGTH = 20;

export interface CertPayload extends PayloadHeaderFields {
  type: typeof PayloadType.CERT;
  /** CertEncoding registry value. */
  encoding: number;
  data: Buffer;
}

export interface CertReqPayload extends PayloadHeaderFields {
  type: typeof PayloadType.CERTREQ;
  /** CertEncoding registry value. */
  encoding: number;
  /** Certification Authority field: for X509_SIGNATURE, SHA-1 hashes of trusted CAs' public keys. */
  authority: Buffer;
}

export function decodeCertBody(r: ByteReader): CertPayload {
  const encoding = r.u8();
  return { type: PayloadType.CERT, encoding, data: r.rest() };
}

export function decodeCertReqBody(r: ByteReader): CertReqPayload {
  const encoding = r.u8();
  return { type: PayloadType.CERTREQ, encoding, authority: r.rest() };
}

export function certBodyLength(p: CertPayload): number {
  return 1 + p.data.length;
}

export function certReqBodyLength(p: CertReqPayload): number {
  return 1 + p.authority.length;
}

export function writeCertBody(w: ByteWriter, p: CertPayload): void {
  w.u8(p.encoding, 'Cert Encoding');
  w.bytes(p.data);
}

export function writeCertReqBody(w: ByteWriter, p: CertReqPayload): void {
  w.u8(p.encoding, 'Cert Encoding');
  w.bytes(p.authority);
}

/**
 * The 20-octet CA public key hashes of an X.509 CERTREQ (RFC 7296 3.7); undefined when the
 * field is not a whole number of hashes.
 */
export function certReqAuthorityHashes(p: CertReqPayload): Buffer[] | undefined {
  if (p.authority.length % SHA1_LENGTH !== 0) return undefined;
  const out: Buffer[] = [];
  for (let i = 0; i < p.authority.length; i += SHA1_LENGTH) out.push(p.authority.subarray(i, i + SHA1_LENGTH));
  return out;
}

export function certPayload(encoding: number, data: Buffer): CertPayload {
  return { type: PayloadType.CERT, encoding, data };
}

export function certReqPayload(encoding: number, authority: Buffer): CertReqPayload {
  return { type: PayloadType.CERTREQ, encoding, authority };
}
