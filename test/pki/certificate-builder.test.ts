/**
 * Certificates ikekm issues, judged by OpenSSL: `openssl verify -x509_strict` accepts the chains
 * (root, intermediate, end entity) for every key type and signature scheme, `openssl x509 -text`
 * shows the extensions asked for, and OpenSSL rejects what it must (a path length exceeded, an
 * unknown critical extension).
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCertificate, certificateFromTemplate, generateKeyPair, parseSubjectAltName, toPem, type CertificateTemplate, type KeyAlgorithm } from '../../src/pki/certificate-builder.js';
import { keyIdentifierOf, serialText } from '../../src/pki/x509-encoding.js';
import { openssl, opensslOk, scratchDirectory } from '../support/openssl.js';

const dir = scratchDirectory('ikekm-cert-builder-');
afterAll(() => dir.remove());

const NOW = Date.now();
const DAY = 86_400_000;
const ROOT_DN = 'C=CH, O=ikekm, CN=ikekm Root CA';
const INTER_DN = 'C=CH, O=ikekm, CN=ikekm Intermediate CA';

let fileCount = 0;
function pemFile(der: Buffer, name: string): string {
  const path = dir.file(`${fileCount++}-${name}.pem`);
  writeFileSync(path, toPem('CERTIFICATE', der));
  return path;
}

interface Chain {
  root: string;
  inter: string;
  ee: string;
  eeDer: Buffer;
  eeKey: KeyObject;
  interKey: KeyObject;
}

function chain(rootType: KeyAlgorithm, interType: KeyAlgorithm, eeType: KeyAlgorithm, options: Partial<CertificateTemplate> = {}): Chain {
  const root = generateKeyPair(rootType);
  const inter = generateKeyPair(interType);
  const ee = generateKeyPair(eeType);
  const rootDer = buildCertificate({ subject: ROOT_DN, publicKey: root.publicKey, issuer: { selfSignedWith: root.privateKey }, notBeforeMs: NOW - DAY, notAfterMs: NOW + 3650 * DAY, ca: {}, ...pick(options, 'rsaPss') });
  const interDer = buildCertificate({ subject: INTER_DN, publicKey: inter.publicKey, issuer: { subject: ROOT_DN, privateKey: root.privateKey }, notBeforeMs: NOW - DAY, notAfterMs: NOW + 1825 * DAY, ca: { pathLen: 0 }, ...pick(options, 'rsaPss') });
  const eeDer = buildCertificate({
    subject: 'C=CH, O=ikekm, CN=gw.example',
    publicKey: ee.publicKey,
    issuer: { subject: INTER_DN, privateKey: inter.privateKey },
    notBeforeMs: NOW - DAY,
    notAfterMs: NOW + 730 * DAY,
    subjectAltNames: ['gw.example', '192.0.2.1', '2001:db8::1', 'ops@gw.example'],
    ...options,
  });
  return { root: pemFile(rootDer, 'root'), inter: pemFile(interDer, 'inter'), ee: pemFile(eeDer, 'ee'), eeDer, eeKey: ee.privateKey, interKey: inter.privateKey };
}

function pick<K extends keyof CertificateTemplate>(options: Partial<CertificateTemplate>, key: K): Partial<CertificateTemplate> {
  return options[key] === undefined ? {} : { [key]: options[key] };
}

const verify = (c: Pick<Chain, 'root' | 'inter'>, ee: string, ...extra: string[]) => openssl(['verify', '-x509_strict', ...extra, '-CAfile', c.root, '-untrusted', c.inter, ee]);
const text = (path: string): string => opensslOk(['x509', '-in', path, '-noout', '-text']);

describe('certificates for IKE, judged by openssl verify -x509_strict', () => {
  it.each([
    ['rsa-2048', 'rsa-2048', 'rsa-2048', 'sha256WithRSAEncryption'],
    ['rsa-3072', 'rsa-2048', 'ecdsa-p256', 'sha256WithRSAEncryption'],
    ['ecdsa-p256', 'ecdsa-p256', 'ecdsa-p256', 'ecdsa-with-SHA256'],
    ['ecdsa-p384', 'ecdsa-p384', 'rsa-2048', 'ecdsa-with-SHA384'],
  ] as const)('root %s, intermediate %s, end entity %s: the chain verifies; the end entity is signed with %s', (rootType, interType, eeType, eeSignature) => {
    const c = chain(rootType, interType, eeType);
    const r = verify(c, c.ee);
    expect(r.output).toContain(`${c.ee}: OK`);
    expect(r.status).toBe(0);
    expect(verify(c, c.inter).status).toBe(0);
    expect(text(c.ee)).toMatch(new RegExp(`Signature Algorithm: ${eeSignature}`));
  });

  it('RSASSA-PSS signatures (RFC 4055: SHA-256, MGF1-SHA-256, salt 32) verify', () => {
    const c = chain('rsa-2048', 'rsa-2048', 'ecdsa-p256', { rsaPss: true });
    expect(verify(c, c.ee).output).toContain(`${c.ee}: OK`);
    const shown = text(c.ee);
    expect(shown).toContain('Signature Algorithm: rsassaPss');
    expect(shown).toContain('Mask Algorithm: mgf1 with sha256');
    expect(shown).toContain('Salt Length: 0x20');
    expect(text(c.root)).toContain('Signature Algorithm: rsassaPss');
  });

  it('a chain verifies with a different CA key only when that CA signed it', () => {
    const c = chain('ecdsa-p256', 'ecdsa-p256', 'ecdsa-p256');
    const other = chain('ecdsa-p256', 'ecdsa-p256', 'ecdsa-p256');
    const r = verify(other, c.ee);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/unable to get local issuer certificate|certificate signature failure/);
  });

  it('an end entity has the extensions IKE peers expect, as openssl prints them', () => {
    const c = chain('rsa-2048', 'rsa-2048', 'rsa-2048', { crlDistributionPoints: ['http://crl.example/inter.crl'] });
    const shown = text(c.ee);
    expect(shown).toContain('Version: 3 (0x2)');
    expect(shown).toContain('Subject: C = CH, O = ikekm, CN = gw.example');
    expect(shown).toContain('Issuer: C = CH, O = ikekm, CN = ikekm Intermediate CA');
    expect(shown).toMatch(/X509v3 Basic Constraints: \n\s+CA:FALSE/);
    expect(shown).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    expect(shown).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication, ipsec Internet Key Exchange\n/);
    expect(shown).toMatch(/X509v3 Subject Alternative Name: \n\s+DNS:gw.example, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1, email:ops@gw.example\n/);
    expect(shown).toMatch(/X509v3 CRL Distribution Points: \n\s+Full Name:\n\s+URI:http:\/\/crl.example\/inter.crl/);
    // The purposes openssl derives from the extensions (what a TLS or IKE stack checks).
    const purposes = opensslOk(['x509', '-in', c.ee, '-noout', '-purpose']);
    expect(purposes).toContain('SSL server : Yes');
    expect(purposes).toContain('SSL client : Yes');
    expect(purposes).toContain('SSL server CA : No');
  });

  it('an ECDSA end entity asks only for digitalSignature (no key encipherment with an EC key)', () => {
    const c = chain('ecdsa-p256', 'ecdsa-p256', 'ecdsa-p256');
    expect(text(c.ee)).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  });

  it('CA certificates: basicConstraints critical CA:TRUE with the path length, keyUsage critical keyCertSign and cRLSign', () => {
    const c = chain('ecdsa-p256', 'ecdsa-p256', 'ecdsa-p256');
    const root = text(c.root);
    expect(root).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    expect(root).toMatch(/X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
    expect(root).not.toContain('Extended Key Usage');
    expect(text(c.inter)).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
  });

  it('the key identifiers are RFC 5280 4.2.1.2 method 1, as OpenSSL computes them, and each AKI names its issuer', () => {
    const key = generateKeyPair('ecdsa-p256');
    const keyFile = dir.file('ski-key.pem');
    writeFileSync(keyFile, key.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    // OpenSSL's own self-signed certificate for the same key: subjectKeyIdentifier=hash.
    const theirs = new X509Certificate(opensslOk(['req', '-new', '-x509', '-key', keyFile, '-subj', '/CN=x', '-days', '1', '-addext', 'subjectKeyIdentifier=hash']));
    const theirSki = /X509v3 Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(opensslOk(['x509', '-noout', '-text'], theirs.toString()))![1]!;
    expect(keyIdentifierOf(key.publicKey).toString('hex').toUpperCase().match(/../g)!.join(':')).toBe(theirSki);

    const c = chain('ecdsa-p256', 'rsa-2048', 'ecdsa-p256');
    const ski = (path: string) => /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(text(path))![1];
    const aki = (path: string) => /Authority Key Identifier: \n\s+(?:keyid:)?([0-9A-F:]+)/.exec(text(path))![1];
    expect(aki(c.ee)).toBe(ski(c.inter));
    expect(aki(c.inter)).toBe(ski(c.root));
    expect(aki(c.root)).toBe(ski(c.root));
  });

  it('a path length of 0 on the root makes openssl refuse an intermediate below it', () => {
    const root = generateKeyPair('ecdsa-p256');
    const inter = generateKeyPair('ecdsa-p256');
    const ee = generateKeyPair('ecdsa-p256');
    const rootPem = pemFile(buildCertificate({ subject: ROOT_DN, publicKey: root.publicKey, issuer: { selfSignedWith: root.privateKey }, notBeforeMs: NOW - DAY, notAfterMs: NOW + DAY, ca: { pathLen: 0 } }), 'root0');
    const interPem = pemFile(buildCertificate({ subject: INTER_DN, publicKey: inter.publicKey, issuer: { subject: ROOT_DN, privateKey: root.privateKey }, notBeforeMs: NOW - DAY, notAfterMs: NOW + DAY, ca: {} }), 'inter0');
    const eePem = pemFile(buildCertificate({ subject: 'CN=gw.example', publicKey: ee.publicKey, issuer: { subject: INTER_DN, privateKey: inter.privateKey }, notBeforeMs: NOW - DAY, notAfterMs: NOW + DAY }), 'ee0');
    const r = verify({ root: rootPem, inter: interPem }, eePem);
    expect(r.status).not.toBe(0);
    expect(r.output).toContain('path length constraint exceeded');
  });

  it('an unknown critical extension makes openssl refuse the certificate; the same extension non-critical does not', () => {
    const c = chain('ecdsa-p256', 'ecdsa-p256', 'ecdsa-p256');
    const ee = generateKeyPair('ecdsa-p256');
    const valueDer = Buffer.from('0500', 'hex'); // NULL
    const withExtension = (critical: boolean) =>
      pemFile(
        buildCertificate({
          subject: 'CN=odd.example',
          publicKey: ee.publicKey,
          issuer: { subject: INTER_DN, privateKey: c.interKey },
          notBeforeMs: NOW - DAY,
          notAfterMs: NOW + DAY,
          extraExtensions: [{ oid: '1.3.6.1.4.1.55555.1', critical, valueDer }],
        }),
        `odd-${critical}`,
      );
    const critical = verify(c, withExtension(true));
    expect(critical.status).not.toBe(0);
    expect(critical.output).toContain('unhandled critical extension');
    expect(verify(c, withExtension(false)).status).toBe(0);
  });

  it('key usage and extended key usage can be overridden (names or dotted OIDs), or left out with []', () => {
    const c = chain('rsa-2048', 'rsa-2048', 'rsa-2048', { keyUsage: ['keyEncipherment'], extendedKeyUsage: ['codeSigning', '1.3.6.1.4.1.55555.2'] });
    const shown = text(c.ee);
    expect(shown).toMatch(/X509v3 Key Usage: critical\n\s+Key Encipherment\n/);
    expect(shown).toMatch(/X509v3 Extended Key Usage: \n\s+Code Signing, 1.3.6.1.4.1.55555.2\n/);
    const bare = chain('rsa-2048', 'rsa-2048', 'rsa-2048', { keyUsage: [], extendedKeyUsage: [] });
    expect(text(bare.ee)).not.toContain('Key Usage');
    // decipherOnly is bit 8: the BIT STRING takes a second octet.
    const wide = chain('ecdsa-p256', 'ecdsa-p256', 'ecdsa-p256', { keyUsage: ['keyAgreement', 'decipherOnly'] });
    expect(text(wide.ee)).toMatch(/X509v3 Key Usage: critical\n\s+Key Agreement, Decipher Only\n/);
  });

  it('times: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), seconds kept', () => {
    const key = generateKeyPair('ecdsa-p256');
    const at = (notBeforeMs: number, notAfterMs: number) =>
      buildCertificate({ subject: 'CN=t', publicKey: key.publicKey, issuer: { selfSignedWith: key.privateKey }, notBeforeMs, notAfterMs });
    const der = at(Date.UTC(2049, 11, 31, 23, 59, 59, 999), Date.UTC(2050, 0, 1, 0, 0, 0));
    const parsed = opensslOk(['asn1parse', '-inform', 'DER'], der);
    expect(parsed).toMatch(/UTCTIME\s+:491231235959Z/);
    expect(parsed).toMatch(/GENERALIZEDTIME\s+:20500101000000Z/);
    const cert = new X509Certificate(der);
    expect(cert.validFrom).toBe('Dec 31 23:59:59 2049 GMT');
    expect(cert.validTo).toBe('Jan  1 00:00:00 2050 GMT');
  });

  it('serial numbers: 16 random positive octets by default; a given one is encoded positive; too long or zero is refused', () => {
    const key = generateKeyPair('ecdsa-p256');
    const template = { subject: 'CN=s', publicKey: key.publicKey, issuer: { selfSignedWith: key.privateKey }, notBeforeMs: NOW, notAfterMs: NOW + DAY };
    const serials = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const serial = new X509Certificate(buildCertificate(template)).serialNumber;
      expect(serial).toMatch(/^[4-7][0-9A-F]{31}$/); // 16 octets, top bit clear
      serials.add(serial);
    }
    expect(serials.size).toBe(8);
    const topBit = buildCertificate({ ...template, serial: Buffer.from('ff0102', 'hex') });
    expect(opensslOk(['x509', '-inform', 'DER', '-noout', '-serial'], topBit).trim()).toBe('serial=FF0102');
    expect(opensslOk(['asn1parse', '-inform', 'DER'], topBit)).toMatch(/INTEGER\s+:FF0102/);
    expect(certificateFromTemplate({ ...template, serial: Buffer.alloc(20, 0x80) })).toEqual({ ok: false, error: 'a serial number is at most 20 octets encoded (RFC 5280 4.1.2.2); this one is 21' });
    expect(certificateFromTemplate({ ...template, serial: Buffer.alloc(3) })).toEqual({ ok: false, error: 'a serial number must be positive (RFC 5280 4.1.2.2), not 0' });
    expect(serialText(Buffer.from('00ff01', 'hex'))).toBe('00:ff:01');
  });

  it('the issuer can be given as the DER of the CA certificate subject, and is then copied octet for octet', () => {
    const root = generateKeyPair('ecdsa-p256');
    const ee = generateKeyPair('ecdsa-p256');
    const rootKeyFile = dir.file('openssl-root.key');
    writeFileSync(rootKeyFile, root.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    // OpenSSL's CA with PrintableString values (string_mask default), where ikekm's text form writes UTF8String.
    const config = dir.file('printable.cnf');
    writeFileSync(config, '[req]\ndistinguished_name = dn\nstring_mask = default\n[dn]\n');
    const rootPem = dir.file('openssl-root.pem');
    opensslOk(['req', '-new', '-x509', '-config', config, '-key', rootKeyFile, '-subj', '/C=CH/O=Other Tool/CN=Their Root', '-days', '2', '-out', rootPem, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-addext', 'subjectKeyIdentifier=hash']);
    const subjectDer = nameDer(new X509Certificate(opensslOk(['x509', '-in', rootPem])).raw);
    expect(subjectDer.includes(Buffer.from('130a4f7468657220546f6f6c', 'hex'))).toBe(true); // PrintableString "Other Tool"
    const template = { subject: 'CN=gw.example', publicKey: ee.publicKey, notBeforeMs: NOW - DAY, notAfterMs: NOW + DAY };
    const byDer = buildCertificate({ ...template, issuer: { subject: subjectDer, privateKey: root.privateKey } });
    const byText = buildCertificate({ ...template, issuer: { subject: 'C=CH, O=Other Tool, CN=Their Root', privateKey: root.privateKey } });
    expect(byDer.includes(subjectDer)).toBe(true);
    expect(byText.includes(subjectDer)).toBe(false);
    const r = openssl(['verify', '-x509_strict', '-CAfile', rootPem, pemFile(byDer, 'ee-of-openssl')]);
    expect(r.output).toContain(': OK');
  });

  it('says what is wrong with a template rather than throwing', () => {
    const key = generateKeyPair('ecdsa-p256');
    const other = generateKeyPair('ecdsa-p256');
    const base: CertificateTemplate = { subject: 'CN=x', publicKey: key.publicKey, issuer: { selfSignedWith: key.privateKey }, notBeforeMs: NOW, notAfterMs: NOW + DAY };
    const error = (t: Partial<CertificateTemplate>) => {
      const r = certificateFromTemplate({ ...base, ...t });
      return r.ok ? 'ok' : r.error;
    };
    expect(error({ subject: 'CN=x, Q=y' })).toContain("subject: unknown attribute type 'Q'");
    expect(error({ subjectAltNames: ['bad name'] })).toBe("subjectAltName 'bad name' must be ASCII without spaces (write an international domain name in its xn-- form)");
    expect(error({ keyUsage: ['signEverything'] })).toContain("unknown key usage 'signEverything'");
    expect(error({ extendedKeyUsage: ['vpn'] })).toContain("unknown extended key usage 'vpn'");
    expect(error({ notAfterMs: NOW })).toBe('the certificate must end after it begins (notAfter after notBefore)');
    expect(error({ rsaPss: true })).toBe('RSASSA-PSS needs an RSA key, not ec');
    expect(error({ issuer: { selfSignedWith: other.privateKey } })).toBe('a self-signed certificate must be signed with the private key of its own public key');
    expect(error({ publicKey: key.privateKey })).toBe('the certificate is for a public key (a private key was given)');
    expect(error({ ca: { pathLen: -1 } })).toBe('a path length constraint is a whole number ≥ 0, not -1');
    expect(error({ extraExtensions: [{ oid: '2.5.29.15', critical: false, valueDer: Buffer.from('0500', 'hex') }] })).toBe('extension 2.5.29.15 appears twice (RFC 5280 4.2 allows one instance)');
    expect(error({ notAfterMs: Date.UTC(10000, 0, 1) })).toBe('the year 10000 cannot be encoded in a certificate (1950 to 9999)');
    expect(() => buildCertificate({ ...base, subject: '' })).toThrow(/subject/);
  });
});

describe('subjectAltName text, as strongSwan reads --san', () => {
  it.each([
    ['gw.example', { kind: 'dns', value: 'gw.example' }],
    ['*.vpn.example', { kind: 'dns', value: '*.vpn.example' }],
    ['192.0.2.1', { kind: 'ip', value: Buffer.from([192, 0, 2, 1]), text: '192.0.2.1' }],
    ['2001:db8::1', { kind: 'ip', value: Buffer.from('20010db8000000000000000000000001', 'hex'), text: '2001:db8::1' }],
    ['ops@gw.example', { kind: 'email', value: 'ops@gw.example' }],
    ['dns:192.0.2.1.nip.example', { kind: 'dns', value: '192.0.2.1.nip.example' }],
    ['IP:10.1.2.3', { kind: 'ip', value: Buffer.from([10, 1, 2, 3]), text: '10.1.2.3' }],
    ['uri:https://gw.example/', { kind: 'uri', value: 'https://gw.example/' }],
    ['email:root@localhost', { kind: 'email', value: 'root@localhost' }],
  ])('%s', (input, expected) => {
    expect(parseSubjectAltName(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['ip:gw.example', "subjectAltName 'ip:gw.example' is not an IPv4 or IPv6 address"],
    ['dns:', "subjectAltName 'dns:' is empty"],
    ['gw..example', "subjectAltName 'gw..example' is not a DNS name (letters, digits and hyphens in dot-separated labels)"],
    ['-gw.example', "subjectAltName '-gw.example' is not a DNS name (letters, digits and hyphens in dot-separated labels)"],
    ['zürich.example', "subjectAltName 'zürich.example' must be ASCII without spaces (write an international domain name in its xn-- form)"],
    ['uri:nothing', "subjectAltName 'uri:nothing' is not a URI (scheme:rest)"],
    ['a@b@c', "subjectAltName 'a@b@c' is not an email address (local@domain)"],
  ])('%s is refused', (input, message) => {
    expect(parseSubjectAltName(input)).toEqual({ ok: false, error: message });
  });
});

/** The subject Name's DER inside a certificate (the sixth field of its TBSCertificate). */
function nameDer(certificate: Buffer): Buffer {
  const tlv = (buf: Buffer, at: number): { start: number; end: number; contents: number } => {
    let length = buf[at + 1]!;
    let header = 2;
    if (length & 0x80) {
      const n = length & 0x7f;
      length = buf.readUIntBE(at + 2, n);
      header += n;
    }
    return { start: at, contents: at + header, end: at + header + length };
  };
  const cert = tlv(certificate, 0);
  const tbs = tlv(certificate, cert.contents);
  let at = tbs.contents;
  for (let i = 0; i < 5; i++) at = tlv(certificate, at).end; // version, serial, signature, issuer, validity
  const subject = tlv(certificate, at);
  return Buffer.from(certificate.subarray(subject.start, subject.end));
}
