/**
 * What issuing reads from a CA's existing files: the CA certificate's subject (octet for octet)
 * and subjectKeyIdentifier, and a previous CRL's entries and number, from OpenSSL's files as well
 * as ikekm's; a CRL not signed by the CA, or damaged, is refused.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCertificate, generateKeyPair } from '../../src/pki/certificate-builder.js';
import { buildCrl } from '../../src/pki/crl-builder.js';
import { readIssuingCa, readPreviousCrl, type IssuingCa } from '../../src/pki/issuing-ca.js';
import { opensslOk, scratchDirectory } from '../support/openssl.js';

const dir = scratchDirectory('ikekm-issuing-ca-');
afterAll(() => dir.remove());
const f = dir.file;

/** A CA made and run by `openssl ca`: it revokes serial 0a1b with keyCompromise into CRL number 5. */
beforeAll(() => {
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-subj', '/C=CH/O=Other/CN=Their CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ee.key'), '-out', f('ee.csr'), '-subj', '/CN=ee']);
  opensslOk(['x509', '-req', '-in', f('ee.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-set_serial', '0x0a1b', '-days', '2', '-out', f('ee.pem')]);
  writeFileSync(f('index.txt'), '');
  writeFileSync(f('crlnumber'), '05\n');
  writeFileSync(
    f('ca.cnf'),
    `[ca]\ndefault_ca = CA_default\n[CA_default]\ndatabase = ${f('index.txt')}\ncrlnumber = ${f('crlnumber')}\ndefault_md = sha256\ndefault_crl_days = 30\ncrl_extensions = crl_ext\n[crl_ext]\nauthorityKeyIdentifier = keyid:always\n`,
  );
  opensslOk(['ca', '-config', f('ca.cnf'), '-keyfile', f('ca.key'), '-cert', f('ca.pem'), '-revoke', f('ee.pem'), '-crl_reason', 'keyCompromise']);
  opensslOk(['ca', '-config', f('ca.cnf'), '-keyfile', f('ca.key'), '-cert', f('ca.pem'), '-gencrl', '-out', f('crl.pem')]);
  opensslOk(['crl', '-in', f('crl.pem'), '-outform', 'DER', '-out', f('crl.der')]);
});

function ca(path: string): IssuingCa {
  const r = readIssuingCa(readFileSync(path));
  if (!r.ok) throw new Error(r.error);
  return r.value;
}

describe('the CA certificate', () => {
  it("of OpenSSL: its subject as the certificate holds it, and its subjectKeyIdentifier as OpenSSL prints it", () => {
    const theirs = ca(f('ca.pem'));
    expect(theirs.subject.text).toBe('C=CH, O=Other, CN=Their CA');
    expect(theirs.certificate.der.includes(theirs.subject.der)).toBe(true);
    const printed = /Subject Key Identifier: \n\s+([0-9A-F:]+)/.exec(opensslOk(['x509', '-in', f('ca.pem'), '-noout', '-text']))![1]!;
    expect(theirs.subjectKeyId?.toString('hex').toUpperCase().match(/../g)!.join(':')).toBe(printed);
  });

  it('refuses an end entity and what is no certificate', () => {
    expect(readIssuingCa(readFileSync(f('ee.pem')))).toEqual({ ok: false, error: 'CN=ee is not a CA certificate (no basicConstraints cA=TRUE)' });
    const garbage = readIssuingCa(Buffer.from('nothing'));
    expect(garbage.ok ? '' : garbage.error).toMatch(/^not a certificate \(PEM or DER\)/);
    expect(readIssuingCa(Buffer.from('3000', 'hex'))).toEqual({ ok: false, error: 'not a certificate (PEM or DER): not PEM, and as DER: Certificate: not a SEQUENCE of tbsCertificate, signatureAlgorithm and signatureValue' });
  });
});

describe('the previous CRL', () => {
  it('of openssl ca -gencrl, PEM or DER: its entry with date and reason, its number', () => {
    const theirs = ca(f('ca.pem'));
    for (const file of ['crl.pem', 'crl.der']) {
      const r = readPreviousCrl(readFileSync(f(file)), theirs);
      if (!r.ok) throw new Error(r.error);
      expect(r.value.crlNumber).toBe(5n);
      expect(r.value.revoked).toHaveLength(1);
      expect(r.value.revoked[0]!.serial).toEqual(Buffer.from('0a1b', 'hex'));
      expect(r.value.revoked[0]!.reason).toBe('keyCompromise');
      expect(Math.abs(r.value.revoked[0]!.atMs - Date.now())).toBeLessThan(120_000);
    }
  });

  it("of ikekm: what was built is what is read back", () => {
    const key = generateKeyPair('rsa-2048');
    const now = Date.UTC(2030, 5, 1, 12, 0, 0);
    const der = buildCertificate({ subject: 'CN=ikekm CA', publicKey: key.publicKey, issuer: { selfSignedWith: key.privateKey }, notBeforeMs: now, notAfterMs: now + 1e10, ca: {} });
    const ours = ca(writeCert(der));
    const revoked = [
      { serial: Buffer.from('01', 'hex'), atMs: now - 1000, reason: 'superseded' as const },
      { serial: Buffer.from('ff00', 'hex'), atMs: Date.UTC(2051, 0, 1) },
    ];
    const crl = buildCrl({ issuer: { subject: 'CN=ikekm CA', privateKey: key.privateKey }, thisUpdateMs: now, nextUpdateMs: now + 1e9, crlNumber: 41n, revoked, rsaPss: true });
    expect(readPreviousCrl(crl, ours)).toEqual({ ok: true, value: { crlNumber: 41n, revoked: [{ serial: Buffer.from('01', 'hex'), atMs: now - 1000, reason: 'superseded' }, { serial: Buffer.from('ff00', 'hex'), atMs: Date.UTC(2051, 0, 1) }] } });
  });

  it('refuses a CRL of another CA, a damaged one, and what is no CRL', () => {
    const theirs = ca(f('ca.pem'));
    const other = generateKeyPair('ecdsa-p256');
    const otherCa = ca(writeCert(buildCertificate({ subject: 'C=CH, O=Other, CN=Their CA', publicKey: other.publicKey, issuer: { selfSignedWith: other.privateKey }, notBeforeMs: Date.now(), notAfterMs: Date.now() + 1e9, ca: {} })));
    expect(readPreviousCrl(readFileSync(f('crl.der')), otherCa)).toEqual({ ok: false, error: 'the CRL is not signed by this CA' });
    const damaged = Buffer.from(readFileSync(f('crl.der')));
    damaged[damaged.indexOf(Buffer.from('0a1b', 'hex'))]! ^= 0x01; // the serial of the entry
    expect(readPreviousCrl(damaged, theirs)).toEqual({ ok: false, error: 'the CRL is not signed by this CA' });
    const notCrl = readPreviousCrl(Buffer.from('not a crl'), theirs);
    expect(notCrl.ok ? '' : notCrl.error).toMatch(/^not a CRL \(PEM or DER\): /);
  });
});

let count = 0;
function writeCert(der: Buffer): string {
  const path = f(`cert-${count++}.der`);
  writeFileSync(path, der);
  expect(new X509Certificate(der).ca).toBe(true);
  return path;
}
