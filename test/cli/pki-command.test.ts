/**
 * `ikekm pki` in a temporary directory: a CA, an intermediate CA and a gateway certificate, a CRL
 * revoking the gateway and its successors, a PKCS#12 import; file modes, refusals to overwrite,
 * usage errors (exit 2, one line) and failures (exit 1, one line). OpenSSL judges every file.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openssl, opensslOk, scratchDirectory } from '../support/openssl.js';
import { pki } from '../support/pki-cli.js';

const dir = scratchDirectory('ikekm-pki-cli-');
afterAll(() => dir.remove());
const f = dir.file;


const modeOf = (path: string): number => statSync(path).mode & 0o777;
const umask = process.umask();
const serialOf = (path: string): string => new X509Certificate(readFileSync(path)).serialNumber;
/** SHA-1 of the certificate's DER SubjectPublicKeyInfo, by OpenSSL's hand. */
function spkiSha1ByOpenssl(certPath: string): string {
  const pub = opensslOk(['x509', '-in', certPath, '-noout', '-pubkey']);
  const der = spawnSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pub }).stdout;
  return createHash('sha1').update(der).digest('hex').match(/../g)!.join(':');
}

describe('ikekm pki: usage', () => {
  it('without a subcommand: the list on stderr, exit 2; with --help: on stdout, exit 0', async () => {
    const bare = await pki();
    expect(bare.code).toBe(2);
    expect(bare.err.join('\n')).toContain('usage: ikekm pki <subcommand>');
    const help = await pki('--help');
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/ca create .*\n.*issue .*\n.*crl .*\n.*import .*\n.*show .*\n.*verify /);
  });

  it.each([
    [['bogus'], "ikekm pki: unknown subcommand 'bogus' (known: ca create, issue, crl, import, show, verify; ikekm pki --help)"],
    [['ca'], "ikekm pki: unknown subcommand 'ca' (known: ca create, issue, crl, import, show, verify; ikekm pki --help)"],
    [['ca', 'create', '--bogus'], "ikekm pki ca create: Unknown option '--bogus'"],
    [['ca', 'create', '--out', 'x'], 'ikekm pki ca create: --dn is required (ikekm pki ca create --help)'],
    [['ca', 'create', '--dn', 'CN=x'], 'ikekm pki ca create: give --out DIR, or --cert FILE and --key FILE (ikekm pki ca create --help)'],
    [['ca', 'create', '--dn', 'CN=x', '--out', 'd', '--cert', 'c'], 'ikekm pki ca create: give --out DIR, or --cert FILE and --key FILE, not both (ikekm pki ca create --help)'],
    [['ca', 'create', '--dn', 'CN=x, Q=y', '--out', 'd'], "ikekm pki ca create: --dn: unknown attribute type 'Q'"],
    [['ca', 'create', '--dn', 'CN=x', '--out', 'd', '--type', 'dsa'], 'ikekm pki ca create: --type dsa: expected one of rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384 (ikekm pki ca create --help)'],
    [['ca', 'create', '--dn', 'CN=x', '--out', 'd', '--days', '0'], 'ikekm pki ca create: --days 0: expected a whole number from 1 to 36500 (ikekm pki ca create --help)'],
    [['ca', 'create', '--dn', 'CN=x', '--out', 'd', '--digest', 'md5'], 'ikekm pki ca create: --digest md5: expected sha256, sha384 or sha512 (ikekm pki ca create --help)'],
    [['issue', '--ca', 'c', '--ca-key', 'k', '--dn', 'CN=x', '--cert', 'o', '--key-out', 'ko', '--san', 'bad name'], "ikekm pki issue: --san: subjectAltName 'bad name' must be ASCII"],
    [['issue', '--ca', 'c', '--ca-key', 'k', '--dn', 'CN=x', '--cert', 'o', '--key-out', 'ko', '--path-len', '1'], 'ikekm pki issue: --path-len goes with --ca-flag (ikekm pki issue --help)'],
    [['issue', '--ca', 'c', '--ca-key', 'k', '--dn', 'CN=x', '--cert', 'o'], 'ikekm pki issue: --key-out is required for the new key (or give an existing one with --key) (ikekm pki issue --help)'],
    [['issue', '--ca', 'c', '--ca-key', 'k', '--dn', 'CN=x', '--cert', 'o', '--key', 'k2', '--key-out', 'ko'], 'ikekm pki issue: --key-out writes a new key; with --key the key exists already (ikekm pki issue --help)'],
    [['issue', '--ca', 'c', '--dn', 'CN=x', '--cert', 'o', '--key-out', 'ko'], 'ikekm pki issue: --ca-key is required (ikekm pki issue --help)'],
    [['crl', '--ca', 'c', '--ca-key', 'k', '--out', 'o', '--revoke', 'xyz'], 'ikekm pki crl: --revoke xyz: not a serial number (hex as printed: 0a:1b:2c or 0a1b2c, not 0) (ikekm pki crl --help)'],
    [['crl', '--ca', 'c', '--ca-key', 'k', '--out', 'o', '--revoke', '0a', '--reason', 'boredom'], 'ikekm pki crl: --reason boredom: expected one of unspecified, keyCompromise'],
    [['crl', '--ca', 'c', '--ca-key', 'k', '--out', 'o', '--reason', 'superseded'], 'ikekm pki crl: --reason goes with --revoke (ikekm pki crl --help)'],
    [['import', '--cert', 'c', '--key', 'k'], 'ikekm pki import: give one file (ikekm pki import --help)'],
  ])('%j: exit 2 with one line', async (args, message) => {
    const r = await pki(...args);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(message);
  });

  it('each subcommand has its --help', async () => {
    for (const [args, first] of [
      [['ca', 'create', '--help'], 'usage: ikekm pki ca create --dn DN'],
      [['issue', '-h'], 'usage: ikekm pki issue --ca CACERT'],
      [['crl', '--help'], 'usage: ikekm pki crl --ca CACERT'],
      [['import', '--help'], 'usage: ikekm pki import FILE.p12'],
      [['show', '--help'], 'usage: ikekm pki show FILE'],
      [['verify', '-h'], 'usage: ikekm pki verify CERT'],
    ] as const) {
      const r = await pki(...args);
      expect(r.code).toBe(0);
      expect(r.out.join('\n').startsWith(first)).toBe(true);
    }
  });

  it('is dispatched by ikekm (bin/ikekm.js pki)', () => {
    const help = spawnSync(process.execPath, ['bin/ikekm.js', 'pki', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('usage: ikekm pki <subcommand>');
    const top = spawnSync(process.execPath, ['bin/ikekm.js', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect(top.stdout).toMatch(/^ {2}pki +a certificate authority/m);
    const bad = spawnSync(process.execPath, ['bin/ikekm.js', 'pki', 'issue', '--bogus'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('ikekm pki: a CA, an intermediate, a gateway, a CRL, judged by openssl', () => {
  const root = { cert: f('root/ca-cert.pem'), key: f('root/ca-key.pem') };
  const inter = { cert: f('inter.pem'), key: f('inter.key') };
  const gw = { cert: f('gw.pem'), key: f('gw.key') };

  beforeAll(async () => {
    const r = await pki('ca', 'create', '--dn', 'C=CH, O=ikekm, CN=ikekm Root CA', '--type', 'ecdsa-p256', '--days', '3650', '--out', f('root'));
    if (r.code !== 0) throw new Error(r.err.join('\n'));
  });

  it('ca create writes the certificate 0644 and the key 0600, and prints subject, serial, validity and the SPKI SHA-1', async () => {
    expect(modeOf(root.key)).toBe(0o600);
    expect(modeOf(root.cert)).toBe(0o644 & ~umask);
    expect(readFileSync(root.key, 'latin1')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const shown = opensslOk(['x509', '-in', root.cert, '-noout', '-text']);
    expect(shown).toContain('Subject: C = CH, O = ikekm, CN = ikekm Root CA');
    expect(shown).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    expect(opensslOk(['verify', '-x509_strict', '-CAfile', root.cert, root.cert])).toContain('OK');
    // The key belongs to the certificate, by OpenSSL's hand.
    expect(opensslOk(['pkey', '-in', root.key, '-pubout'])).toBe(opensslOk(['x509', '-in', root.cert, '-noout', '-pubkey']));

    const again = await pki('ca', 'create', '--dn', 'CN=other', '--type', 'ecdsa-p256', '--cert', f('ca2.pem'), '--key', f('ca2.key'), '--path-len', '1', '--rsa-padding', 'pss');
    expect(again.code).toBe(2);
    expect(again.err).toEqual(['ikekm pki ca create: --rsa-padding pss signs with an RSA key, and --type ecdsa-p256 is not one (ikekm pki ca create --help)']);
    const made = await pki('ca', 'create', '--dn', 'CN=other', '--type', 'rsa-2048', '--cert', f('ca2.pem'), '--key', f('ca2.key'), '--path-len', '1', '--rsa-padding', 'pss', '--days', '10');
    expect(made.code).toBe(0);
    const text = made.out.join('\n');
    expect(text).toContain(`wrote CA certificate ${f('ca2.pem')}`);
    expect(text).toContain(`wrote its private key ${f('ca2.key')} (mode 0600, not encrypted)`);
    expect(text).toContain('  subject:  CN=other');
    expect(text).toContain(`  serial:   ${serialOf(f('ca2.pem')).toLowerCase().match(/../g)!.join(':')}`);
    expect(text).toMatch(/ {2}validity: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ to \d{4}-/);
    expect(text).toContain(`  key:      RSA-2048, SPKI SHA-1 ${spkiSha1ByOpenssl(f('ca2.pem'))}`);
    const ca2 = opensslOk(['x509', '-in', f('ca2.pem'), '-noout', '-text']);
    expect(ca2).toContain('Signature Algorithm: rsassaPss');
    expect(ca2).toMatch(/CA:TRUE, pathlen:1/);
  });

  it('never overwrites: an existing certificate or key path is refused, and the files stay as they were', async () => {
    const before = [readFileSync(root.cert), readFileSync(root.key)];
    const r = await pki('ca', 'create', '--dn', 'CN=again', '--type', 'ecdsa-p256', '--out', f('root'));
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`ikekm pki ca create: ${root.cert} exists: ikekm pki never overwrites a file (remove it or choose another path)`]);
    expect([readFileSync(root.cert), readFileSync(root.key)]).toEqual(before);
    // Half the outputs existing: nothing at all is written.
    writeFileSync(f('taken.pem'), 'mine');
    const half = await pki('issue', '--ca', root.cert, '--ca-key', root.key, '--dn', 'CN=x', '--san', 'x.example', '--type', 'ecdsa-p256', '--cert', f('taken.pem'), '--key-out', f('fresh.key'));
    expect(half.code).toBe(1);
    expect(half.err[0]).toContain(`${f('taken.pem')} exists`);
    expect(existsSync(f('fresh.key'))).toBe(false);
    expect(readFileSync(f('taken.pem'), 'utf8')).toBe('mine');
  });

  it('issue: an intermediate CA (--ca-flag --path-len 0) and a gateway certificate with SANs, that openssl verify -x509_strict accepts', async () => {
    const i = await pki('issue', '--ca', root.cert, '--ca-key', root.key, '--dn', 'C=CH, O=ikekm, CN=ikekm Intermediate CA', '--ca-flag', '--path-len', '0', '--type', 'ecdsa-p384', '--days', '1825', '--cert', inter.cert, '--key-out', inter.key);
    expect(i.err).toEqual([]);
    expect(i.code).toBe(0);
    expect(i.out[0]).toBe(`wrote intermediate CA ${inter.cert}`);
    const g = await pki(
      'issue', '--ca', inter.cert, '--ca-key', inter.key, '--dn', 'C=CH, O=ikekm, CN=gw.example',
      '--san', 'gw.example', '--san', '192.0.2.1', '--san', '2001:db8::1', '--crl-uri', 'http://crl.example/inter.crl',
      '--type', 'rsa-2048', '--cert', gw.cert, '--key-out', gw.key,
    );
    expect(g.err).toEqual([]);
    expect(g.code).toBe(0);
    expect(g.out).toContain('  SANs:     DNS:gw.example, IP:192.0.2.1, IP:2001:db8::1');
    expect(modeOf(gw.key)).toBe(0o600);
    expect(modeOf(inter.key)).toBe(0o600);
    expect(modeOf(gw.cert)).toBe(0o644 & ~umask);

    const verified = openssl(['verify', '-x509_strict', '-CAfile', root.cert, '-untrusted', inter.cert, gw.cert]);
    expect(verified.output).toContain(`${gw.cert}: OK`);
    const shown = opensslOk(['x509', '-in', gw.cert, '-noout', '-text']);
    expect(shown).toContain('Subject: C = CH, O = ikekm, CN = gw.example');
    expect(shown).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    expect(shown).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication, TLS Web Client Authentication, ipsec Internet Key Exchange\n/);
    expect(shown).toMatch(/URI:http:\/\/crl.example\/inter.crl/);
    expect(opensslOk(['x509', '-in', inter.cert, '-noout', '-text'])).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
    expect(opensslOk(['pkey', '-in', gw.key, '-pubout'])).toBe(opensslOk(['x509', '-in', gw.cert, '-noout', '-pubkey']));
    // Issued by the intermediate with the validity clipped to nothing beyond it.
    expect(Date.parse(new X509Certificate(readFileSync(gw.cert)).validTo)).toBeLessThanOrEqual(Date.parse(new X509Certificate(readFileSync(inter.cert)).validTo));
  });

  it('issue with an existing encrypted key, and a CA key that is encrypted, each with its passphrase file', async () => {
    writeFileSync(f('pass.txt'), 'the passphrase\n', { mode: 0o600 });
    opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes256', '-pass', 'pass:the passphrase', '-out', f('own.key')]);
    opensslOk(['pkcs8', '-topk8', '-v2', 'aes256', '-in', inter.key, '-passout', 'pass:the passphrase', '-out', f('inter-encrypted.key')]);
    chmodSync(f('inter-encrypted.key'), 0o600);
    chmodSync(f('own.key'), 0o600);
    const missing = await pki('issue', '--ca', inter.cert, '--ca-key', f('inter-encrypted.key'), '--dn', 'CN=own.example', '--san', 'own.example', '--key', f('own.key'), '--key-passphrase-file', f('pass.txt'), '--cert', f('own.pem'));
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([`ikekm pki issue: ${f('inter-encrypted.key')}: the key is encrypted: give a passphrase file (--ca-key-passphrase-file FILE)`]);
    const r = await pki('issue', '--ca', inter.cert, '--ca-key', f('inter-encrypted.key'), '--ca-key-passphrase-file', f('pass.txt'), '--dn', 'CN=own.example', '--san', 'own.example', '--key', f('own.key'), '--key-passphrase-file', f('pass.txt'), '--cert', f('own.pem'));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(openssl(['verify', '-x509_strict', '-CAfile', root.cert, '-untrusted', inter.cert, f('own.pem')]).status).toBe(0);
    expect(opensslOk(['pkey', '-in', f('own.key'), '-passin', 'pass:the passphrase', '-pubout'])).toBe(opensslOk(['x509', '-in', f('own.pem'), '-noout', '-pubkey']));
  });

  it('issue fails, one line, exit 1: a CA key that is not the CA certificate key, a certificate that is no CA, a missing file; a readable key draws a warning', async () => {
    const common = ['--dn', 'CN=x', '--san', 'x.example', '--type', 'ecdsa-p256', '--cert', f('x.pem'), '--key-out', f('x.key')];
    const wrongKey = await pki('issue', '--ca', inter.cert, '--ca-key', root.key, ...common);
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.err).toEqual([`ikekm pki issue: ${root.key} is not the private key of the CA certificate ${inter.cert}`]);
    const notCa = await pki('issue', '--ca', gw.cert, '--ca-key', gw.key, ...common);
    expect(notCa.code).toBe(1);
    expect(notCa.err).toEqual([`ikekm pki issue: CA certificate ${gw.cert}: C=CH, O=ikekm, CN=gw.example is not a CA certificate (no basicConstraints cA=TRUE)`]);
    const missing = await pki('issue', '--ca', f('nowhere.pem'), '--ca-key', root.key, ...common);
    expect(missing.code).toBe(1);
    expect(missing.err).toEqual([`ikekm pki issue: CA certificate ${f('nowhere.pem')}: ENOENT: no such file or directory`]);
    const pssWithEc = await pki('issue', '--ca', inter.cert, '--ca-key', inter.key, '--rsa-padding', 'pss', ...common);
    expect(pssWithEc.code).toBe(1);
    expect(pssWithEc.err).toEqual(['ikekm pki issue: RSASSA-PSS needs an RSA key, not ec']);
    expect(existsSync(f('x.pem')) || existsSync(f('x.key'))).toBe(false);

    chmodSync(inter.key, 0o644);
    try {
      const warned = await pki('issue', '--ca', inter.cert, '--ca-key', inter.key, ...common);
      expect(warned.code).toBe(0);
      expect(warned.err).toEqual([`ikekm pki issue: warning: private key file ${inter.key} can be read by group or others (mode 0644); run: chmod 600 ${inter.key}`]);
    } finally {
      chmodSync(inter.key, 0o600);
    }
  });

  it('issue: --eku replaces the default purposes; without --san a warning says what peers will not find', async () => {
    const r = await pki('issue', '--ca', inter.cert, '--ca-key', inter.key, '--dn', 'CN=client.example', '--eku', 'clientAuth', '--eku', '1.3.6.1.4.1.55555.7', '--type', 'ecdsa-p256', '--digest', 'sha512', '--cert', f('client.pem'), '--key-out', f('client.key'));
    expect(r.code).toBe(0);
    expect(r.err).toEqual(['ikekm pki issue: warning: no --san: IKE peers match the ID they are given against subjectAltNames (RFC 4945 5.1.3.6); only an ID that is the subject DN will match']);
    const shown = opensslOk(['x509', '-in', f('client.pem'), '-noout', '-text']);
    expect(shown).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication, 1.3.6.1.4.1.55555.7\n/);
    expect(shown).toContain('Signature Algorithm: ecdsa-with-SHA512');
    expect(shown).not.toContain('Subject Alternative Name');
  });

  it('crl: revokes the gateway (openssl verify -crl_check says revoked), then successors keep the entries and count up', async () => {
    const serial = serialOf(gw.cert).toLowerCase().match(/../g)!.join(':');
    const first = await pki('crl', '--ca', inter.cert, '--ca-key', inter.key, '--revoke', serial, '--reason', 'keyCompromise', '--out', f('inter.crl'));
    expect(first.err).toEqual([]);
    expect(first.code).toBe(0);
    expect(first.out).toContain('  number:      1');
    expect(first.out).toContain(`  revoked:     1 certificate (new: ${serial}, reason keyCompromise)`);
    expect(modeOf(f('inter.crl'))).toBe(0o644 & ~umask);
    expect(openssl(['crl', '-in', f('inter.crl'), '-noout', '-CAfile', inter.cert]).output).toContain('verify OK');
    const chainWithCrls = openssl(['verify', '-x509_strict', '-crl_check', '-CRLfile', f('inter.crl'), '-CAfile', root.cert, '-untrusted', inter.cert, gw.cert]);
    expect(chainWithCrls.status).not.toBe(0);
    expect(chainWithCrls.output).toContain('certificate revoked');
    expect(openssl(['verify', '-crl_check', '-CRLfile', f('inter.crl'), '-CAfile', root.cert, '-untrusted', inter.cert, f('own.pem')]).status).toBe(0);

    // The successor: plain hex serial, another reason; the first entry kept with its reason.
    const ownSerial = serialOf(f('own.pem'));
    const second = await pki('crl', '--ca', inter.cert, '--ca-key', inter.key, '--in', f('inter.crl'), '--revoke', ownSerial, '--reason', 'superseded', '--revoke', serial, '--out', f('inter-2.crl'));
    expect(second.code).toBe(0);
    expect(second.err).toEqual([`ikekm pki crl: warning: serial ${serial} is revoked already; its entry is kept as it was`]);
    expect(second.out).toContain('  number:      2');
    const text = opensslOk(['crl', '-in', f('inter-2.crl'), '-noout', '-text']);
    expect(text).toMatch(/X509v3 CRL Number: \n\s+2\n/);
    expect(text).toMatch(new RegExp(`Serial Number: ${serialOf(gw.cert)}\\n[^\\n]*\\n\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+Key Compromise`));
    expect(text).toMatch(new RegExp(`Serial Number: ${ownSerial}\\n[^\\n]*\\n\\s+CRL entry extensions:\\n\\s+X509v3 CRL Reason Code: \\n\\s+Superseded`));
    // The new entry is dated as the CRL that lists it first, never after its Last Update.
    const lastUpdate = Date.parse(/Last Update: (.*)\n/.exec(text)![1]!);
    const ownDate = Date.parse(new RegExp(`Serial Number: ${ownSerial}\\n\\s+Revocation Date: (.*)\\n`).exec(text)![1]!);
    expect(ownDate).toBe(lastUpdate);

    // Replacing the --in file itself; any other existing file is refused.
    const third = await pki('crl', '--ca', inter.cert, '--ca-key', inter.key, '--in', f('inter-2.crl'), '--out', f('inter-2.crl'), '--days', '7');
    expect(third.code).toBe(0);
    expect(third.out[0]).toBe(`wrote CRL ${f('inter-2.crl')} (replacing the previous one)`);
    expect(opensslOk(['crl', '-in', f('inter-2.crl'), '-noout', '-text'])).toMatch(/X509v3 CRL Number: \n\s+3\n/);
    const refused = await pki('crl', '--ca', inter.cert, '--ca-key', inter.key, '--in', f('inter-2.crl'), '--out', f('inter.crl'));
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toContain(`${f('inter.crl')} exists`);

    // The root's CRL is not the intermediate's.
    const foreign = await pki('crl', '--ca', root.cert, '--ca-key', root.key, '--in', f('inter-2.crl'), '--out', f('root.crl'));
    expect(foreign.code).toBe(1);
    expect(foreign.err).toEqual([`ikekm pki crl: --in ${f('inter-2.crl')}: the CRL is not signed by this CA`]);
  });

  it('import: a PKCS#12 file from openssl becomes a key (0600), its certificate and the chain', async () => {
    opensslOk(['pkcs12', '-export', '-inkey', gw.key, '-in', gw.cert, '-certfile', inter.cert, '-name', 'gateway', '-passout', 'pass:p12 pass', '-out', f('gw.p12')]);
    writeFileSync(f('p12-pass.txt'), 'p12 pass\n', { mode: 0o600 });
    const wrong = await pki('import', f('gw.p12'), '--passphrase-file', f('pass.txt'), '--cert', f('imported.pem'), '--key', f('imported.key'));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toEqual([`ikekm pki import: ${f('gw.p12')}: the passphrase is wrong, or the PKCS#12 file was altered: its MAC does not match`]);
    const r = await pki('import', f('gw.p12'), '--passphrase-file', f('p12-pass.txt'), '--cert', f('imported.pem'), '--key', f('imported.key'), '--chain', f('imported-chain.pem'));
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`wrote private key ${f('imported.key')} (mode 0600, not encrypted) of "gateway"`);
    expect(r.out).toContain(`wrote 1 more certificate (the chain) to ${f('imported-chain.pem')}`);
    expect(modeOf(f('imported.key'))).toBe(0o600);
    expect(new X509Certificate(readFileSync(f('imported.pem'))).raw).toEqual(new X509Certificate(readFileSync(gw.cert)).raw);
    expect(new X509Certificate(readFileSync(f('imported-chain.pem'))).raw).toEqual(new X509Certificate(readFileSync(inter.cert)).raw);
    expect(opensslOk(['pkey', '-in', f('imported.key'), '-pubout'])).toBe(opensslOk(['x509', '-in', gw.cert, '-noout', '-pubkey']));
    expect(openssl(['verify', '-x509_strict', '-CAfile', root.cert, '-untrusted', f('imported-chain.pem'), f('imported.pem')]).status).toBe(0);
  });
});
