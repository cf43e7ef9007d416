/**
 * CRLs made by `openssl ca -gencrl`, read by src/pki/crl.ts, compared with what `openssl crl
 * -text` prints about the same file: issuer, update times, CRL number, and each revoked serial
 * with its date and reason. Malformed input is an error value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate } from '../../src/pki/certificate.js';
import { crlIsStale, describeCrl, parseCrl, readCrls, type Crl } from '../../src/pki/crl.js';
import { isoOf, msOf, OpensslPki, type FixtureCa, type FixtureCertificate } from './openssl-fixtures.js';

let pki: OpensslPki;
let ca: FixtureCa;
let compromised: FixtureCertificate;
let superseded: FixtureCertificate;
let noReason: FixtureCertificate;
let crl: { path: string; der: Buffer; pem: string };
let emptyCrl: { path: string; der: Buffer; pem: string };
let scopedCrl: { path: string; der: Buffer; pem: string };
let deltaCrl: { path: string; der: Buffer; pem: string };

const valid = { notBefore: '20260101000000Z', notAfter: '20280101000000Z' };

beforeAll(() => {
  pki = OpensslPki.create('ikekm-crl-');
  ca = pki.selfSignedCa('ca', { subject: 'C=CH, O=ikekm, CN=ikekm CA', key: 'rsa-2048', serial: '01', notBefore: '20250101000000Z', notAfter: '20350101000000Z' });
  emptyCrl = pki.crl(ca, 'empty', { lastUpdate: '20260301000000Z', nextUpdate: '20260401000000Z' });
  compromised = pki.issue(ca, 'compromised', { subject: 'CN=compromised', serial: '8a1b', ...valid });
  superseded = pki.issue(ca, 'superseded', { subject: 'CN=superseded', serial: '0c', ...valid });
  noReason = pki.issue(ca, 'no-reason', { subject: 'CN=no reason', serial: '0102030405060708090a0b0c0d0e0f1011121314', ...valid });
  pki.issue(ca, 'good', { subject: 'CN=good', serial: '0d', ...valid });
  pki.revoke(ca, compromised, { reason: 'keyCompromise', at: '261204100000Z' });
  pki.revoke(ca, superseded, { reason: 'superseded', at: '260615083000Z' });
  pki.revoke(ca, noReason, { at: '260701000000Z' });
  crl = pki.crl(ca, 'crl', { lastUpdate: '20261205000000Z', nextUpdate: '20270105000000Z' });
  scopedCrl = pki.crl(ca, 'scoped', {
    lastUpdate: '20261205000000Z',
    nextUpdate: '20270105000000Z',
    extensions: ['authorityKeyIdentifier = keyid', 'issuingDistributionPoint = critical, @idp', '[ idp ]', 'fullname = URI:http://crl.example/ca.crl', 'onlyuser = TRUE'],
  });
  deltaCrl = pki.crl(ca, 'delta', { lastUpdate: '20261205000000Z', nextUpdate: '20270105000000Z', extensions: ['2.5.29.27 = critical, DER:02:01:01', '1.2.3.4.5 = critical, ASN1:UTF8String:x'] });
});

afterAll(() => pki.remove());

const parsed = (der: Buffer): Crl => {
  const r = parseCrl(der);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

interface OpensslRevoked {
  readonly serial: string;
  readonly date: string;
  readonly reason: string | undefined;
}

/** The revoked entries of `openssl crl -text`: serial, ISO date, reason as OpenSSL names it. */
function opensslRevoked(path: string): OpensslRevoked[] {
  const text = pki.openssl(['crl', '-in', path, '-noout', '-text', '-dateopt', 'iso_8601']).toString();
  const section = text.slice(text.indexOf('Revoked Certificates:'), text.lastIndexOf('Signature Algorithm:'));
  return section
    .split('Serial Number: ')
    .slice(1)
    .map((block) => {
      const lines = block.split('\n').map((l) => l.trim());
      const date = lines.find((l) => l.startsWith('Revocation Date: '))!.slice('Revocation Date: '.length);
      const reasonAt = lines.indexOf('X509v3 CRL Reason Code:');
      return { serial: lines[0]!, date, reason: reasonAt < 0 ? undefined : lines[reasonAt + 1] };
    });
}

const hexColons = (hex: string): string => hex.toLowerCase().match(/../g)!.join(':');

describe('parseCrl against openssl crl', () => {
  it('reads every revoked serial, date and reason as openssl crl -text prints them', () => {
    const c = parsed(crl.der);
    const fromOpenssl = opensslRevoked(crl.path);
    expect(fromOpenssl).toHaveLength(3);
    expect([...c.revoked.keys()].sort()).toEqual(fromOpenssl.map((r) => hexColons(r.serial)).sort());
    for (const r of fromOpenssl) {
      const entry = c.revoked.get(hexColons(r.serial))!;
      expect(entry.atMs).toBe(Date.parse(r.date.replace(' ', 'T')));
      // OpenSSL prints "Key Compromise" for keyCompromise (RFC 5280 5.3.1).
      expect(entry.reason?.toLowerCase()).toBe(r.reason?.replace(/ /g, '').toLowerCase());
    }
  });

  it('keys the entries by the serial text the certificates have', () => {
    const c = parsed(crl.der);
    const serialOf = (fixture: FixtureCertificate): string => {
      const r = parseCertificate(fixture.der);
      if (!r.ok) throw new Error(r.error);
      return r.value.serialText;
    };
    expect(c.revoked.get(serialOf(compromised))).toEqual({ atMs: msOf('20261204100000Z'), reason: 'keyCompromise' });
    expect(c.revoked.get(serialOf(superseded))).toEqual({ atMs: msOf('20260615083000Z'), reason: 'superseded' });
    expect(c.revoked.get(serialOf(noReason))).toEqual({ atMs: msOf('20260701000000Z') });
    expect(serialOf(compromised)).toBe('8a:1b');
    expect(serialOf(noReason)).toBe('01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14');
  });

  it('lists the serials written as negative INTEGERs (RFC 5280 4.1.2.2 forbids them; their text is that of a positive serial)', () => {
    expect(parsed(crl.der).negativeSerials).toEqual([]);
    // Serial 8a:1b is the INTEGER 00 8a 1b; with ff for its sign octet it is a negative number.
    const negative = Buffer.from(crl.der);
    const at = negative.indexOf(Buffer.from('0203008a1b', 'hex'));
    expect(at).toBeGreaterThan(0);
    negative[at + 2] = 0xff;
    expect(parsed(negative).negativeSerials).toEqual(['ff:8a:1b']);
  });

  it('reads the issuer, the update times, the CRL number and the authority key id', () => {
    const c = parsed(crl.der);
    const text = pki.openssl(['crl', '-in', crl.path, '-noout', '-issuer', '-lastupdate', '-nextupdate', '-crlnumber', '-dateopt', 'iso_8601']).toString();
    expect(text).toContain('issuer=C = CH, O = ikekm, CN = ikekm CA');
    expect(c.issuer.text).toBe('C=CH, O=ikekm, CN=ikekm CA');
    expect(text).toContain(`lastUpdate=${isoOf('20261205000000Z').replace('T', ' ')}`);
    expect(c.thisUpdateMs).toBe(msOf('20261205000000Z'));
    expect(c.nextUpdateMs).toBe(msOf('20270105000000Z'));
    expect(text).toContain('crlNumber=0x02'); // the empty CRL was number 01
    expect(c.crlNumber).toBe(2n);
    expect(parsed(emptyCrl.der).crlNumber).toBe(1n);
    const caCertificate = parseCertificate(ca.der);
    expect(caCertificate.ok && c.authorityKeyId?.equals(caCertificate.value.subjectKeyId!)).toBe(true);
    expect(c.signatureScheme).toEqual({ ok: true, value: { kind: 'rsa-pkcs1', hash: 'sha256' } });
    expect(c.scope).toBeUndefined();
    expect(c.unknownCriticalExtensions).toEqual([]);
    expect(parsed(emptyCrl.der).revoked.size).toBe(0);
  });

  it('reads the scope of an issuingDistributionPoint, and lists critical extensions it does not process', () => {
    expect(parsed(scopedCrl.der).scope).toEqual({ onlyUserCerts: true, onlyCaCerts: false, onlyAttributeCerts: false, someReasons: false, indirect: false });
    expect(parsed(scopedCrl.der).unknownCriticalExtensions).toEqual([]);
    expect(parsed(deltaCrl.der).unknownCriticalExtensions).toEqual(['2.5.29.27', '1.2.3.4.5']);
  });

  it('tells a stale CRL by its nextUpdate', () => {
    const c = parsed(crl.der);
    expect(crlIsStale(c, msOf('20270105000000Z'))).toBe(false);
    expect(crlIsStale(c, msOf('20270105000001Z'))).toBe(true);
  });

  it('describes a CRL for ikekm pki show', () => {
    const c = parsed(crl.der);
    expect(describeCrl(c)).toEqual([
      'issuer:      "C=CH, O=ikekm, CN=ikekm CA"',
      'thisUpdate:  2026-12-05T00:00:00Z',
      'nextUpdate:  2027-01-05T00:00:00Z',
      'crlNumber:   2',
      'signature:   RSASSA-PKCS1-v1_5 SHA-256',
      `authorityKeyId: ${[...c.authorityKeyId!].map((o) => o.toString(16).padStart(2, '0')).join(':')}`,
      'revoked:     3 certificates',
      // In the CRL's order: OpenSSL sorts the entries by serial.
      '  0c revoked 2026-06-15T08:30:00Z (superseded)',
      '  8a:1b revoked 2026-12-04T10:00:00Z (keyCompromise)',
      '  01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14 revoked 2026-07-01T00:00:00Z',
    ]);
    expect(describeCrl(parsed(scopedCrl.der))).toContain('scope:       only end-entity certificates');
    expect(describeCrl(parsed(deltaCrl.der))).toContain('unprocessed critical extensions: deltaCRLIndicator (2.5.29.27), 1.2.3.4.5');
  });
});

describe('readCrls', () => {
  it('reads PEM with several CRLs, and one DER CRL', () => {
    const r = readCrls(Buffer.from(`${emptyCrl.pem}${crl.pem}`));
    expect(r.ok && r.value.map((c) => c.crlNumber)).toEqual([1n, 2n]);
    const der = readCrls(crl.der);
    expect(der.ok && der.value[0]!.revoked.size).toBe(3);
  });

  it('names the bad block and says when there is none', () => {
    expect(readCrls(Buffer.from(`${crl.pem}-----BEGIN X509 CRL-----\nMAMCAQE=\n-----END X509 CRL-----\n`))).toEqual({
      ok: false,
      error: 'PEM block 2: CertificateList: not a SEQUENCE of tbsCertList, signatureAlgorithm and signatureValue',
    });
    expect(readCrls(Buffer.from(pki.openssl(['x509', '-in', ca.path]).toString()))).toEqual({ ok: false, error: 'the PEM holds no X509 CRL block' });
  });

  it('every truncation of a CRL is an error, and corrupted CRLs never throw', () => {
    for (let length = 0; length < crl.der.length; length++) expect(parseCrl(crl.der.subarray(0, length)).ok, `truncated to ${length}`).toBe(false);
    let state = 0x2468ace;
    const random = (n: number): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    for (let i = 0; i < 500; i++) {
      const der = Buffer.from(i % 2 === 0 ? crl.der : scopedCrl.der);
      for (let f = 0; f <= random(3); f++) der[random(der.length)] = random(256);
      const r = parseCrl(der);
      if (r.ok) describeCrl(r.value);
    }
  });
});
