/**
 * Does a certificate name the IKE identity its holder claims? RFC 7296 3.5 and RFC 4945 3.1:
 * the ID payload must be found in the end-entity certificate, in subjectAltName for addresses,
 * FQDNs and email addresses, in the subject for a DN. The CN is never read as an FQDN (RFC 4945
 * 3.2.3 forbids it, and it would let any CA-issued CN stand for a host name).
 */
import { parseIp, type Identity } from '../wire/index.js';
import { describeGeneralName } from './general-name.js';
import { printable } from './display-text.js';
import { nameFromDer, sameName } from './distinguished-name.js';
import type { Certificate } from './certificate.js';

export function certificateNamesIdentity(cert: Certificate, id: Identity): boolean {
  const sans = cert.subjectAltNames;
  switch (id.kind) {
    case 'ipv4':
    case 'ipv6': {
      // RFC 4945 3.2.1, 3.2.2: ID_IPV4_ADDR / ID_IPV6_ADDR match an iPAddress of the same octets
      // (octets, so an IPv6 address matches however its text is written).
      const wanted = parseIp(id.address);
      const length = id.kind === 'ipv4' ? 4 : 16;
      if (wanted?.length !== length) return false;
      return sans.some((san) => san.kind === 'ip' && parseIp(san.value)?.equals(wanted) === true);
    }
    case 'fqdn': {
      // RFC 4945 3.2.3: ID_FQDN matches a dNSName; DNS names compare without regard to case (RFC 4343).
      const wanted = id.fqdn.toLowerCase();
      return sans.some((san) => san.kind === 'dns' && san.value.toLowerCase() === wanted);
    }
    case 'rfc822': {
      // RFC 4945 3.2.4: ID_USER_FQDN matches an rfc822Name; compared as strongSwan does, without regard to case.
      const wanted = id.rfc822.toLowerCase();
      return sans.some((san) => san.kind === 'email' && san.value.toLowerCase() === wanted);
    }
    case 'der-asn1-dn': {
      // RFC 4945 3.2.5: ID_DER_ASN1_DN matches the subject (a directoryName in the SAN as well, as strongSwan accepts).
      const name = nameFromDer(id.der);
      if (!name.ok) return false;
      return sameName(name.value, cert.subject) || sans.some((san) => san.kind === 'dn' && sameName(name.value, san.value));
    }
    case 'der-asn1-gn':
    case 'key-id':
    case 'null':
    case 'other':
      // No certificate field is defined to carry these (RFC 4945 3.2.6-3.2.8).
      return false;
  }
}

/** `subject "C=CH, CN=gw", subjectAltName DNS:gw.example, IP:192.0.2.1`: what a refusal lists as the names the certificate has. */
export function describeCertificateIdentities(cert: Certificate): string {
  const subject = `subject "${printable(cert.subject.text)}"`;
  if (cert.subjectAltNames.length === 0) return `${subject}, no subjectAltName`;
  return `${subject}, subjectAltName ${cert.subjectAltNames.map(describeGeneralName).join(', ')}`;
}
