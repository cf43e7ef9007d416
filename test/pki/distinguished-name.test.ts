import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { looksLikeDistinguishedName, nameFromDer, nameMatches, parseDistinguishedName, sameName } from '../../src/pki/distinguished-name.js';

const parsed = (text: string) => {
  const r = parseDistinguishedName(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('distinguished names', () => {
  it('reads the text form in strongSwan order and writes the same text back', () => {
    const dn = parsed('C=CH, O=ikekm\\, Inc, CN=gw.example, E=ops@gw.example');
    expect(dn.attributes.map((a) => [a.type, a.value])).toEqual([
      ['C', 'CH'],
      ['O', 'ikekm, Inc'],
      ['CN', 'gw.example'],
      ['E', 'ops@gw.example'],
    ]);
    expect(dn.text).toBe('C=CH, O=ikekm\\, Inc, CN=gw.example, E=ops@gw.example');
  });

  it('encodes the Name as OpenSSL reads it (PrintableString C, UTF8String values)', () => {
    const dn = parsed('C=CH, O=Zürich Ops, CN=gw.example');
    // SEQUENCE { SET { SEQUENCE { OID 2.5.4.6, PrintableString "CH" } } ... }
    expect(dn.der.subarray(0, 15).toString('hex')).toBe(`30${(dn.der.length - 2).toString(16)}310b3009060355040613024348`);
    const back = nameFromDer(dn.der);
    expect(back.ok && back.value.text).toBe('C=CH, O=Zürich Ops, CN=gw.example');
  });

  it("reads an OpenSSL certificate's subject to the text OpenSSL prints", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-dn-'));
    try {
      execFileSync('openssl', ['req', '-new', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-subj', '/C=CH/ST=Zug/O=Foo Ltd/OU=VPN/CN=x.example', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2'], { stdio: 'ignore' });
      const cert = new X509Certificate(execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-outform', 'DER']));
      // The subject DER sits in the TBS; X509Certificate gives its text one attribute per line.
      const subjectText = cert.subject.split('\n').join(', ');
      const tbsSubject = parsed(subjectText).der;
      expect(cert.raw.includes(tbsSubject)).toBe(true);
      expect(subjectText).toBe('C=CH, ST=Zug, O=Foo Ltd, OU=VPN, CN=x.example');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads a BMPString value (OpenSSL string_mask=pkix) to its text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-dn-'));
    try {
      const config = join(dir, 'req.cnf');
      writeFileSync(config, '[ req ]\ndistinguished_name = dn\nstring_mask = pkix\n[ dn ]\n');
      execFileSync('openssl', ['req', '-new', '-x509', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-utf8', '-subj', '/C=CH/CN=Zürich ✓', '-config', config, '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2'], { stdio: 'ignore' });
      expect(execFileSync('openssl', ['asn1parse', '-in', join(dir, 'c.pem')]).toString()).toContain('BMPSTRING');
      const cert = new X509Certificate(execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-outform', 'DER']));
      // The subject Name is the TBS's sixth element; find it by its known encoding's start.
      const subjectAt = cert.raw.lastIndexOf(Buffer.from('310b3009060355040613024348', 'hex')) - 2;
      const name = nameFromDer(cert.raw.subarray(subjectAt, subjectAt + 2 + cert.raw[subjectAt + 1]!));
      expect(name.ok && name.value.text).toBe('C=CH, CN=Zürich ✓');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('matches attribute by attribute without regard to case, with * for any value', () => {
    const actual = parsed('C=CH, O=ikekm, CN=moon.example');
    expect(nameMatches(parsed('c=ch, o=IKEKM, cn=Moon.Example'), actual)).toBe(true);
    expect(nameMatches(parsed('C=CH, O=ikekm, CN=*'), actual)).toBe(true);
    expect(nameMatches(parsed('C=CH, O=other, CN=*'), actual)).toBe(false);
    expect(nameMatches(parsed('C=CH, CN=*'), actual)).toBe(false);
    expect(nameMatches(parsed('O=ikekm, C=CH, CN=moon.example'), actual)).toBe(false);
    expect(sameName(parsed('C=CH, O=ikekm, CN=*'), actual)).toBe(false);
  });

  it('says what is wrong with a bad text or bad DER', () => {
    expect(parseDistinguishedName('CN=a, foo')).toEqual({ ok: false, error: "'foo' in the DN 'CN=a, foo' is not TYPE=value (e.g. CN=gw.example)" });
    expect(parseDistinguishedName('XX=a')).toMatchObject({ ok: false, error: expect.stringContaining("unknown attribute type 'XX'") });
    expect(parseDistinguishedName('CN=')).toEqual({ ok: false, error: "attribute CN in the DN 'CN=' has no value" });
    expect(nameFromDer(Buffer.from('3003310130', 'hex')).ok).toBe(false);
    expect(nameFromDer(Buffer.from('300031', 'hex')).ok).toBe(false);
  });

  it('tells a DN from an FQDN, an address or an email', () => {
    expect(looksLikeDistinguishedName('CN=gw')).toBe(true);
    expect(looksLikeDistinguishedName('2.5.4.3=gw')).toBe(true);
    expect(looksLikeDistinguishedName('gw.example')).toBe(false);
    expect(looksLikeDistinguishedName('192.0.2.1')).toBe(false);
    expect(looksLikeDistinguishedName('a@b.example')).toBe(false);
  });
});
