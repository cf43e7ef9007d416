/**
 * CRLs ikekm issues, judged by OpenSSL: `openssl crl -verify` accepts their signatures, `-text`
 * lists the revoked serials with their reasons and the CRL number, and `openssl verify
 * -crl_check` reports a revoked certificate as revoked and passes one that is not.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCertificate, generateKeyPair, toPem, type KeyAlgorithm } from '../../src/pki/certificate-builder.js';
import { buildCrl, crlFromTemplate, type CrlTemplate } from '../../src/pki/crl-builder.js';
import { openssl, opensslOk, scratchDirectory } from '../support/openssl.js';

const dir = scratchDirectory('ikekm-crl-builder-');
afterAll(() => dir.remove());

const NOW = Date.now();
const DAY = 86_400_000;
const CA_DN = 'C=CH, O=ikekm, CN=ikekm Root CA';

let count = 0;
function write(label: 'CERTIFICATE' | 'X509 CRL', der: Buffer): string {
  const path = dir.file(`${count++}.pem`);
  writeFileSync(path, toPem(label, der));
  return path;
}

function authority(type: KeyAlgorithm) {
  const ca = generateKeyPair(type);
  const caPem = write('CERTIFICATE', buildCertificate({ subject: CA_DN, publicKey: ca.publicKey, issuer: { selfSignedWith: ca.privateKey }, notBeforeMs: NOW - DAY, notAfterMs: NOW + 365 * DAY, ca: {} }));
  const issue = (cn: string) => {
    const ee = generateKeyPair('ecdsa-p256');
    const der = buildCertificate({ subject: `CN=${cn}`, publicKey: ee.publicKey, issuer: { subject: CA_DN, privateKey: ca.privateKey }, notBeforeMs: NOW - DAY, notAfterMs: NOW + 30 * DAY });
    return { pem: write('CERTIFICATE', der), serial: Buffer.from(new X509Certificate(der).serialNumber, 'hex') };
  };
  return { key: ca.privateKey, caPem, issue };
}

describe('CRLs, judged by openssl', () => {
  it.each([['rsa-2048', false], ['rsa-2048', true], ['ecdsa-p256', false], ['ecdsa-p384', false]] as const)(
    'signed by a %s CA (RSASSA-PSS %s): openssl verifies it, lists the serials and reasons, and reports the revoked certificate as revoked',
    (type, rsaPss) => {
      const ca = authority(type);
      const revoked = ca.issue('revoked.example');
      const kept = ca.issue('kept.example');
      const crl = write(
        'X509 CRL',
        buildCrl({
          issuer: { subject: CA_DN, privateKey: ca.key },
          thisUpdateMs: NOW - 60_000,
          nextUpdateMs: NOW + 7 * DAY,
          crlNumber: 42n,
          revoked: [
            { serial: revoked.serial, atMs: NOW - 30_000, reason: 'keyCompromise' },
            { serial: Buffer.from('0a1b', 'hex'), atMs: NOW - 30_000, reason: 'superseded' },
            { serial: Buffer.from('ff', 'hex'), atMs: NOW - 30_000 },
          ],
          rsaPss,
        }),
      );
      const checked = openssl(['crl', '-in', crl, '-noout', '-CAfile', ca.caPem]);
      expect(checked.output).toContain('verify OK');
      const shown = opensslOk(['crl', '-in', crl, '-noout', '-text']);
      expect(shown).toContain('Version 2 (0x1)');
      expect(shown).toContain('Issuer: C = CH, O = ikekm, CN = ikekm Root CA');
      expect(shown).toMatch(/X509v3 CRL Number: \n\s+42\n/);
      expect(shown).toContain('X509v3 Authority Key Identifier');
      expect(shown).toMatch(new RegExp(`Serial Number: ${revoked.serial.toString('hex').toUpperCase()}\\n\\s+Revocation Date: .*\\n\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+Key Compromise`));
      expect(shown).toMatch(/Serial Number: 0A1B\n\s+Revocation Date: .*\n\s+CRL entry extensions:\n\s+X509v3 CRL Reason Code: \n\s+Superseded/);
      // Unspecified: the reasonCode SHOULD be absent (RFC 5280 5.3.1); 0xff is encoded positive (00 ff).
      expect(shown).toMatch(/Serial Number: FF\n\s+Revocation Date: [^\n]*\n(\s+Serial Number|\s+Signature Algorithm)/);
      if (rsaPss) expect(shown).toContain('Signature Algorithm: rsassaPss');

      const refused = openssl(['verify', '-x509_strict', '-crl_check', '-CRLfile', crl, '-CAfile', ca.caPem, revoked.pem]);
      expect(refused.status).not.toBe(0);
      expect(refused.output).toContain('certificate revoked');
      const passed = openssl(['verify', '-x509_strict', '-crl_check', '-CRLfile', crl, '-CAfile', ca.caPem, kept.pem]);
      expect(passed.output).toContain(`${kept.pem}: OK`);
    },
  );

  it('a CRL with nothing revoked leaves revokedCertificates out (RFC 5280 5.1.2.6) and still verifies', () => {
    const ca = authority('ecdsa-p256');
    const der = buildCrl({ issuer: { subject: CA_DN, privateKey: ca.key }, thisUpdateMs: NOW, nextUpdateMs: NOW + DAY, crlNumber: 1n, revoked: [] });
    const crl = write('X509 CRL', der);
    expect(opensslOk(['crl', '-in', crl, '-noout', '-text'])).toContain('No Revoked Certificates.');
    expect(openssl(['crl', '-in', crl, '-noout', '-CAfile', ca.caPem]).output).toContain('verify OK');
    const kept = ca.issue('kept.example');
    expect(openssl(['verify', '-crl_check', '-CRLfile', crl, '-CAfile', ca.caPem, kept.pem]).status).toBe(0);
  });

  it('a CRL signed by another key fails openssl crl -verify', () => {
    const ca = authority('ecdsa-p256');
    const impostor = generateKeyPair('ecdsa-p256');
    const crl = write('X509 CRL', buildCrl({ issuer: { subject: CA_DN, privateKey: impostor.privateKey }, thisUpdateMs: NOW, nextUpdateMs: NOW + DAY, crlNumber: 1n, revoked: [] }));
    expect(openssl(['crl', '-in', crl, '-noout', '-CAfile', ca.caPem]).output).toContain('verify failure');
  });

  it('large CRL numbers are INTEGERs (up to 20 octets), encoded positive', () => {
    const ca = authority('ecdsa-p256');
    const crl = write('X509 CRL', buildCrl({ issuer: { subject: CA_DN, privateKey: ca.key }, thisUpdateMs: NOW, nextUpdateMs: NOW + DAY, crlNumber: 0x80_0000_0000_0000_0001n, revoked: [] }));
    expect(opensslOk(['crl', '-in', crl, '-noout', '-text'])).toMatch(new RegExp(`X509v3 CRL Number: \\n\\s+${0x80_0000_0000_0000_0001n}\\n`));
  });

  it('says what is wrong with a template rather than throwing', () => {
    const ca = generateKeyPair('ecdsa-p256');
    const base: CrlTemplate = { issuer: { subject: CA_DN, privateKey: ca.privateKey }, thisUpdateMs: NOW, nextUpdateMs: NOW + DAY, crlNumber: 1n, revoked: [] };
    const error = (t: Partial<CrlTemplate>) => {
      const r = crlFromTemplate({ ...base, ...t });
      return r.ok ? 'ok' : r.error;
    };
    expect(error({ nextUpdateMs: NOW })).toBe('the next update must come after this update');
    expect(error({ crlNumber: -1n })).toBe('a CRL number is not negative (RFC 5280 5.2.3)');
    expect(error({ crlNumber: 1n << 160n })).toBe('a CRL number is at most 20 octets (RFC 5280 5.2.3)');
    expect(error({ revoked: [{ serial: Buffer.from('01', 'hex'), atMs: NOW }, { serial: Buffer.from('0001', 'hex'), atMs: NOW }] })).toBe('serial 01 is listed twice');
    expect(error({ revoked: [{ serial: Buffer.from('00', 'hex'), atMs: NOW }] })).toBe('a serial number must be positive (RFC 5280 4.1.2.2), not 0');
    expect(error({ issuer: { subject: 'nonsense', privateKey: ca.privateKey } })).toContain("issuer: 'nonsense' in the DN 'nonsense' is not TYPE=value");
    expect(error({ issuer: { subject: CA_DN, privateKey: ca.publicKey } })).toBe('the signing key is not a private key');
  });
});
