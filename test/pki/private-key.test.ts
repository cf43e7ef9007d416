/**
 * Private key files as OpenSSL writes them load, encrypted ones with their passphrase; what is
 * not a usable key gets a message that names the problem and none of the key; a key file others
 * can read is named with the command that fixes it.
 */
import { X509Certificate, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describePrivateKeyFile, keyMatchesPublicKey, privateKeyFileProblem, privateKeyFromPem } from '../../src/pki/private-key.js';
import { opensslOk, scratchDirectory } from '../support/openssl.js';

const dir = scratchDirectory('ikekm-private-key-');
afterAll(() => dir.remove());

const PASS = 'correct horse battery staple';
const f = dir.file;

beforeAll(() => {
  opensslOk(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', f('rsa-pkcs8.pem')]);
  opensslOk(['rsa', '-in', f('rsa-pkcs8.pem'), '-traditional', '-out', f('rsa-pkcs1.pem')]);
  opensslOk(['rsa', '-in', f('rsa-pkcs8.pem'), '-traditional', '-aes256', '-passout', `pass:${PASS}`, '-out', f('rsa-legacy-encrypted.pem')]);
  opensslOk(['pkcs8', '-topk8', '-v2', 'aes256', '-in', f('rsa-pkcs8.pem'), '-passout', `pass:${PASS}`, '-out', f('rsa-encrypted.pem')]);
  opensslOk(['pkcs8', '-topk8', '-nocrypt', '-in', f('rsa-pkcs8.pem'), '-outform', 'DER', '-out', f('rsa-pkcs8.der')]);
  opensslOk(['pkcs8', '-topk8', '-v2', 'aes256', '-in', f('rsa-pkcs8.pem'), '-passout', `pass:${PASS}`, '-outform', 'DER', '-out', f('rsa-encrypted.der')]);
  opensslOk(['rsa', '-in', f('rsa-pkcs8.pem'), '-pubout', '-out', f('rsa-public.pem')]);
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', f('ec-pkcs8.pem')]);
  opensslOk(['ec', '-in', f('ec-pkcs8.pem'), '-out', f('ec-sec1.pem')]);
  opensslOk(['ec', '-in', f('ec-pkcs8.pem'), '-outform', 'DER', '-out', f('ec-sec1.der')]);
  opensslOk(['ec', '-in', f('ec-pkcs8.pem'), '-aes256', '-passout', `pass:${PASS}`, '-out', f('ec-legacy-encrypted.pem')]);
  opensslOk(['pkcs8', '-topk8', '-v1', 'PBE-SHA1-3DES', '-in', f('ec-pkcs8.pem'), '-passout', `pass:${PASS}`, '-out', f('ec-pkcs12-pbe.pem')]);
  opensslOk(['ecparam', '-genkey', '-name', 'prime256v1', '-out', f('ec-with-parameters.pem')]);
  opensslOk(['genpkey', '-algorithm', 'ED25519', '-out', f('ed25519.pem')]);
  opensslOk(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-out', f('secp256k1.pem')]);
  opensslOk(['genpkey', '-algorithm', 'X25519', '-out', f('x25519.pem')]);
  opensslOk(['req', '-new', '-x509', '-key', f('ec-pkcs8.pem'), '-subj', '/CN=k', '-days', '1', '-out', f('ec-cert.pem')]);
});

const load = (name: string, passphrase?: string) => privateKeyFromPem(readFileSync(f(name)), passphrase === undefined ? undefined : Buffer.from(passphrase));
const description = (name: string, passphrase?: string): string => {
  const r = load(name, passphrase);
  return r.ok ? r.value.description : `error: ${r.error}`;
};

describe('private keys as OpenSSL writes them', () => {
  it.each([
    ['rsa-pkcs8.pem', undefined, 'RSA-2048'],
    ['rsa-pkcs1.pem', undefined, 'RSA-2048'],
    ['rsa-legacy-encrypted.pem', PASS, 'RSA-2048'],
    ['rsa-encrypted.pem', PASS, 'RSA-2048'],
    ['rsa-pkcs8.der', undefined, 'RSA-2048'],
    ['rsa-encrypted.der', PASS, 'RSA-2048'],
    ['ec-pkcs8.pem', undefined, 'ECDSA P-384'],
    ['ec-sec1.pem', undefined, 'ECDSA P-384'],
    ['ec-sec1.der', undefined, 'ECDSA P-384'],
    ['ec-legacy-encrypted.pem', PASS, 'ECDSA P-384'],
    ['ec-pkcs12-pbe.pem', PASS, 'ECDSA P-384'],
    ['ec-with-parameters.pem', undefined, 'ECDSA P-256'],
    ['ed25519.pem', undefined, 'Ed25519'],
    // A passphrase for a key that has none is not an error: the key simply is not encrypted.
    ['rsa-pkcs8.pem', 'unused', 'RSA-2048'],
  ])('%s (passphrase %s) loads as %s', (name, passphrase, expected) => {
    expect(description(name, passphrase)).toBe(expected);
  });

  it('every form of the same key is the same key', () => {
    const spki = (name: string, passphrase?: string) => {
      const r = load(name, passphrase);
      if (!r.ok) throw new Error(r.error);
      return createPublicKey(r.value.key).export({ type: 'spki', format: 'der' }).toString('hex');
    };
    const forms = ['rsa-pkcs1.pem', 'rsa-legacy-encrypted.pem', 'rsa-encrypted.pem', 'rsa-pkcs8.der', 'rsa-encrypted.der'].map((name) => spki(name, PASS));
    expect(new Set([spki('rsa-pkcs8.pem'), ...forms]).size).toBe(1);
  });

  it.each([
    ['rsa-encrypted.pem', undefined, 'the key is encrypted: give a passphrase file'],
    ['rsa-legacy-encrypted.pem', undefined, 'the key is encrypted: give a passphrase file'],
    ['rsa-encrypted.der', undefined, 'the key is encrypted: give a passphrase file'],
    ['rsa-public.pem', undefined, 'the file holds a public key, not a private key'],
    ['ec-cert.pem', undefined, 'the file holds a certificate, not a private key'],
    ['secp256k1.pem', undefined, 'the key is an EC key on curve secp256k1; IKE uses ECDSA on P-256, P-384 or P-521'],
    ['x25519.pem', undefined, 'a key of type X25519 cannot sign IKE AUTH payloads: RSA, ECDSA (P-256, P-384, P-521) and Ed25519 keys can'],
  ])('%s (passphrase %s): %s', (name, passphrase, message) => {
    expect(load(name, passphrase)).toEqual({ ok: false, error: message });
  });

  it('a wrong passphrase says so (PKCS#8 PBES2, legacy PEM, PKCS#12 PBE)', () => {
    for (const name of ['rsa-encrypted.pem', 'rsa-legacy-encrypted.pem', 'ec-pkcs12-pbe.pem', 'rsa-encrypted.der']) {
      const r = load(name, 'wrong');
      expect(r.ok).toBe(false);
      // Once in 256 a wrong key passes the CBC padding check and the decoded octets fail instead: the message then adds a second cause.
      expect(r.ok ? '' : r.error).toMatch(/^the passphrase does not decrypt the key/);
    }
  });

  it('garbage, a broken PEM body and a PEM without a key: messages, not exceptions', () => {
    expect(privateKeyFromPem(Buffer.from('not a key at all\n'), undefined)).toEqual({ ok: false, error: 'the file is neither a PEM private key nor a DER PKCS#8 private key' });
    expect(privateKeyFromPem(Buffer.alloc(0), undefined)).toEqual({ ok: false, error: 'the file is neither a PEM private key nor a DER PKCS#8 private key' });
    const broken = privateKeyFromPem(Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n'), undefined);
    expect(broken.ok ? '' : broken.error).toMatch(/^the file is not a private key OpenSSL can read \(PKCS#8, PKCS#1 or SEC1\): /);
    expect(privateKeyFromPem(Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n'), undefined)).toEqual({ ok: false, error: 'the file has a PEM header but no complete PEM block' });
    expect(privateKeyFromPem(Buffer.from('-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n'), undefined)).toEqual({ ok: false, error: 'the file holds no private key (PEM blocks: FOO)' });
    // DER that decodes, but as no key.
    const notKey = privateKeyFromPem(Buffer.from('300602010002010a', 'hex'), undefined);
    expect(notKey.ok ? '' : notKey.error).toMatch(/^the file is not a private key OpenSSL can read \(PKCS#8, PKCS#1 or SEC1\): /);
  });

  it('no message, inspection or JSON of a loaded key shows key material or the passphrase', () => {
    const pem = readFileSync(f('rsa-encrypted.pem'), 'latin1');
    const plain = readFileSync(f('rsa-pkcs8.pem'), 'latin1');
    const bodyLines = [...pem.split('\n'), ...plain.split('\n')].filter((l) => l.length > 20 && !l.startsWith('-----'));
    const loaded = load('rsa-encrypted.pem', PASS);
    const wrong = load('rsa-encrypted.pem', 'wrong');
    const shown = [inspect(loaded, { depth: 5 }), JSON.stringify(loaded), inspect(wrong), JSON.stringify(wrong)].join('\n');
    expect(shown).not.toContain(PASS);
    for (const line of bodyLines) expect(shown).not.toContain(line.slice(0, 16));
    expect(JSON.stringify(loaded)).toBe('{"ok":true,"value":{"key":{},"description":"RSA-2048","form":{"container":"PKCS#8","encrypted":true}}}');
  });
});

describe('a private key file described (ikekm pki show)', () => {
  const shown = (name: string, passphrase?: string): string => {
    const r = describePrivateKeyFile(readFileSync(f(name)), passphrase === undefined ? undefined : Buffer.from(passphrase));
    if (r === undefined) return 'no private key';
    if (!r.ok) return `error: ${r.error}`;
    const { form, type, unusable } = r.value;
    return `${type ?? '?'} ${form.container}${form.encrypted ? ' encrypted' : ''}${unusable === undefined ? '' : ` (${unusable})`}`;
  };

  it.each([
    ['rsa-pkcs8.pem', undefined, 'RSA-2048 PKCS#8'],
    ['rsa-pkcs1.pem', undefined, 'RSA-2048 PKCS#1'],
    ['rsa-legacy-encrypted.pem', undefined, '? PKCS#1 encrypted'],
    ['rsa-legacy-encrypted.pem', PASS, 'RSA-2048 PKCS#1 encrypted'],
    ['rsa-encrypted.pem', undefined, '? PKCS#8 encrypted'],
    ['rsa-encrypted.pem', PASS, 'RSA-2048 PKCS#8 encrypted'],
    ['rsa-pkcs8.der', undefined, 'RSA-2048 PKCS#8'],
    ['rsa-encrypted.der', undefined, '? PKCS#8 encrypted'],
    ['rsa-encrypted.der', PASS, 'RSA-2048 PKCS#8 encrypted'],
    ['ec-sec1.pem', undefined, 'ECDSA P-384 SEC1'],
    ['ec-sec1.der', undefined, 'ECDSA P-384 SEC1'],
    ['ec-legacy-encrypted.pem', PASS, 'ECDSA P-384 SEC1 encrypted'],
    ['ec-pkcs12-pbe.pem', PASS, 'ECDSA P-384 PKCS#8 encrypted'],
    ['ec-with-parameters.pem', undefined, 'ECDSA P-256 SEC1'],
    ['ed25519.pem', undefined, 'Ed25519 PKCS#8'],
    ['x25519.pem', undefined, 'X25519 PKCS#8 (a key of type X25519 cannot sign IKE AUTH payloads: RSA, ECDSA (P-256, P-384, P-521) and Ed25519 keys can)'],
    ['secp256k1.pem', undefined, 'EC secp256k1 PKCS#8 (the key is an EC key on curve secp256k1; IKE uses ECDSA on P-256, P-384 or P-521)'],
    ['rsa-encrypted.pem', 'wrong', 'error: the passphrase does not decrypt the key'],
    ['ec-cert.pem', undefined, 'no private key'],
    ['rsa-public.pem', undefined, 'no private key'],
  ])('%s (passphrase %s): %s', (name, passphrase, expected) => {
    expect(shown(name, passphrase)).toBe(expected);
  });

  it('DER that is no key structure is not a key file; the form of an encrypted DER key is read from its algorithm', () => {
    expect(describePrivateKeyFile(Buffer.from('300602010002010a', 'hex'), undefined)).toBeUndefined();
    // A SEQUENCE of a SEQUENCE and an OCTET STRING, but no password-based scheme: not an EncryptedPrivateKeyInfo.
    expect(describePrivateKeyFile(Buffer.from('300b3005060355040304020000', 'hex'), undefined)).toBeUndefined();
  });
});

describe('a private key and a public key', () => {
  it('match when the public key is derived from the private key (a certificate made with it), not otherwise', () => {
    const ec = load('ec-pkcs8.pem');
    const rsa = load('rsa-pkcs8.pem');
    if (!ec.ok || !rsa.ok) throw new Error('keys do not load');
    const certKey = new X509Certificate(readFileSync(f('ec-cert.pem'))).publicKey;
    expect(keyMatchesPublicKey(ec.value.key, certKey)).toBe(true);
    expect(keyMatchesPublicKey(rsa.value.key, certKey)).toBe(false);
    const other = load('ec-with-parameters.pem');
    if (!other.ok) throw new Error(other.error);
    expect(keyMatchesPublicKey(other.value.key, certKey)).toBe(false);
  });
});

describe('the mode of a private key file', () => {
  it.each([
    [0o100600, undefined],
    [0o100400, undefined],
    [0o100700, undefined],
    [0o100644, 'private key file /etc/ikekm/gw.key can be read by group or others (mode 0644); run: chmod 600 /etc/ikekm/gw.key'],
    [0o100640, 'private key file /etc/ikekm/gw.key can be read by group or others (mode 0640); run: chmod 600 /etc/ikekm/gw.key'],
    [0o100604, 'private key file /etc/ikekm/gw.key can be read by group or others (mode 0604); run: chmod 600 /etc/ikekm/gw.key'],
    [0o100620, 'private key file /etc/ikekm/gw.key can be written by group or others (mode 0620); run: chmod 600 /etc/ikekm/gw.key'],
  ])('st_mode %o: %s', (mode, problem) => {
    expect(privateKeyFileProblem(mode, '/etc/ikekm/gw.key')).toBe(problem);
  });
});
