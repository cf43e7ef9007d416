/**
 * `ikekm pki show` and `ikekm pki verify` on a PKI built in process with fixed names, serials and
 * times (a root CA, an intermediate, gateways under it, a CRL), so every line ikekm prints can be
 * asserted whole: the headers and the verdicts are this command's, the certificate, CRL and
 * check lines those of certificate.ts, crl.ts and chain-validation.ts, which the pki tests judge
 * against OpenSSL.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCertificate, parseCertificate, type Certificate } from '../../src/pki/certificate.js';
import { buildCertificate, generateKeyPair, toPem } from '../../src/pki/certificate-builder.js';
import { buildCrl } from '../../src/pki/crl-builder.js';
import { describeCrl, parseCrl } from '../../src/pki/crl.js';
import { opensslOk, scratchDirectory } from '../support/openssl.js';
import { pki, type PkiRun as Run } from '../support/pki-cli.js';

const dir = scratchDirectory('ikekm-pki-show-verify-');
afterAll(() => dir.remove());
const f = dir.file;


const ms = (iso: string): number => Date.parse(iso);
const ROOT = 'C=CH, O=ikekm, CN=ikekm Root CA';
const INTERMEDIATE = 'C=CH, O=ikekm, CN=ikekm Intermediate CA';
const OTHER_ROOT = 'C=CH, O=elsewhere, CN=Other Root CA';
const GW = 'C=CH, O=ikekm, CN=gw.example';
const REVOKED = 'C=CH, O=ikekm, CN=revoked.example';
/** Every certificate below is valid at this time; the gateways expire 2027-06-01. */
const AT = '2026-12-01T00:00:00Z';

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

describe('ikekm pki verify', () => {
  const gwSerial = '"C=CH, O=ikekm, CN=gw.example" (issuer "C=CH, O=ikekm, CN=ikekm Intermediate CA", serial 0a:1b)';

  it('a good chain through an intermediate: the chain, every check, valid (exit 0)', async () => {
    const r = await pki('verify', f('gw.pem'), '--chain', f('intermediate.pem'), '--ca', f('root.pem'), '--crl', f('intermediate.crl'), '--at', AT, '--id', 'gw.example');
    expect(r).toEqual({
      code: 0,
      out: [
        'chain, end entity first:',
        '  1. "C=CH, O=ikekm, CN=gw.example"',
        '  2. "C=CH, O=ikekm, CN=ikekm Intermediate CA"',
        '  3. "C=CH, O=ikekm, CN=ikekm Root CA" (a CA given with --ca)',
        'checks at 2026-12-01T00:00:00Z:',
        '  C=CH, O=ikekm, CN=gw.example: valid 2026-06-01T00:00:00Z .. 2027-06-01T00:00:00Z ✓',
        '  C=CH, O=ikekm, CN=gw.example: signature ECDSA SHA-256 by C=CH, O=ikekm, CN=ikekm Intermediate CA (sent by the peer) ✓',
        '  C=CH, O=ikekm, CN=ikekm Intermediate CA: a CA (basicConstraints cA=TRUE, keyUsage keyCertSign) ✓',
        '  C=CH, O=ikekm, CN=gw.example: keyUsage digitalSignature ✓',
        '  C=CH, O=ikekm, CN=gw.example: extendedKeyUsage serverAuth, clientAuth, ipsecIKE ✓',
        '  C=CH, O=ikekm, CN=gw.example: no critical extension ikekm does not process ✓',
        '  C=CH, O=ikekm, CN=gw.example: not revoked (CRL of C=CH, O=ikekm, CN=ikekm Intermediate CA, thisUpdate 2026-11-01T00:00:00Z) ✓',
        '  C=CH, O=ikekm, CN=ikekm Intermediate CA: valid 2026-01-01T00:00:00Z .. 2031-01-01T00:00:00Z ✓',
        '  C=CH, O=ikekm, CN=ikekm Intermediate CA: signature ECDSA SHA-256 by C=CH, O=ikekm, CN=ikekm Root CA (a configured CA) ✓',
        '  C=CH, O=ikekm, CN=ikekm Root CA: a CA (basicConstraints cA=TRUE, keyUsage keyCertSign) ✓',
        '  C=CH, O=ikekm, CN=ikekm Intermediate CA: no critical extension ikekm does not process ✓',
        '  C=CH, O=ikekm, CN=ikekm Intermediate CA: no CRL configured for issuer C=CH, O=ikekm, CN=ikekm Root CA, revocation not checked',
        '  C=CH, O=ikekm, CN=ikekm Root CA: valid 2026-01-01T00:00:00Z .. 2036-01-01T00:00:00Z ✓',
        '  C=CH, O=ikekm, CN=ikekm Root CA: no critical extension ikekm does not process ✓',
        '  C=CH, O=ikekm, CN=ikekm Root CA: a configured CA, trusted as it is ✓',
        'id gw.example (ID_FQDN): named by the certificate ✓',
        'verdict: valid',
      ],
      err: [],
    });
  });

  it('the intermediate may follow the end entity in CERT, as a peer sends them; DER and the other ID types', async () => {
    const bundled = await pki('verify', f('gw-bundle.pem'), '--ca', f('root.pem'), '--at', AT, '--id', '192.0.2.1');
    expect(bundled.code).toBe(0);
    expect(bundled.out.slice(-2)).toEqual(['id 192.0.2.1 (ID_IPV4_ADDR): named by the certificate ✓', 'verdict: valid']);
    const der = await pki('verify', f('gw.der'), '--chain', f('intermediate.pem'), '--ca', f('root.pem'), '--at', AT, '--id', 'C=CH, O=ikekm, CN=gw.example');
    expect(der.code).toBe(0);
    expect(der.out.slice(-2)).toEqual(['id C=CH, O=ikekm, CN=gw.example (ID_DER_ASN1_DN): named by the certificate ✓', 'verdict: valid']);
  });

  it('expired at --at: the refusal names the certificate and the time (exit 1)', async () => {
    const r = await pki('verify', f('gw.pem'), '--chain', f('intermediate.pem'), '--ca', f('root.pem'), '--at', '2028-01-01');
    expect(r).toEqual({
      code: 1,
      out: [
        'chain, end entity first:',
        '  1. "C=CH, O=ikekm, CN=gw.example" ✗',
        'checks at 2028-01-01T00:00:00Z:',
        `  ${gwSerial}: expired at 2027-06-01T00:00:00Z (now 2028-01-01T00:00:00Z) ✗`,
        `verdict: refused: ${gwSerial}: expired at 2027-06-01T00:00:00Z (now 2028-01-01T00:00:00Z)`,
      ],
      err: [],
    });
    // Not yet valid, and --at with an offset.
    const early = await pki('verify', f('gw.pem'), '--chain', f('intermediate.pem'), '--ca', f('root.pem'), '--at', '2026-06-01T01:00:00+02:00');
    expect(early.out.at(-1)).toBe(`verdict: refused: ${gwSerial}: not valid before 2026-06-01T00:00:00Z (now 2026-05-31T23:00:00Z)`);
  });

  it('revoked by the intermediate CA\'s CRL (exit 1)', async () => {
    const r = await pki('verify', f('revoked.pem'), '--chain', f('intermediate.pem'), '--ca', f('root.pem'), '--crl', f('intermediate.crl'), '--at', AT);
    expect(r.code).toBe(1);
    const refusal =
      '"C=CH, O=ikekm, CN=revoked.example" (issuer "C=CH, O=ikekm, CN=ikekm Intermediate CA", serial 0a:1c): revoked at 2026-10-15T08:30:00Z (keyCompromise) by the CRL of "C=CH, O=ikekm, CN=ikekm Intermediate CA" (thisUpdate 2026-11-01T00:00:00Z)';
    expect(r.out.slice(0, 2)).toEqual(['chain, end entity first:', '  1. "C=CH, O=ikekm, CN=revoked.example" ✗']);
    expect(r.out.slice(-2)).toEqual([`  ${refusal} ✗`, `verdict: refused: ${refusal}`]);
    // A stale CRL still revokes, and says it is stale.
    const late = await pki('verify', f('revoked.pem'), '--chain', f('intermediate.pem'), '--ca', f('root.pem'), '--crl', f('intermediate.crl'), '--at', '2027-01-01T00:00:00Z');
    expect(late.out.at(-1)).toContain('(thisUpdate 2026-11-01T00:00:00Z, stale: nextUpdate 2026-12-15T00:00:00Z has passed)');
  });

  it('a CA that did not issue the chain: the certificate whose issuer is missing, and the CAs given (exit 1)', async () => {
    const r = await pki('verify', f('gw.pem'), '--chain', f('intermediate.pem'), '--ca', f('other-root.pem'), '--at', AT);
    expect(r.code).toBe(1);
    expect(r.out.slice(0, 3)).toEqual(['chain, end entity first:', '  1. "C=CH, O=ikekm, CN=gw.example"', '  2. "C=CH, O=ikekm, CN=ikekm Intermediate CA" ✗']);
    expect(r.out.at(-1)).toBe(
      'verdict: refused: "C=CH, O=ikekm, CN=ikekm Intermediate CA" (issuer "C=CH, O=ikekm, CN=ikekm Root CA", serial 02): issued by "C=CH, O=ikekm, CN=ikekm Root CA" which is neither among the peer\'s certificates nor a configured CA (configured: "C=CH, O=elsewhere, CN=Other Root CA")',
    );
    // Without the intermediate, the end entity's issuer is what is missing.
    const alone = await pki('verify', f('gw.pem'), '--ca', f('root.pem'), '--at', AT);
    expect(alone.out.at(-1)).toBe(
      `verdict: refused: ${gwSerial}: issued by "C=CH, O=ikekm, CN=ikekm Intermediate CA" which is neither among the peer's certificates nor a configured CA (configured: "C=CH, O=ikekm, CN=ikekm Root CA")`,
    );
  });

  it('an ID the certificate does not name: the names it has, and refused even though the chain is valid (exit 1)', async () => {
    const r = await pki('verify', f('gw.pem'), '--chain', f('intermediate.pem'), '--ca', f('root.pem'), '--at', AT, '--id', 'vpn.example');
    expect(r.code).toBe(1);
    expect(r.out.slice(-3)).toEqual([
      '  C=CH, O=ikekm, CN=ikekm Root CA: a configured CA, trusted as it is ✓',
      'id vpn.example (ID_FQDN): not named by the certificate, which has subject "C=CH, O=ikekm, CN=gw.example", subjectAltName DNS:gw.example, IP:192.0.2.1 ✗',
      `verdict: refused: ${gwSerial} does not name id vpn.example (ID_FQDN); a peer that claims this ID with it is refused (RFC 7296 3.5)`,
    ]);
    // The CN is no FQDN (RFC 4945 3.2.3), and an address must be in the SAN.
    const cn = await pki('verify', f('gw.pem'), '--chain', f('intermediate.pem'), '--ca', f('root.pem'), '--at', AT, '--id', 'ops@gw.example');
    expect(cn.out.at(-2)).toMatch(/^id ops@gw\.example \(ID_RFC822_ADDR\): not named by the certificate, /);
  });

  it.each([
    [['verify'], 'ikekm pki verify: give one file (ikekm pki verify --help)'],
    [['verify', 'x.pem', '--at', '2031-01-31T12:00:00'], 'ikekm pki verify: --at 2031-01-31T12:00:00: add the zone, Z for UTC (ikekm pki verify --help)'],
    [['verify', 'x.pem', '--at', 'tomorrow'], 'ikekm pki verify: --at tomorrow: expected 2031-01-31, 2031-01-31T12:00:00Z or 2031-01-31T13:00:00+01:00 (ikekm pki verify --help)'],
    [['verify', 'x.pem', '--at', '2031-02-30'], 'ikekm pki verify: --at 2031-02-30: not a date and time (ikekm pki verify --help)'],
    [['verify', 'x.pem', '--id', 'CN=gw, Q=x'], "ikekm pki verify: --id CN=gw, Q=x: looks like a DN but unknown attribute type 'Q'"],
    [['verify', 'x.pem', '--bogus'], "ikekm pki verify: Unknown option '--bogus'"],
  ])('%j: exit 2, one line', async (args, message) => {
    const r = await pki(...args);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(message);
  });

  it('a file that cannot be read or is no certificate: exit 1, one line', async () => {
    expect(await pki('verify', f('missing.pem'), '--ca', f('root.pem'))).toMatchObject({ code: 1, out: [], err: [expect.stringMatching(/^ikekm pki verify: certificate file .*missing\.pem: /)] });
    expect(await pki('verify', f('gw.pem'), '--ca', f('intermediate.crl'))).toEqual({ code: 1, out: [], err: [`ikekm pki verify: --ca ${f('intermediate.crl')}: the PEM holds no CERTIFICATE block`] });
  });

  it('through bin/ikekm.js: exit 0 when valid, 1 when refused', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, ['bin/ikekm.js', 'pki', 'verify', ...args], { encoding: 'utf8', timeout: 60_000 });
    const valid = run(f('gw-bundle.pem'), '--ca', f('root.pem'), '--at', AT);
    expect(valid.status).toBe(0);
    expect(valid.stdout.trim().split('\n').at(-1)).toBe('verdict: valid');
    const refused = run(f('gw-bundle.pem'), '--ca', f('other-root.pem'), '--at', AT);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe('');
  }, 60_000);
});
