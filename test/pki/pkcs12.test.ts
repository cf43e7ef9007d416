/**
 * PKCS#12 files made by `openssl pkcs12 -export` (OpenSSL 3 defaults: PBES2 AES-256-CBC with a
 * SHA-256 MAC; `-legacy`: RC2-40 and 3DES with a SHA-1 MAC; unencrypted bags; no MAC) give their
 * key and their certificates octet for octet; what cannot be read gets a message that says what
 * to do, never an exception.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyMatchesPublicKey } from '../../src/pki/private-key.js';
import { readPkcs12 } from '../../src/pki/pkcs12.js';
import { opensslOk, scratchDirectory } from '../support/openssl.js';

const dir = scratchDirectory('ikekm-pkcs12-');
afterAll(() => dir.remove());
const f = dir.file;
const PASS = 'p12 secret';

/** A CA and a gateway certificate made by OpenSSL alone, for each key type. */
function makeChain(type: 'rsa' | 'ec'): void {
  const newKey = type === 'rsa' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  opensslOk(['req', '-x509', ...newKey, '-nodes', '-keyout', f(`${type}-ca.key`), '-out', f(`${type}-ca.pem`), '-subj', `/CN=${type} CA`, '-days', '2', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  opensslOk(['req', '-new', ...newKey, '-nodes', '-keyout', f(`${type}-gw.key`), '-out', f(`${type}-gw.csr`), '-subj', `/CN=${type}.gw.example`]);
  opensslOk(['x509', '-req', '-in', f(`${type}-gw.csr`), '-CA', f(`${type}-ca.pem`), '-CAkey', f(`${type}-ca.key`), '-CAcreateserial', '-days', '2', '-out', f(`${type}-gw.pem`)]);
}

function exportP12(name: string, type: 'rsa' | 'ec', options: string[], passphrase = PASS): void {
  opensslOk(['pkcs12', '-export', '-inkey', f(`${type}-gw.key`), '-in', f(`${type}-gw.pem`), '-certfile', f(`${type}-ca.pem`), '-name', `${type} gateway`, '-passout', `pass:${passphrase}`, ...options, '-out', f(name)]);
}

beforeAll(() => {
  makeChain('rsa');
  makeChain('ec');
  for (const type of ['rsa', 'ec'] as const) {
    exportP12(`${type}-default.p12`, type, []);
    exportP12(`${type}-legacy.p12`, type, ['-legacy']);
    exportP12(`${type}-3des.p12`, type, ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']);
    exportP12(`${type}-unencrypted.p12`, type, ['-keypbe', 'NONE', '-certpbe', 'NONE']);
    exportP12(`${type}-nomac.p12`, type, ['-nomac']);
  }
  exportP12('ec-unicode.p12', 'ec', [], 'pässwörd ✓');
  exportP12('ec-empty.p12', 'ec', [], '');
  exportP12('rsa-empty-legacy.p12', 'rsa', ['-legacy'], '');
  exportP12('rsa-rc2-128.p12', 'rsa', ['-legacy', '-certpbe', 'PBE-SHA1-RC2-128']);
  opensslOk(['pkcs12', '-export', '-nokeys', '-in', f('ec-gw.pem'), '-passout', `pass:${PASS}`, '-out', f('no-key.p12')]);
});

const der = (pem: string): Buffer => new X509Certificate(readFileSync(f(pem))).raw;

describe('PKCS#12 files made by openssl pkcs12 -export', () => {
  it.each(['default', 'legacy', '3des', 'unencrypted', 'nomac'].flatMap((variant) => [`rsa-${variant}`, `ec-${variant}`]))('%s: the key, the certificates as DER octet for octet, the friendly name', (name) => {
    const type = name.startsWith('rsa') ? 'rsa' : 'ec';
    const r = readPkcs12(readFileSync(f(`${name}.p12`)), PASS);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.key.asymmetricKeyType).toBe(type);
    expect(r.value.key.type).toBe('private');
    // openssl writes the key's own certificate first, then those of -certfile.
    expect(r.value.certificates).toEqual([der(`${type}-gw.pem`), der(`${type}-ca.pem`)]);
    expect(keyMatchesPublicKey(r.value.key, new X509Certificate(r.value.certificates[0]!).publicKey)).toBe(true);
    expect(r.value.friendlyName).toBe(`${type} gateway`);
  });

  it('a passphrase beyond ASCII (UTF-8 for PBES2, BMPString for the MAC)', () => {
    const r = readPkcs12(readFileSync(f('ec-unicode.p12')), 'pässwörd ✓');
    expect(r.ok).toBe(true);
    expect(readPkcs12(readFileSync(f('ec-unicode.p12')), 'passwort ✓').ok).toBe(false);
  });

  it('an empty passphrase (what some exporters write without asking)', () => {
    expect(readPkcs12(readFileSync(f('ec-empty.p12')), '').ok).toBe(true);
    expect(readPkcs12(readFileSync(f('rsa-empty-legacy.p12')), '').ok).toBe(true);
    expect(readPkcs12(readFileSync(f('ec-empty.p12')), PASS).ok).toBe(false);
  });

  it('a wrong passphrase: the MAC says so; without a MAC, the decryption', () => {
    for (const name of ['rsa-default.p12', 'ec-legacy.p12', 'rsa-3des.p12']) {
      expect(readPkcs12(readFileSync(f(name)), 'wrong')).toEqual({ ok: false, error: 'the passphrase is wrong, or the PKCS#12 file was altered: its MAC does not match' });
    }
    const nomac = readPkcs12(readFileSync(f('ec-nomac.p12')), 'wrong');
    expect(nomac).toEqual({ ok: false, error: "the PKCS#12 file's private key cannot be decrypted: the passphrase is wrong" });
  });

  it('a cipher forge lacks (128-bit RC2) is named, with the ways to re-export', () => {
    expect(readPkcs12(readFileSync(f('rsa-rc2-128.p12')), PASS)).toEqual({
      ok: false,
      error:
        'the PKCS#12 file encrypts its certificates with pbeWithSHAAnd128BitRC2-CBC, which ikekm does not read; re-export it with OpenSSL 3 defaults (openssl pkcs12 -export), or with -legacy, or with -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1',
    });
  });

  it('a file without a key says so', () => {
    expect(readPkcs12(readFileSync(f('no-key.p12')), PASS)).toEqual({ ok: false, error: 'the PKCS#12 file holds no private key' });
  });

  it('garbage, truncations and flipped bits are messages, never exceptions', () => {
    expect(readPkcs12(Buffer.from('garbage'), PASS)).toEqual({ ok: false, error: 'the file is not a well-formed PKCS#12 file: its outer structure is not BER (Too few bytes to read ASN.1 value.)' });
    const content = readFileSync(f('ec-default.p12'));
    // Every truncation fails: one that cut off the MacData must not read as a file without a MAC.
    for (let length = 0; length < content.length; length += 7) {
      const r = readPkcs12(content.subarray(0, length), PASS);
      expect(r.ok).toBe(false);
    }
    for (let at = 0; at < content.length; at += 11) {
      const flipped = Buffer.from(content);
      flipped[at]! ^= 0x01;
      // A flip in a tag, a length or the MAC fails; a flip in a spot BER does not care about may still read.
      const r = readPkcs12(flipped, PASS);
      if (r.ok) expect(r.value.certificates.length).toBeGreaterThan(0);
      else expect(typeof r.error).toBe('string');
    }
  });
});
