/**
 * The IKE identity must be in the certificate (RFC 7296 3.5, RFC 4945 3.1): each ID type against
 * the certificate field that carries it, on certificates made by OpenSSL, with the identities
 * coming from ID payloads as the wire decodes them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, type Certificate } from '../../src/pki/certificate.js';
import { parseDistinguishedName } from '../../src/pki/distinguished-name.js';
import { certificateNamesIdentity, describeCertificateIdentities } from '../../src/pki/identity-binding.js';
import { identityOf, IdType, type Identity } from '../../src/wire/index.js';
import { OpensslPki } from './openssl-fixtures.js';

let pki: OpensslPki;
let gw: Certificate;
let bare: Certificate;

const valid = { notBefore: '20260101000000Z', notAfter: '20270101000000Z' };

beforeAll(() => {
  pki = OpensslPki.create('ikekm-identity-');
  const ca = pki.selfSignedCa('ca', { subject: 'C=CH, O=ikekm, CN=ikekm CA', serial: '01', ...valid });
  const read = (der: Buffer): Certificate => {
    const r = parseCertificate(der);
    if (!r.ok) throw new Error(r.error);
    return r.value;
  };
  gw = read(
    pki.issue(ca, 'gw', {
      subject: 'C=CH, O=ikekm, CN=gw.example',
      serial: '02',
      ...valid,
      extensions: ['keyUsage=digitalSignature', 'subjectAltName=DNS:vpn.example.org,IP:192.0.2.1,IP:2001:db8:0:0:0:0:0:1,email:Ops@GW.example,dirName:alt_dn', '[ alt_dn ]', 'C=CH', 'CN=gw alt'],
    }).der,
  );
  bare = read(pki.issue(ca, 'bare', { subject: 'C=CH, CN=bare.example', serial: '03', ...valid, extensions: ['keyUsage=digitalSignature'] }).der);
});

afterAll(() => pki.remove());

const dn = (text: string): Identity => {
  const r = parseDistinguishedName(text);
  if (!r.ok) throw new Error(r.error);
  return { kind: 'der-asn1-dn', der: r.value.der };
};

describe('certificateNamesIdentity', () => {
  it('ID_IPV4_ADDR and ID_IPV6_ADDR match an iPAddress of the same octets, however IPv6 is written', () => {
    expect(certificateNamesIdentity(gw, { kind: 'ipv4', address: '192.0.2.1' })).toBe(true);
    expect(certificateNamesIdentity(gw, { kind: 'ipv4', address: '192.0.2.2' })).toBe(false);
    expect(certificateNamesIdentity(gw, { kind: 'ipv6', address: '2001:db8::1' })).toBe(true);
    expect(certificateNamesIdentity(gw, { kind: 'ipv6', address: '2001:DB8:0:0:0:0:0:1' })).toBe(true);
    expect(certificateNamesIdentity(gw, { kind: 'ipv6', address: '2001:db8::2' })).toBe(false);
    // From the ID payload's octets, as the wire decodes them.
    const fromWire = identityOf({ idType: IdType.ID_IPV6_ADDR, data: Buffer.from('20010db8000000000000000000000001', 'hex') });
    expect(certificateNamesIdentity(gw, fromWire)).toBe(true);
    // An IPv4 address does not match as an IPv4-mapped IPv6 one, nor the reverse.
    expect(certificateNamesIdentity(gw, { kind: 'ipv6', address: '::ffff:192.0.2.1' })).toBe(false);
  });

  it('ID_FQDN matches a dNSName without regard to case, never the CN (RFC 4945 3.2.3)', () => {
    expect(certificateNamesIdentity(gw, { kind: 'fqdn', fqdn: 'vpn.example.org' })).toBe(true);
    expect(certificateNamesIdentity(gw, { kind: 'fqdn', fqdn: 'VPN.Example.ORG' })).toBe(true);
    expect(certificateNamesIdentity(gw, { kind: 'fqdn', fqdn: 'gw.example' })).toBe(false);
    expect(certificateNamesIdentity(bare, { kind: 'fqdn', fqdn: 'bare.example' })).toBe(false);
    expect(certificateNamesIdentity(gw, { kind: 'fqdn', fqdn: 'example.org' })).toBe(false);
  });

  it('ID_RFC822_ADDR matches an rfc822Name without regard to case', () => {
    expect(certificateNamesIdentity(gw, { kind: 'rfc822', rfc822: 'ops@gw.example' })).toBe(true);
    expect(certificateNamesIdentity(gw, { kind: 'rfc822', rfc822: 'OPS@gw.EXAMPLE' })).toBe(true);
    expect(certificateNamesIdentity(gw, { kind: 'rfc822', rfc822: 'root@gw.example' })).toBe(false);
    // An email address is not a DNS name, nor the reverse.
    expect(certificateNamesIdentity(gw, { kind: 'fqdn', fqdn: 'ops@gw.example' })).toBe(false);
  });

  it('ID_DER_ASN1_DN matches the subject (or a directoryName in subjectAltName)', () => {
    expect(certificateNamesIdentity(gw, dn('C=CH, O=ikekm, CN=gw.example'))).toBe(true);
    expect(certificateNamesIdentity(gw, dn('c=ch, o=IKEKM, cn=GW.example'))).toBe(true);
    expect(certificateNamesIdentity(gw, dn('C=CH, CN=gw alt'))).toBe(true);
    expect(certificateNamesIdentity(gw, dn('O=ikekm, C=CH, CN=gw.example'))).toBe(false);
    expect(certificateNamesIdentity(gw, dn('C=CH, O=ikekm, CN=*'))).toBe(false); // an identity is no pattern
    expect(certificateNamesIdentity(gw, { kind: 'der-asn1-dn', der: Buffer.from([0x30, 0x05, 0x01]) })).toBe(false);
  });

  it('the other ID types name nothing a certificate carries', () => {
    expect(certificateNamesIdentity(gw, { kind: 'key-id', keyId: Buffer.from('gw.example') })).toBe(false);
    expect(certificateNamesIdentity(gw, { kind: 'null' })).toBe(false);
    expect(certificateNamesIdentity(gw, { kind: 'der-asn1-gn', der: Buffer.from([0x82, 0x0a, ...Buffer.from('gw.example')]) })).toBe(false);
    expect(certificateNamesIdentity(gw, { kind: 'other', idType: 12, data: Buffer.alloc(0) })).toBe(false);
  });
});

describe('describeCertificateIdentities', () => {
  it('lists the subject and the subjectAltNames as strongSwan prints them', () => {
    expect(describeCertificateIdentities(gw)).toBe(
      'subject "C=CH, O=ikekm, CN=gw.example", subjectAltName DNS:vpn.example.org, IP:192.0.2.1, IP:2001:db8::1, email:Ops@GW.example, DN:"C=CH, CN=gw alt"',
    );
    expect(describeCertificateIdentities(bare)).toBe('subject "C=CH, CN=bare.example", no subjectAltName');
  });
});
