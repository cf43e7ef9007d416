/**
 * The check of a peer's certificates before its signature AUTH is believed (RFC 7296 2.15, 3.5;
 * RFC 4945 3.1, 5): the CERT payloads' chain to the CAs the connection trusts, each certificate
 * valid now and not revoked by the configured CRLs (RFC 5280 6, src/pki/chain-validation.ts),
 * and the peer's IKE identity named by its end-entity certificate.
 *
 * The verdict is plain data, the answer to the machine's `check-peer-certificates` effect: a
 * refusal names the certificate (subject, issuer, serial) and the rule it broke, so the log and
 * `ikekm up` say exactly why; success carries the end entity's public key for the AUTH check.
 */
import { formatIdentity, type PeerTrust } from '../config/model.js';
import { validateChain } from '../pki/chain-validation.js';
import { certificateName, parseCertificate, type Certificate } from '../pki/certificate.js';
import { parseCrl, type Crl } from '../pki/crl.js';
import { certificateNamesIdentity, describeCertificateIdentities } from '../pki/identity-binding.js';
import type { Result } from '../result.js';
import type { Identity } from '../wire/index.js';

export type PeerCertificateVerdict =
  | {
      readonly ok: true;
      /** The end entity's SubjectPublicKeyInfo (DER). */
      readonly publicKey: Buffer;
      readonly subject: string;
      /** The subjects along the validated chain, end entity first, trust anchor last. */
      readonly chain: readonly string[];
    }
  | { readonly ok: false; readonly reason: string };

/**
 * Parsed certificates (trust anchors, our own chain) and CRLs, by the configuration's DER buffers: the configuration keeps them
 * for its life (a reload makes new ones), so each is parsed once, not per negotiation. The loader
 * refused what does not parse; anything that still does not is left out here.
 */
const parsed = new WeakMap<Buffer, Certificate | Crl | string>();

function parsedOnce<T extends Certificate | Crl>(ders: readonly Buffer[], parse: (der: Buffer) => Result<T, string>): T[] {
  return ders.flatMap((der) => {
    let value = parsed.get(der);
    if (value === undefined) {
      const r = parse(der);
      value = r.ok ? r.value : r.error;
      parsed.set(der, value);
    }
    return typeof value === 'string' ? [] : [value as T];
  });
}

const anchorsOf = (trust: PeerTrust): Certificate[] => parsedOnce(trust.anchors, parseCertificate);

/** A certificate of the configuration (ours, or a CA), parsed once; undefined if it does not parse. */
export const configuredCertificate = (der: Buffer): Certificate | undefined => parsedOnce([der], parseCertificate)[0];
const crlsOf = (trust: PeerTrust): Crl[] => parsedOnce(trust.crls, parseCrl);

/**
 * Checks the peer's certificates (CERT payloads, end entity first, RFC 7296 3.6) at `atMs` for
 * a connection trusting `trust`, and that the end entity names `peerId`.
 */
export function checkPeerCertificates(trust: PeerTrust, certificates: readonly Buffer[], peerId: Identity, atMs: number): PeerCertificateVerdict {
  if (certificates.length === 0) return { ok: false, reason: `the peer (ID ${formatIdentity(peerId)}) sent no certificate (no CERT payload) to check its signature with` };
  const parsed: Certificate[] = [];
  for (const [i, der] of certificates.entries()) {
    const r = parseCertificate(der);
    if (!r.ok) return { ok: false, reason: `the peer's ${i === 0 ? 'certificate' : `certificate ${i + 1} (an intermediate)`} does not parse: ${r.error}` };
    parsed.push(r.value);
  }
  const [endEntity, ...intermediates] = parsed as [Certificate, ...Certificate[]];
  const verdict = validateChain({ endEntity, intermediates, anchors: anchorsOf(trust), crls: crlsOf(trust), atMs });
  if (!verdict.ok) return { ok: false, reason: verdict.message };
  // RFC 7296 3.5 / RFC 4945 3.1: the identity the peer claims must be in its certificate.
  if (!certificateNamesIdentity(endEntity, peerId)) {
    return {
      ok: false,
      reason: `${certificateName(endEntity)} does not name the peer's ID ${formatIdentity(peerId)}: it has ${describeCertificateIdentities(endEntity)} (RFC 7296 3.5: the ID must be the subject or a subjectAltName)`,
    };
  }
  return { ok: true, publicKey: endEntity.spki, subject: endEntity.subject.text, chain: verdict.chain.map((c) => c.subject.text) };
}
