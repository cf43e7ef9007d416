/**
 * `auth: pubkey` in the configuration, through the real loader and real files: the certificate,
 * key, CA and CRL files are read and checked when the configuration loads, and every problem is
 * one diagnostic at the key that names the file (file:line:col), saying what to do.
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigCommand, type CheckConfigOutput } from '../../src/cli/check-config.js';
import { formatDiagnostic } from '../../src/config/config-diagnostic.js';
import { loadConfigFile, type LoadedConfig } from '../../src/config/load-config.js';
import { formatIdentity } from '../../src/config/model.js';
import { opensslOk } from '../support/openssl.js';
import { testCa, testCertificate, testCrl, type TestCa, type TestCertificate } from '../support/test-pki.js';

let dir: string;
let ca: TestCa;
let otherCa: TestCa;
let gw: TestCertificate;
let peer: TestCertificate;

const write = (name: string, content: string | Buffer, mode = 0o644): string => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode });
  chmodSync(path, mode);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ikekm-cert-config-'));
  ca = testCa('C=CH, O=ikekm, CN=ikekm Root CA');
  otherCa = testCa('C=CH, O=elsewhere, CN=Other CA');
  gw = testCertificate(ca, 'C=CH, O=ikekm, CN=gw.example', { san: ['gw.example', '192.0.2.1'] });
  peer = testCertificate(ca, 'C=CH, O=ikekm, CN=hq.example', { san: ['hq.example'] });
  write('ca.pem', ca.pem);
  write('other-ca.pem', otherCa.pem);
  write('gw.pem', gw.pem);
  write('gw.key', gw.keyPem, 0o600);
  write('peer.key', peer.keyPem, 0o600);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Lines {
  readonly auth?: string;
  readonly local?: string;
  readonly remote?: string;
  readonly extra?: string;
}

/** A configuration with one `auth: pubkey` connection; the local and remote lines can be replaced. */
function yaml(lines: Lines = {}): string {
  return [
    'ikePolicies:',
    `  p1: { version: 2, auth: ${lines.auth ?? 'pubkey'}, proposals: [aes256gcm16-prfsha384-ecp384] }`,
    'dataPolicies:',
    '  p2: { proposals: [aes128gcm16] }',
    'connections:',
    '  to-hq:',
    '    ikePolicy: p1',
    '    dataPolicy: p2',
    `    local: ${lines.local ?? '{ address: 192.0.2.1, cert: gw.pem, key: gw.key }'}`,
    `    remote: ${lines.remote ?? '{ address: 192.0.2.2, id: "C=CH, O=ikekm, CN=hq.example", ca: ca.pem }'}`,
    '    traffic: { local: [198.51.100.0/24], remote: [203.0.113.0/24] }',
    ...(lines.extra === undefined ? [] : [lines.extra]),
    '',
  ].join('\n');
}

async function loadText(text: string): Promise<{ config?: LoadedConfig; lines: string[] }> {
  const file = write(`ikekm-${Math.random().toString(16).slice(2)}.yaml`, text, 0o600);
  const r = await loadConfigFile(file);
  const name = (d: string) => d.replace(`${dir}/`, '');
  if (r.ok) return { config: r.value, lines: r.value.warnings.map((d) => name(formatDiagnostic(d))) };
  return { lines: r.error.map((d) => name(formatDiagnostic(d))) };
}

describe('auth: pubkey in the configuration', () => {
  it('loads the chain, the key (redacted everywhere), the CAs with their CERTREQ hashes, and takes the subject DN as the local ID', async () => {
    const { config, lines } = await loadText(yaml());
    expect(lines).toEqual([]);
    const c = config!.engine.connections[0]!;
    expect(c.ikePolicy.auth).toBe('pubkey');
    expect(c.ikePolicy.signature).toEqual({ rsaPadding: 'pkcs1', digitalSignature: true });
    expect(c.local.certificate?.chain).toEqual([gw.der]);
    expect(c.local.certificate?.sendCert).toBe('ifasked');
    expect(formatIdentity(c.local.id)).toBe('C=CH, O=ikekm, CN=gw.example');
    expect(c.local.psk).toBeUndefined();
    expect(c.remote.trust?.anchors).toEqual([ca.der]);
    // RFC 7296 3.7: the SHA-1 of the CA's SubjectPublicKeyInfo, as OpenSSL computes it.
    // OpenSSL extracts the SubjectPublicKeyInfo; its SHA-1 is the CERTREQ hash.
    write('ca-pub.pem', opensslOk(['x509', '-in', join(dir, 'ca.pem'), '-pubkey', '-noout']));
    opensslOk(['pkey', '-pubin', '-in', join(dir, 'ca-pub.pem'), '-outform', 'DER', '-out', join(dir, 'ca-pub.der')]);
    expect(c.remote.trust?.caHashes[0]?.toString('hex')).toBe(createHash('sha1').update(readFileSync(join(dir, 'ca-pub.der'))).digest('hex'));
    // The key never prints.
    const keyBody = gw.keyPem.split('\n')[1]!;
    expect(JSON.stringify(c)).not.toContain(keyBody);
    expect(JSON.stringify(c.local.privateKey)).toBe('"[redacted]"');
    expect(inspect(c, { depth: 10 })).not.toContain(keyBody);
    expect(inspect(c.local.privateKey)).toBe('[redacted]');
  });

  it('IBM i and strongSwan words: rsa-signature and ecdsa demand the key type; signature settings are read', async () => {
    const { config } = await loadText(yaml({ auth: 'ecdsa-signature, signature: { rsaPadding: pss, digitalSignature: false }' }));
    expect(config!.engine.connections[0]!.ikePolicy.signature).toEqual({ rsaPadding: 'pss', digitalSignature: false, keyType: 'ecdsa' });
  });

  it('a key file others can read is refused, with the fix', async () => {
    write('open.key', gw.keyPem, 0o644);
    const { lines } = await loadText(yaml({ local: '{ address: 192.0.2.1, cert: gw.pem, key: open.key }' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/:9:53: error: to-hq\.local\.key: private key file .*\/open\.key can be read by group or others \(mode 0644\); run: chmod 600 .*\/open\.key$/);
  });

  it("a key that is not the certificate's is refused, naming both files", async () => {
    const { lines } = await loadText(yaml({ local: '{ address: 192.0.2.1, cert: gw.pem, key: peer.key }' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/:9:53: error: to-hq\.local\.key: the private key in .*\/peer\.key is not the key of "C=CH, O=ikekm, CN=gw\.example" \(issuer "C=CH, O=ikekm, CN=ikekm Root CA", serial [0-9a-f:]+\) in .*\/gw\.pem$/);
  });

  it('an ID the certificate does not name is refused, listing what it does name', async () => {
    const { lines } = await loadText(yaml({ local: '{ address: 192.0.2.1, id: vpn.example, cert: gw.pem, key: gw.key }' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/:9:38: error: to-hq\.local\.id: id vpn\.example is not in "C=CH, O=ikekm, CN=gw\.example" .*, which has subject "C=CH, O=ikekm, CN=gw\.example", subjectAltName DNS:gw\.example, IP:192\.0\.2\.1; a peer refuses an ID its certificate does not name \(RFC 7296 3\.5\)/);
    // An ID it does name is fine.
    expect((await loadText(yaml({ local: '{ address: 192.0.2.1, id: 192.0.2.1, cert: gw.pem, key: gw.key }' }))).lines).toEqual([]);
  });

  it('an expired certificate is refused', async () => {
    const old = testCertificate(ca, 'C=CH, O=ikekm, CN=old.example', { san: ['old.example'], nowMs: Date.now() - 400 * 86_400_000 });
    write('old.pem', old.pem);
    write('old.key', old.keyPem, 0o600);
    const { lines } = await loadText(yaml({ local: '{ address: 192.0.2.1, cert: old.pem, key: old.key }' }));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/:9:40: error: to-hq\.local\.cert: "C=CH, O=ikekm, CN=old\.example" .* expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('a CA file that is not a certificate, and a CRL of a CA not configured, are refused at their list items', async () => {
    write('garbage.pem', '-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n');
    const foreign = testCrl(otherCa, []);
    write('foreign.crl', foreign.pem);
    const { lines } = await loadText(yaml({ remote: '{ address: 192.0.2.2, id: hq.example, ca: [ca.pem, garbage.pem] }', extra: '    crl: [foreign.crl]' }));
    expect(lines).toEqual([
      expect.stringMatching(/:10:64: error: to-hq\.remote\.ca\[1\]: .*\/garbage\.pem: PEM block 1 \(CERTIFICATE\)/),
      expect.stringMatching(/:12:11: error: to-hq\.crl\[0\]: .*\/foreign\.crl: the CRL is issued by "C=CH, O=elsewhere, CN=Other CA", which is not among the CAs \(ca:\) of this connection$/),
    ]);
  });

  it('our chain not reaching a configured CA is only a warning: the peer may trust another CA', async () => {
    const { config, lines } = await loadText(yaml({ remote: '{ address: 192.0.2.2, id: hq.example, ca: other-ca.pem }' }));
    expect(config).toBeDefined();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/:9:40: warning: to-hq\.local\.cert: our certificate's chain does not reach a CA in this connection's ca list \(.*issued by "C=CH, O=ikekm, CN=ikekm Root CA" which is neither among the peer's certificates nor a configured CA.*\); the peer must trust the CA that issued it$/);
  });

  it('a PKCS#12 file with a passphrase file loads; cert and key beside it are refused', async () => {
    write('pass.txt', 'p12 secret\n', 0o600);
    write('gw-ca.pem', `${gw.pem}${ca.pem}`);
    opensslOk(['pkcs12', '-export', '-in', join(dir, 'gw-ca.pem'), '-inkey', join(dir, 'gw.key'), '-passout', 'pass:p12 secret', '-out', join(dir, 'gw.p12')]);
    chmodSync(join(dir, 'gw.p12'), 0o600);
    const { config, lines } = await loadText(yaml({ local: '{ address: 192.0.2.1, pkcs12: gw.p12, passphrase: pass.txt }' }));
    expect(lines).toEqual([]);
    // The self-signed root in the file is not sent: the peer has it.
    expect(config!.engine.connections[0]!.local.certificate?.chain).toEqual([gw.der]);
    const both = await loadText(yaml({ local: '{ address: 192.0.2.1, cert: gw.pem, pkcs12: gw.p12, passphrase: pass.txt }' }));
    expect(both.lines).toEqual([expect.stringMatching(/error: to-hq\.local\.pkcs12: pkcs12 holds the certificate and the key: write either pkcs12 or cert and key$/)]);
  });

  it('psk and certificate keys out of place are errors naming the policy', async () => {
    const { lines } = await loadText(yaml({ auth: 'psk', local: '{ address: 192.0.2.1, psk: "a preshared key", cert: gw.pem }', remote: '{ address: 192.0.2.2, id: hq.example, ca: ca.pem }' }));
    expect(lines).toEqual([
      expect.stringMatching(/error: to-hq\.local\.cert: cert is for auth: pubkey; IKE policy p1 has auth: psk$/),
      expect.stringMatching(/error: to-hq\.remote\.ca: ca is for auth: pubkey; IKE policy p1 has auth: psk$/),
    ]);
  });

  it('ikekm check-config: the key file refused at its file:line:col, exit 1; fixed, ok', async () => {
    write('loose.key', gw.keyPem, 0o640);
    const file = write('check.yaml', yaml({ local: '{ address: 192.0.2.1, cert: gw.pem, key: loose.key }' }), 0o600);
    const out: string[] = [];
    const io: CheckConfigOutput = { out: (l) => out.push(l), err: (l) => out.push(l) };
    expect(await checkConfigCommand([file], io)).toBe(1);
    expect(out).toEqual([`${file}:9:53: error: to-hq.local.key: private key file ${dir}/loose.key can be read by group or others (mode 0640); run: chmod 600 ${dir}/loose.key`, `${file}: 1 error`]);
    chmodSync(join(dir, 'loose.key'), 0o600);
    out.length = 0;
    expect(await checkConfigCommand([file], io)).toBe(0);
    expect(out).toEqual([`${file}: ok (1 connection)`]);
  });

  it('a remote DN pattern is read; a DN that does not parse is refused', async () => {
    const { config } = await loadText(yaml({ remote: '{ address: 192.0.2.2, id: "C=CH, O=ikekm, CN=*", ca: ca.pem }' }));
    expect(formatIdentity(config!.engine.connections[0]!.remote.id)).toBe('C=CH, O=ikekm, CN=*');
    const bad = await loadText(yaml({ remote: '{ address: 192.0.2.2, id: "C=CH, XX=1", ca: ca.pem }' }));
    expect(bad.lines).toEqual([expect.stringMatching(/error: to-hq\.remote\.id: id 'C=CH, XX=1' looks like a DN but unknown attribute type 'XX'/)]);
  });
});
