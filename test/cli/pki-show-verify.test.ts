/**
 * `ikekm pki show` on a PKI built in process with fixed names, serials and
 * times (a root CA, an intermediate, gateways under it, a CRL), so every line ikekm prints can be
 * asserted whole: the headers are this command's, the certificate and CRL lines those of
 * certificate.ts and crl.ts, which the pki tests judge against OpenSSL.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pkiCommand } from '../../src/cli/pki-command.js';
import { describeCertificate, parseCertificate, type Certificate } from '../../src/pki/certificate.js';
import { buildCertificate, generateKeyPair, toPem } from '../../src/pki/certificate-builder.js';
import { buildCrl } from '../../src/pki/crl-builder.js';
import { describeCrl, parseCrl } from '../../src/pki/crl.js';
import { opensslOk, scratchDirectory } from '../support/openssl.js';

const dir = scratchDirectory('ikekm-pki-show-verify-');
afterAll(() => dir.remove());
const f = dir.file;

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

async function pki(...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await pkiCommand(args, { out: (line) => out.push(line), warn: (line) => err.push(line) });
  return { code, out, err };
}

const ms = (iso: string): number => Date.parse(iso);
const ROOT = 'C=CH, O=ikekm, CN=ikekm Root CA';
const INTERMEDIATE = 'C=CH, O=ikekm, CN=ikekm Intermediate CA';
const OTHER_ROOT = 'C=CH, O=elsewhere, CN=Other Root CA';
const GW = 'C=CH, O=ikekm, CN=gw.example';
const REVOKED = 'C=CH, O=ikekm, CN=revoked.example';

interface Issued {
  readonly der: Buffer;
  readonly key: KeyObject;
  readonly certificate: Certificate;
}

function issue(subject: string, serial: string, signer: { subject: string; key: KeyObject } | 'self', options: { ca?: boolean; san?: string[]; from?: string; until?: string } = {}): Issued {
  const pair = generateKeyPair('ecdsa-p256');
  const der = buildCertificate({
    subject,
    publicKey: pair.publicKey,
    issuer: signer === 'self' ? { selfSignedWith: pair.privateKey } : { subject: signer.subject, privateKey: signer.key },
    serial: Buffer.from(serial, 'hex'),
    notBeforeMs: ms(options.from ?? '2026-01-01T00:00:00Z'),
    notAfterMs: ms(options.until ?? '2036-01-01T00:00:00Z'),
    ...(options.ca === true ? { ca: {} } : {}),
    ...(options.san === undefined ? {} : { subjectAltNames: options.san }),
  });
  const certificate = parseCertificate(der);
  if (!certificate.ok) throw new Error(certificate.error);
  return { der, key: pair.privateKey, certificate: certificate.value };
}

let root: Issued;
let intermediate: Issued;
let otherRoot: Issued;
let gw: Issued;
let revoked: Issued;

const write = (name: string, content: string | Buffer, mode = 0o644): string => {
  writeFileSync(f(name), content, { mode });
  chmodSync(f(name), mode);
  return f(name);
};
const pem = (...issued: Issued[]): string => issued.map((i) => toPem('CERTIFICATE', i.der)).join('');
const indented = (lines: readonly string[]): string[] => lines.map((l) => `  ${l}`);

beforeAll(() => {
  root = issue(ROOT, '01', 'self', { ca: true });
  intermediate = issue(INTERMEDIATE, '02', { subject: ROOT, key: root.key }, { ca: true, until: '2031-01-01T00:00:00Z' });
  otherRoot = issue(OTHER_ROOT, '03', 'self', { ca: true });
  const underIntermediate = { subject: INTERMEDIATE, key: intermediate.key };
  gw = issue(GW, '0a1b', underIntermediate, { san: ['gw.example', '192.0.2.1'], from: '2026-06-01T00:00:00Z', until: '2027-06-01T00:00:00Z' });
  revoked = issue(REVOKED, '0a1c', underIntermediate, { san: ['revoked.example'], from: '2026-06-01T00:00:00Z', until: '2027-06-01T00:00:00Z' });
  write('root.pem', pem(root));
  write('other-root.pem', pem(otherRoot));
  write('intermediate.pem', pem(intermediate));
  write('gw.pem', pem(gw));
  write('gw-bundle.pem', pem(gw, intermediate));
  write('gw.der', gw.der);
  write('revoked.pem', pem(revoked));
  const crl = buildCrl({
    issuer: { subject: INTERMEDIATE, privateKey: intermediate.key },
    thisUpdateMs: ms('2026-11-01T00:00:00Z'),
    nextUpdateMs: ms('2026-12-15T00:00:00Z'),
    crlNumber: 7n,
    revoked: [{ serial: Buffer.from('0a1c', 'hex'), atMs: ms('2026-10-15T08:30:00Z'), reason: 'keyCompromise' }],
  });
  write('intermediate.crl', toPem('X509 CRL', crl));
  write('gw.key', gw.key.export({ type: 'pkcs8', format: 'pem' }), 0o600);
});

describe('ikekm pki show', () => {
  it('a PEM bundle: each certificate under its header, in file order, as describeCertificate has it', async () => {
    const r = await pki('show', f('gw-bundle.pem'));
    expect(r).toEqual({
      code: 0,
      out: ['certificate 1 of 2:', ...indented(describeCertificate(gw.certificate)), 'certificate 2 of 2:', ...indented(describeCertificate(intermediate.certificate))],
      err: [],
    });
    expect(r.out.slice(0, 9)).toEqual([
      'certificate 1 of 2:',
      '  subject:     "C=CH, O=ikekm, CN=gw.example"',
      '  issuer:      "C=CH, O=ikekm, CN=ikekm Intermediate CA"',
      '  serial:      0a:1b',
      '  validity:    2026-06-01T00:00:00Z .. 2027-06-01T00:00:00Z',
      '  key:         ECDSA P-256',
      '  signature:   ECDSA SHA-256',
      '  altNames:    DNS:gw.example, IP:192.0.2.1',
      '  basicConstraints: not a CA',
    ]);
    expect(r.out).toContain(`  SHA-256 fingerprint: ${createHash('sha256').update(gw.der).digest('hex').toUpperCase().match(/../g)!.join(':')}`);
  });

  it('a DER certificate, a CRL', async () => {
    expect(await pki('show', f('gw.der'))).toEqual({ code: 0, out: ['certificate:', ...indented(describeCertificate(gw.certificate))], err: [] });
    const crl = parseCrl(Buffer.from(readFileSync(f('intermediate.crl'), 'latin1').replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    if (!crl.ok) throw new Error(crl.error);
    const r = await pki('show', f('intermediate.crl'));
    expect(r).toEqual({ code: 0, out: ['CRL:', ...indented(describeCrl(crl.value))], err: [] });
    expect(r.out).toContain('    0a:1c revoked 2026-10-15T08:30:00Z (keyCompromise)');
  });

  it('private keys: type and form only, never key material; an encrypted one shows its type with its passphrase', async () => {
    const pair = generateKeyPair('ecdsa-p256');
    const rsa = generateKeyPair('rsa-2048');
    const files = {
      pkcs8: write('k-pkcs8.pem', pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600),
      pkcs1: write('k-pkcs1.pem', rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }), 0o600),
      sec1Der: write('k-sec1.der', pair.privateKey.export({ type: 'sec1', format: 'der' }), 0o600),
      pkcs8Der: write('k-pkcs8.der', pair.privateKey.export({ type: 'pkcs8', format: 'der' }), 0o600),
      encrypted: write('k-encrypted.pem', pair.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' }), 0o600),
      passphrase: write('passphrase', 'open sesame\n', 0o600),
      wrong: write('wrong-passphrase', 'close sesame\n', 0o600),
    };
    const line = async (...args: string[]): Promise<Run> => pki('show', ...args);
    expect(await line(files.pkcs8)).toEqual({ code: 0, out: ['private key: ECDSA P-256 (PKCS#8, unencrypted)'], err: [] });
    expect(await line(files.pkcs1)).toEqual({ code: 0, out: ['private key: RSA-2048 (PKCS#1, unencrypted)'], err: [] });
    expect(await line(files.sec1Der)).toEqual({ code: 0, out: ['private key: ECDSA P-256 (SEC1, unencrypted)'], err: [] });
    expect(await line(files.pkcs8Der)).toEqual({ code: 0, out: ['private key: ECDSA P-256 (PKCS#8, unencrypted)'], err: [] });
    expect(await line(files.encrypted)).toEqual({ code: 0, out: ['private key: type hidden by the encryption (PKCS#8, encrypted; --passphrase-file F reads it)'], err: [] });
    expect(await line(files.encrypted, '--passphrase-file', files.passphrase)).toEqual({ code: 0, out: ['private key: ECDSA P-256 (PKCS#8, encrypted)'], err: [] });
    expect(await line(files.encrypted, '--passphrase-file', files.wrong)).toEqual({ code: 1, out: [], err: [`ikekm pki show: ${files.encrypted}: the passphrase does not decrypt the key`] });
    // A key others can read: what check-config refuses is said here too.
    const readable = write('k-readable.pem', pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o644);
    expect((await line(readable)).err).toEqual([`ikekm pki show: warning: private key file ${readable} can be read by group or others (mode 0644); run: chmod 600 ${readable}`]);
  });

  it("a certificate with its key in one PEM file: the key's certificate is marked, no key octet is printed", async () => {
    const keyPem = readFileSync(f('gw.key'), 'latin1');
    const combined = write('gw-combined.pem', `${pem(gw)}${keyPem}${pem(intermediate)}`, 0o600);
    const r = await pki('show', combined);
    expect(r.code).toBe(0);
    expect(r.out.filter((l) => !l.startsWith('  '))).toEqual(["certificate 1 of 2 (the private key's):", 'private key: ECDSA P-256 (PKCS#8, unencrypted)', 'certificate 2 of 2:']);
    const keyBody = keyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    for (const chunk of keyBody) expect(r.out.join('\n')).not.toContain(chunk.slice(0, 16));
  });

  it('a PKCS#12 file: its key, its certificates, the key\'s own marked; with the passphrase file, or else the empty passphrase', async () => {
    const p12 = f('gw.p12');
    opensslOk(['pkcs12', '-export', '-inkey', f('gw.key'), '-in', f('gw.pem'), '-certfile', f('intermediate.pem'), '-passout', 'pass:open sesame', '-name', 'gw', '-out', p12]);
    chmodSync(p12, 0o600);
    const r = await pki('show', p12, '--passphrase-file', f('passphrase'));
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out.filter((l) => !l.startsWith('  '))).toEqual(['PKCS#12 file: a private key and 2 certificates, friendlyName "gw"', 'private key: ECDSA P-256 (in the PKCS#12 file)', "certificate 1 of 2 (the private key's):", 'certificate 2 of 2:']);
    expect(r.out).toContain('  subject:     "C=CH, O=ikekm, CN=gw.example"');
    expect(await pki('show', p12)).toEqual({
      code: 1,
      out: [],
      err: [`ikekm pki show: ${p12}: the passphrase is wrong, or the PKCS#12 file was altered: its MAC does not match (without --passphrase-file the passphrase is empty)`],
    });
  });

  it('a file that is none of these: one line, exit 1; no file: exit 2', async () => {
    const text = write('notes.txt', 'hello\n');
    expect(await pki('show', text)).toEqual({ code: 1, out: [], err: [`ikekm pki show: ${text} is neither a certificate, a CRL, a private key nor a PKCS#12 file (PEM or DER)`] });
    const csr = write('req.pem', opensslOk(['req', '-new', '-key', f('gw.key'), '-subj', '/CN=gw.example']));
    expect(await pki('show', csr)).toEqual({ code: 1, out: [], err: [`ikekm pki show: ${csr} holds PEM blocks CERTIFICATE REQUEST: none is a certificate, a CRL or a private key`] });
    const broken = write('broken.pem', `${pem(gw)}-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n`);
    const b = await pki('show', broken);
    expect(b.code).toBe(1);
    expect(b.err).toHaveLength(1);
    expect(b.err[0]).toMatch(new RegExp(`^ikekm pki show: ${broken}: PEM block 2: Certificate`));
    const empty = write('empty', '');
    expect(await pki('show', empty)).toEqual({ code: 1, out: [], err: [`ikekm pki show: ${empty} is empty`] });
    expect((await pki('show', f('missing.pem'))).code).toBe(1);
    expect(await pki('show')).toEqual({ code: 2, out: [], err: ['ikekm pki show: give one file (ikekm pki show --help)'] });
  });
});
