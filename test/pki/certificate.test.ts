/**
 * Certificates made by OpenSSL, read by src/pki/certificate.ts, and every field compared with
 * what `openssl x509` prints about the same file. Malformed input comes back as an error value:
 * truncations, garbage, bad PEM, a repeated extension, and random corruption never throw.
 */
import { createHash } from 'node:crypto';
import forge from 'node-forge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateName, describeCertificate, parseCertificate, readCertificates, type Certificate } from '../../src/pki/certificate.js';
import { decodeDer, encodeDer } from '../../src/pki/der.js';
import { describeScheme } from '../../src/pki/signature-algorithm.js';
import { CA_EXTENSIONS, msOf, OpensslPki, type FixtureCa, type FixtureCertificate } from './openssl-fixtures.js';

let pki: OpensslPki;
let rsaRoot: FixtureCa;
let ecRoot: FixtureCa;
let gw: FixtureCertificate;
let p384: FixtureCertificate;
let ed25519: FixtureCertificate;
let v1: FixtureCertificate;
let oldRsa: FixtureCertificate;
let odd: FixtureCertificate;

const GW_EXTENSIONS = [
  'basicConstraints=critical,CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage=serverAuth,1.3.6.1.5.5.7.3.17',
  'subjectAltName=DNS:gw.example,DNS:VPN.Example.org,IP:192.0.2.1,IP:2001:db8:0:0:0:0:0:1,email:ops@gw.example,URI:https://gw.example/,dirName:alt_dn',
  'subjectKeyIdentifier=hash',
  'authorityKeyIdentifier=keyid',
  'crlDistributionPoints=URI:http://crl.example/ca.crl',
  'authorityInfoAccess=OCSP;URI:http://ocsp.example/',
  '[ alt_dn ]',
  'C=CH',
  'CN=gw alt',
];

beforeAll(() => {
  pki = OpensslPki.create('ikekm-certificate-');
  const period = { notBefore: '20250101000000Z', notAfter: '20550101000000Z' };
  rsaRoot = pki.selfSignedCa('rsa-root', { subject: 'C=CH, O=ikekm, CN=RSA Root', key: 'rsa-2048', serial: '01', ...period });
  ecRoot = pki.selfSignedCa('ec-root', { subject: 'C=CH, O=ikekm, OU=PKI, CN=EC Root', key: 'ec-p256', serial: '7f', ...period });
  gw = pki.issue(ecRoot, 'gw', { subject: 'C=CH, O=ikekm, CN=gw.example', serial: '8a1b2c', notBefore: '20260101000000Z', notAfter: '20270101000000Z', extensions: GW_EXTENSIONS });
  p384 = pki.issue(rsaRoot, 'p384', { subject: 'C=CH, CN=p384', key: 'ec-p384', serial: '0100', notBefore: '20260101000000Z', notAfter: '20270101000000Z' });
  ed25519 = pki.issue(ecRoot, 'ed25519', { subject: 'CN=ed', key: 'ed25519', serial: '02', notBefore: '20260101000000Z', notAfter: '20270101000000Z' });
  v1 = pki.issue(rsaRoot, 'v1', { subject: 'CN=v1', serial: '03', notBefore: '20260101000000Z', notAfter: '20270101000000Z', extensions: [] });
  // UTCTime 900101…: RFC 5280 4.1.2.5.1 reads YY >= 50 as 19YY.
  oldRsa = pki.issue(rsaRoot, 'old', { subject: 'CN=old', key: 'rsa-2048', serial: '04', notBefore: '900101000000Z', notAfter: '20491231235959Z' });
  odd = pki.issue(ecRoot, 'odd', {
    subject: 'CN=odd',
    serial: '05',
    notBefore: '20260101000000Z',
    notAfter: '20270101000000Z',
    extensions: ['basicConstraints=critical,CA:TRUE,pathlen:2', 'keyUsage=keyCertSign', '1.2.3.4.5=critical,ASN1:UTF8String:x', '1.2.3.4.6=ASN1:UTF8String:y'],
  });
});

afterAll(() => pki.remove());

const parsed = (fixture: FixtureCertificate): Certificate => {
  const r = parseCertificate(fixture.der);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

/** `C = CH, O = ikekm, CN = gw` as OpenSSL prints a name, in strongSwan's spacing. */
const opensslName = (line: string): string => line.replace(/^\w+=/, '').replace(/ = /g, '=');

/** `openssl x509 -noout -serial -subject -issuer -dates` as fields. */
function opensslFields(fixture: FixtureCertificate): Record<string, string> {
  const text = pki.x509Text(fixture, ['-serial', '-subject', '-issuer', '-dates', '-dateopt', 'iso_8601', '-nameopt', 'sep_comma_plus_space,dn_rev', '-nameopt', 'sname']);
  return Object.fromEntries(text.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** The lines under one extension in `openssl x509 -ext NAME`. */
const opensslExtension = (fixture: FixtureCertificate, name: string): string =>
  pki
    .x509Text(fixture, ['-ext', name])
    .split('\n')
    .slice(1)
    .map((l) => l.trim())
    .join('\n')
    .trim();

describe('parseCertificate against openssl x509', () => {
  it.each(['gw', 'p384', 'ed25519', 'v1', 'oldRsa', 'rsaRoot', 'ecRoot'])('%s: serial, subject, issuer and dates are what OpenSSL prints', (which) => {
    const fixture = { gw, p384, ed25519, v1, oldRsa, rsaRoot, ecRoot }[which]!;
    const c = parsed(fixture);
    const o = opensslFields(fixture);
    expect(c.serialText.replace(/:/g, '').toUpperCase()).toBe(o['serial']);
    // dn_rev undoes OpenSSL's reversal under sep_comma_plus_space: DER order, as strongSwan prints.
    expect(c.subject.text).toBe(o['subject']!.split(', ').reverse().join(', ').replace(/ = /g, '='));
    expect(c.issuer.text).toBe(o['issuer']!.split(', ').reverse().join(', ').replace(/ = /g, '='));
    expect(c.notBeforeMs).toBe(Date.parse(o['notBefore']!.replace(' ', 'T')));
    expect(c.notAfterMs).toBe(Date.parse(o['notAfter']!.replace(' ', 'T')));
    expect(c.der.equals(fixture.der)).toBe(true);
  });

  it('reads the serial with its sign octet dropped, and the subject as the fixture asked for it', () => {
    const c = parsed(gw);
    expect(c.serial.toString('hex')).toBe('008a1b2c');
    expect(c.serialText).toBe('8a:1b:2c');
    expect(c.subject.text).toBe('C=CH, O=ikekm, CN=gw.example');
    expect(c.issuer.text).toBe('C=CH, O=ikekm, OU=PKI, CN=EC Root');
    expect(opensslName(pki.x509Text(gw, ['-subject']).trim())).toBe('C=CH, O=ikekm, CN=gw.example');
    expect(certificateName(c)).toBe('"C=CH, O=ikekm, CN=gw.example" (issuer "C=CH, O=ikekm, OU=PKI, CN=EC Root", serial 8a:1b:2c)');
  });

  it('reads UTCTime years from 50 as 19YY and GeneralizedTime from 2050 (RFC 5280 4.1.2.5)', () => {
    expect(parsed(oldRsa).notBeforeMs).toBe(Date.UTC(1990, 0, 1));
    expect(parsed(oldRsa).notAfterMs).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
    expect(parsed(rsaRoot).notAfterMs).toBe(msOf('20550101000000Z'));
    // The root's notAfter really is a GeneralizedTime: tag 0x18 and the four-digit year.
    expect(rsaRoot.der.includes(Buffer.from('180f3230353530313031303030303030', 'hex'))).toBe(true);
  });

  it('hands the public key to node:crypto and describes it: RSA-2048, ECDSA P-256, ECDSA P-384, Ed25519', () => {
    expect(parsed(rsaRoot).keyDescription).toBe('RSA-2048');
    expect(parsed(gw).keyDescription).toBe('ECDSA P-256');
    expect(parsed(p384).keyDescription).toBe('ECDSA P-384');
    expect(parsed(ed25519).keyDescription).toBe('Ed25519');
    for (const fixture of [rsaRoot, gw, p384, ed25519]) {
      const c = parsed(fixture);
      // openssl x509 -pubkey prints the SubjectPublicKeyInfo the certificate holds.
      const spki = pki.openssl(['pkey', '-pubin', '-outform', 'DER'], pki.x509Text(fixture, ['-pubkey']));
      expect(c.spki.equals(spki)).toBe(true);
      expect(c.spkiSha1.equals(createHash('sha1').update(spki).digest())).toBe(true);
      expect(c.publicKey?.export({ format: 'der', type: 'spki' }).equals(spki)).toBe(true);
    }
  });

  it('decodes the signature algorithm, the signature and the signed octets', () => {
    expect(parsed(rsaRoot).signatureScheme).toEqual({ ok: true, value: { kind: 'rsa-pkcs1', hash: 'sha256' } });
    expect(parsed(gw).signatureScheme).toEqual({ ok: true, value: { kind: 'ecdsa', hash: 'sha256' } });
    expect(parsed(ed25519).signatureScheme).toEqual({ ok: true, value: { kind: 'ecdsa', hash: 'sha256' } }); // signed by the EC root
    const c = parsed(gw);
    // The TBS is the Certificate's first element; OpenSSL's signature value is the BIT STRING's octets.
    expect(gw.der.subarray(4, 4 + c.tbs.length).equals(c.tbs)).toBe(true);
    const text = pki.x509Text(gw, ['-text']);
    const signatureHex = text.slice(text.lastIndexOf('Signature Value:') + 'Signature Value:'.length).replace(/[\s:]/g, '');
    expect(c.signature.toString('hex')).toBe(signatureHex);
  });

  it('tells self-signed certificates from issued ones by name and signature', () => {
    expect(parsed(rsaRoot).selfSigned).toBe(true);
    expect(parsed(ecRoot).selfSigned).toBe(true);
    expect(parsed(gw).selfSigned).toBe(false);
  });

  it('reads subjectAltName as OpenSSL lists it, IPv6 in canonical text', () => {
    const c = parsed(gw);
    expect(c.subjectAltNames.map((n) => (n.kind === 'dn' ? `dn:${n.value.text}` : n.kind === 'other' ? `other:${n.tag}` : `${n.kind}:${n.value}`))).toEqual([
      'dns:gw.example',
      'dns:VPN.Example.org',
      'ip:192.0.2.1',
      'ip:2001:db8::1',
      'email:ops@gw.example',
      'uri:https://gw.example/',
      'dn:C=CH, CN=gw alt',
    ]);
    expect(opensslExtension(gw, 'subjectAltName')).toBe(
      'DNS:gw.example, DNS:VPN.Example.org, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1, email:ops@gw.example, URI:https://gw.example/, DirName:/C=CH/CN=gw alt',
    );
  });

  it('reads basicConstraints, keyUsage, extendedKeyUsage, key identifiers and CRL distribution points as OpenSSL does', () => {
    const c = parsed(gw);
    expect(c.version).toBe(3);
    expect(c.basicConstraints).toEqual({ ca: false });
    expect(opensslExtension(gw, 'basicConstraints')).toBe('CA:FALSE');
    expect([...c.keyUsage!]).toEqual(['digitalSignature', 'keyEncipherment']);
    expect(opensslExtension(gw, 'keyUsage')).toBe('Digital Signature, Key Encipherment');
    expect(c.extendedKeyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.17']);
    expect(opensslExtension(gw, 'extendedKeyUsage')).toBe('TLS Web Server Authentication, ipsec Internet Key Exchange');
    const hexOf = (text: string): string => text.replace(/^keyid:/, '').replace(/:/g, '').toLowerCase();
    expect(c.subjectKeyId?.toString('hex')).toBe(hexOf(opensslExtension(gw, 'subjectKeyIdentifier')));
    expect(c.authorityKeyId?.toString('hex')).toBe(hexOf(opensslExtension(gw, 'authorityKeyIdentifier')));
    expect(c.authorityKeyId?.equals(parsed(ecRoot).subjectKeyId!)).toBe(true);
    expect(c.crlDistributionPoints).toEqual(['http://crl.example/ca.crl']);
    expect(c.unknownCriticalExtensions).toEqual([]);

    const ca = parsed(odd);
    expect(ca.basicConstraints).toEqual({ ca: true, pathLen: 2 });
    expect([...ca.keyUsage!]).toEqual(['keyCertSign']);
    expect(ca.unknownCriticalExtensions).toEqual(['1.2.3.4.5']); // the non-critical 1.2.3.4.6 is ignored
  });

  it('reads a version 1 certificate, which has no extensions', () => {
    const c = parsed(v1);
    expect(c.version).toBe(1);
    expect(pki.x509Text(v1, ['-text'])).toContain('Version: 1 (0x0)');
    expect(c.basicConstraints).toBeUndefined();
    expect(c.keyUsage).toBeUndefined();
    expect(c.subjectAltNames).toEqual([]);
  });

  it('describes a certificate for ikekm pki show, fingerprint as openssl prints it', () => {
    const lines = describeCertificate(parsed(gw));
    const fingerprint = pki.x509Text(gw, ['-fingerprint', '-sha256']).trim().replace(/^sha256 Fingerprint=/i, '');
    expect(lines).toEqual([
      'subject:     "C=CH, O=ikekm, CN=gw.example"',
      'issuer:      "C=CH, O=ikekm, OU=PKI, CN=EC Root"',
      'serial:      8a:1b:2c',
      'validity:    2026-01-01T00:00:00Z .. 2027-01-01T00:00:00Z',
      'key:         ECDSA P-256',
      `signature:   ${describeScheme({ kind: 'ecdsa', hash: 'sha256' })}`,
      'altNames:    DNS:gw.example, DNS:VPN.Example.org, IP:192.0.2.1, IP:2001:db8::1, email:ops@gw.example, URI:https://gw.example/, DN:"C=CH, CN=gw alt"',
      'basicConstraints: not a CA',
      'keyUsage:    digitalSignature, keyEncipherment',
      'extendedKeyUsage: serverAuth, ipsecIKE',
      `subjectKeyId: ${[...parsed(gw).subjectKeyId!].map((o) => o.toString(16).padStart(2, '0')).join(':')}`,
      `authorityKeyId: ${[...parsed(gw).authorityKeyId!].map((o) => o.toString(16).padStart(2, '0')).join(':')}`,
      'crlDistributionPoints: http://crl.example/ca.crl',
      `CERTREQ hash (SHA-1 of the public key): ${[...parsed(gw).spkiSha1].map((o) => o.toString(16).padStart(2, '0')).join(':')}`,
      `SHA-256 fingerprint: ${fingerprint}`,
    ]);
    expect(describeCertificate(parsed(odd))).toContain('basicConstraints: CA, pathLenConstraint 2');
    expect(describeCertificate(parsed(odd))).toContain('unprocessed critical extensions: 1.2.3.4.5');
    expect(describeCertificate(parsed(rsaRoot))[1]).toBe('issuer:      "C=CH, O=ikekm, CN=RSA Root" (self-signed)');
  });
});

describe('readCertificates', () => {
  it('reads a PEM bundle in order, with text around the blocks, and a single DER certificate', () => {
    const bundle = Buffer.from(`gw certificate\n${gw.pem}\nthe CA:\n${ecRoot.pem}`);
    const r = readCertificates(bundle);
    expect(r.ok && r.value.map((c) => c.subject.text)).toEqual(['C=CH, O=ikekm, CN=gw.example', 'C=CH, O=ikekm, OU=PKI, CN=EC Root']);
    const der = readCertificates(gw.der);
    expect(der.ok && der.value.map((c) => c.serialText)).toEqual(['8a:1b:2c']);
  });

  it('skips blocks of other labels but counts them when naming a bad block', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n';
    const r = readCertificates(Buffer.from(`${key}${gw.pem}`));
    expect(r.ok && r.value.length).toBe(1);
    const broken = gw.pem.replace(/\n[A-Za-z0-9+/]{10}/, '\n!!!!!!!!!!');
    expect(readCertificates(Buffer.from(`${ecRoot.pem}${broken}`))).toEqual({ ok: false, error: 'PEM block 2 (CERTIFICATE) is not base64' });
  });

  it('says which block is not a certificate, which has no END line, and when there is none', () => {
    const notACertificate = `-----BEGIN CERTIFICATE-----\n${Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]).toString('base64')}\n-----END CERTIFICATE-----\n`;
    const r = readCertificates(Buffer.from(`${gw.pem}${notACertificate}`));
    expect(r).toEqual({ ok: false, error: 'PEM block 2: Certificate: not a SEQUENCE of tbsCertificate, signatureAlgorithm and signatureValue' });
    const unterminated = readCertificates(Buffer.from(`${gw.pem}${gw.pem.replace('-----END CERTIFICATE-----', '')}`));
    expect(unterminated).toEqual({ ok: false, error: 'PEM block 2 (CERTIFICATE) has no -----END CERTIFICATE----- line' });
    expect(readCertificates(Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'))).toEqual({ ok: false, error: 'the PEM holds no CERTIFICATE block' });
    const garbage = readCertificates(Buffer.from('hello, world'));
    expect(garbage.ok).toBe(false);
    expect(!garbage.ok && garbage.error).toMatch(/^not PEM, and as DER: Certificate: /);
  });
});

/** The certificate's ASN.1 with `edit` applied to its TBS elements, re-encoded (the signature no longer matters). */
function editedTbs(der: Buffer, edit: (tbs: forge.asn1.Asn1[]) => void): Buffer {
  const node = decodeDer(der);
  if (!node.ok) throw new Error(node.error);
  const tbs = (node.value.value as forge.asn1.Asn1[])[0]!;
  edit(tbs.value as forge.asn1.Asn1[]);
  return encodeDer(node.value);
}

describe('malformed certificates are error values', () => {
  it('every truncation of a certificate is an error', () => {
    for (let length = 0; length < gw.der.length; length++) {
      const r = parseCertificate(gw.der.subarray(0, length));
      expect(r.ok, `truncated to ${length}`).toBe(false);
    }
  });

  it('says where the DER goes wrong', () => {
    expect(parseCertificate(Buffer.alloc(0))).toEqual({ ok: false, error: 'Certificate: truncated: no room for a tag and a length' });
    expect(parseCertificate(Buffer.concat([gw.der, Buffer.from([0])]))).toEqual({ ok: false, error: 'Certificate: 1 octets after the end of the value' });
    const indefinite = Buffer.from(gw.der);
    indefinite[1] = 0x80;
    expect(parseCertificate(indefinite)).toEqual({ ok: false, error: 'Certificate: indefinite length, which DER does not allow (X.690 10.1)' });
  });

  it('refuses a repeated extension (RFC 5280 4.2)', () => {
    const twice = editedTbs(gw.der, (tbs) => {
      const extensions = (tbs[tbs.length - 1]!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
      extensions.push(extensions[1]!);
    });
    expect(parseCertificate(twice)).toEqual({ ok: false, error: 'Certificate.tbsCertificate.extensions: extension keyUsage (2.5.29.15) appears twice (RFC 5280 4.2 allows one)' });
  });

  it('refuses an inner signature algorithm that differs from the outer one (RFC 5280 4.1.1.2)', () => {
    const root = decodeDer(rsaRoot.der);
    if (!root.ok) throw new Error(root.error);
    const rsaAlgorithm = (root.value.value as forge.asn1.Asn1[])[1]!;
    const swapped = editedTbs(gw.der, (tbs) => {
      tbs[2] = rsaAlgorithm;
    });
    expect(parseCertificate(swapped)).toEqual({ ok: false, error: 'Certificate.tbsCertificate.signature: differs from the outer signatureAlgorithm (RFC 5280 4.1.1.2)' });
  });

  it('names the field of a bad time and of a malformed known extension', () => {
    const badTime = editedTbs(gw.der, (tbs) => {
      const validity = tbs[4]!.value as forge.asn1.Asn1[];
      validity[1]!.value = '261301000000Z'; // month 13
    });
    expect(parseCertificate(badTime)).toEqual({ ok: false, error: "Certificate.tbsCertificate.validity.notAfter: '261301000000Z' is not a date and time" });
    const badKeyUsage = editedTbs(gw.der, (tbs) => {
      const extensions = (tbs[tbs.length - 1]!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[];
      const keyUsage = extensions[1]!.value as forge.asn1.Asn1[];
      keyUsage[keyUsage.length - 1]!.value = '\x04\x00'; // an OCTET STRING inside, not a BIT STRING
    });
    expect(parseCertificate(badKeyUsage)).toEqual({ ok: false, error: 'Certificate.tbsCertificate.extensions: keyUsage (2.5.29.15): not a BIT STRING' });
  });

  it('shows control characters in names as \\xNN, so a name cannot forge a log line', () => {
    const forged = editedTbs(gw.der, (tbs) => {
      const subject = tbs[5]!.value as forge.asn1.Asn1[];
      const cn = ((subject[2]!.value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[])[1]!;
      cn.value = 'gw\nikekm: peer authenticated';
    });
    const r = parseCertificate(forged);
    expect(r.ok && r.value.subject.text).toBe('C=CH, O=ikekm, CN=gw\nikekm: peer authenticated');
    expect(r.ok && certificateName(r.value)).toBe('"C=CH, O=ikekm, CN=gw\\x0aikekm: peer authenticated" (issuer "C=CH, O=ikekm, OU=PKI, CN=EC Root", serial 8a:1b:2c)');
    expect(r.ok && describeCertificate(r.value)[0]).toBe('subject:     "C=CH, O=ikekm, CN=gw\\x0aikekm: peer authenticated"');
  });

  it('keeps an unsupported signature algorithm as a value for the validation to refuse', () => {
    const dsaWithSha256 = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.SEQUENCE, true, [
      forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OID, false, forge.asn1.oidToDer('2.16.840.1.101.3.4.3.2').getBytes()),
    ]);
    const node = decodeDer(gw.der);
    if (!node.ok) throw new Error(node.error);
    const parts = node.value.value as forge.asn1.Asn1[];
    (parts[0]!.value as forge.asn1.Asn1[])[2] = dsaWithSha256;
    parts[1] = dsaWithSha256;
    const r = parseCertificate(encodeDer(node.value));
    expect(r.ok && r.value.signatureScheme).toEqual({
      ok: false,
      error: 'signature algorithm 2.16.840.1.101.3.4.3.2 is not supported (RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA and Ed25519 are)',
    });
    expect(r.ok && describeCertificate(r.value)[5]).toBe('signature:   signature algorithm 2.16.840.1.101.3.4.3.2 is not supported (RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA and Ed25519 are)');
  });

  it('never throws on 500 randomly corrupted certificates', () => {
    // A seeded generator (xorshift32), so a failure is the same on every run.
    let state = 0x1234567;
    const random = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const sources = [gw.der, rsaRoot.der, ecRoot.der, odd.der];
    let parsedCount = 0;
    for (let i = 0; i < 500; i++) {
      const der = Buffer.from(sources[i % sources.length]!);
      const flips = 1 + random(4);
      for (let f = 0; f < flips; f++) der[random(der.length)] = random(256);
      const r = parseCertificate(der);
      if (r.ok) {
        parsedCount++;
        describeCertificate(r.value);
        certificateName(r.value);
      }
    }
    // Flips in the signature or a key's octets leave a certificate that still reads.
    expect(parsedCount).toBeGreaterThan(0);
    expect(parsedCount).toBeLessThan(500);
  });
});

describe('CA certificates made the fixture way', () => {
  it('CA_EXTENSIONS are read as a CA with keyCertSign and cRLSign', () => {
    const c = parsed(ecRoot);
    expect(CA_EXTENSIONS).toContain('basicConstraints=critical,CA:TRUE');
    expect(c.basicConstraints).toEqual({ ca: true });
    expect([...c.keyUsage!]).toEqual(['keyCertSign', 'cRLSign']);
  });
});
