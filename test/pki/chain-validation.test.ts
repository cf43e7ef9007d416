/**
 * Path validation (src/pki/chain-validation.ts) on PKIs made by OpenSSL: good chains (RSA root
 * to end entity; ECDSA root, intermediate and end entity with the peer's certificates in the
 * wrong order and junk among them; an intermediate configured as the anchor; a version 1 root),
 * then one case per rule with the exact rule and the exact message, built from what the
 * fixtures were made with (subjects, serials, dates), and the check lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, type Certificate } from '../../src/pki/certificate.js';
import { validateChain, type ChainInput, type ChainVerdict } from '../../src/pki/chain-validation.js';
import { parseCrl, type Crl } from '../../src/pki/crl.js';
import { CA_EXTENSIONS, isoOf, msOf, OpensslPki, PEER_EXTENSIONS, type FixtureCa, type FixtureCertificate } from './openssl-fixtures.js';

const NOW = '20260601120000Z';
const NOW_MS = msOf(NOW);
const VALID = { notBefore: '20260101000000Z', notAfter: '20270101000000Z' };
const CA_VALID = { notBefore: '20250101000000Z', notAfter: '20350101000000Z' };

const RSA_ROOT = 'C=CH, O=ikekm, CN=RSA Root CA';
const EC_ROOT = 'C=CH, O=ikekm, CN=EC Root CA';
const EC_INT = 'C=CH, O=ikekm, CN=EC Intermediate CA';

let pki: OpensslPki;
const f: Record<string, FixtureCertificate> = {};
const crls: Record<string, Crl> = {};

/** The parsed certificate of fixture `name`. */
function cert(name: string): Certificate {
  const fixture = f[name];
  if (fixture === undefined) throw new Error(`no fixture ${name}`);
  const r = parseCertificate(fixture.der);
  if (!r.ok) throw new Error(`${name}: ${r.error}`);
  return r.value;
}

/** `"subject" (issuer "…", serial …)` built from the fixture's own inputs, as every message starts. */
function named(name: string, issuer: string): string {
  const fixture = f[name]!;
  const serial = fixture.serial.padStart(fixture.serial.length + (fixture.serial.length % 2), '0').match(/../g)!.join(':');
  return `"${fixture.subject}" (issuer "${issuer}", serial ${serial})`;
}

function validate(endEntity: string, options: { intermediates?: string[]; anchors: string[]; crls?: string[]; at?: string }): ChainVerdict {
  const input: ChainInput = {
    endEntity: cert(endEntity),
    intermediates: (options.intermediates ?? []).map(cert),
    anchors: options.anchors.map(cert),
    crls: (options.crls ?? []).map((n) => crls[n]!),
    atMs: options.at === undefined ? NOW_MS : msOf(options.at),
  };
  return validateChain(input);
}

/** The verdict's rule and message, or the chain's subjects when it passed. */
function outcome(v: ChainVerdict): { rule: string; message: string } | { chain: string[] } {
  return v.ok ? { chain: v.chain.map((c) => c.subject.text) } : { rule: v.rule, message: v.message };
}

beforeAll(() => {
  pki = OpensslPki.create('ikekm-chain-');
  const root = (name: string, subject: string, key: 'rsa-2048' | 'ec-p256' | 'ed448', extra: Partial<Parameters<OpensslPki['selfSignedCa']>[1]> = {}): FixtureCa =>
    (f[name] = pki.selfSignedCa(name, { subject, key, serial: '01', ...CA_VALID, ...extra }));

  const rsaRoot = root('rsaRoot', RSA_ROOT, 'rsa-2048');
  f['moon'] = pki.issue(rsaRoot, 'moon', { subject: 'C=CH, O=ikekm, CN=moon.example', key: 'rsa-2048', serial: '0a1b', ...VALID });

  const ecRoot = root('ecRoot', EC_ROOT, 'ec-p256');
  const ecInt = (f['ecInt'] = pki.issueCa(ecRoot, 'ecInt', { subject: EC_INT, serial: '10', ...CA_VALID }));
  const sunExtensions = [...PEER_EXTENSIONS, 'extendedKeyUsage=serverAuth,1.3.6.1.5.5.7.3.17', 'subjectAltName=DNS:sun.example'];
  f['sun'] = pki.issue(ecInt, 'sun', { subject: 'C=CH, O=ikekm, CN=sun.example', serial: '8a1b', ...VALID, extensions: sunExtensions });

  // An expired edition of the intermediate: the same name and key, another certificate.
  f['ecIntExpired'] = pki.issue(ecRoot, 'ecIntExpired', { subject: EC_INT, keyFrom: ecInt, serial: '11', notBefore: '20240101000000Z', notAfter: '20250101000000Z', extensions: CA_EXTENSIONS });

  // Validity.
  f['future'] = pki.issue(ecInt, 'future', { subject: 'C=CH, O=ikekm, CN=future.example', serial: '20', notBefore: '20270101000000Z', notAfter: '20280101000000Z' });
  f['expired'] = pki.issue(ecInt, 'expired', { subject: 'C=CH, O=ikekm, CN=expired.example', serial: '21', notBefore: '20250101000000Z', notAfter: '20260101000000Z' });
  const oldRoot = root('oldRoot', 'C=CH, O=ikekm, CN=Old Root CA', 'ec-p256', { notBefore: '20200101000000Z', notAfter: '20260301000000Z' });
  f['underOld'] = pki.issue(oldRoot, 'underOld', { subject: 'C=CH, O=ikekm, CN=old.example', serial: '22', ...VALID });

  // Same name as the intermediate, another key: without a subjectKeyIdentifier it is a candidate
  // whose signature check fails; with one, the key identifiers tell it apart.
  // OpenSSL 3 adds key identifiers unless told 'none'.
  const noKeyId = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=none', 'authorityKeyIdentifier=none'];
  const impostor = root('impostor', EC_INT, 'ec-p256', { serial: '66', extensions: noKeyId });
  root('impostorWithKeyId', EC_INT, 'ec-p256', { serial: '67' });
  const tampered = Buffer.from(f['sun']!.der);
  tampered[tampered.length - 5]! ^= 0x01; // inside the ECDSA signature's s
  f['tampered'] = { ...f['sun']!, der: tampered };

  // Algorithms: an Ed448 CA (signature unsupported), an Ed448 end entity (key unsupported).
  const ed448Ca = root('ed448Ca', 'C=CH, O=ikekm, CN=Ed448 CA', 'ed448');
  f['underEd448'] = pki.issue(ed448Ca, 'underEd448', { subject: 'C=CH, O=ikekm, CN=ed448-signed.example', serial: '23', ...VALID });
  f['ed448Key'] = pki.issue(ecInt, 'ed448Key', { subject: 'C=CH, O=ikekm, CN=ed448-key.example', key: 'ed448', serial: '24', ...VALID });

  // CA-ness of issuers.
  const notCa = pki.issueCa(ecRoot, 'notCa', { subject: 'C=CH, O=ikekm, CN=Not A CA', serial: '30', ...CA_VALID, extensions: ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyCertSign'] });
  f['notCa'] = notCa;
  f['underNotCa'] = pki.issue(notCa, 'underNotCa', { subject: 'C=CH, O=ikekm, CN=victim.example', serial: '31', ...VALID });
  const noBc = (f['noBc'] = pki.issueCa(ecRoot, 'noBc', { subject: 'C=CH, O=ikekm, CN=No Constraints CA', serial: '32', ...CA_VALID, extensions: ['keyUsage=keyCertSign'] }));
  f['underNoBc'] = pki.issue(noBc, 'underNoBc', { subject: 'C=CH, O=ikekm, CN=victim2.example', serial: '33', ...VALID });
  const noCertSign = (f['noCertSign'] = pki.issueCa(ecRoot, 'noCertSign', {
    subject: 'C=CH, O=ikekm, CN=CRL Only CA',
    serial: '34',
    ...CA_VALID,
    extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,cRLSign,digitalSignature'],
  }));
  f['underNoCertSign'] = pki.issue(noCertSign, 'underNoCertSign', { subject: 'C=CH, O=ikekm, CN=victim3.example', serial: '35', ...VALID });
  const v1Root = root('v1Root', 'C=CH, O=ikekm, CN=V1 Root CA', 'ec-p256', { extensions: [] });
  // OpenSSL makes no authorityKeyIdentifier under a version 1 issuer.
  const underV1 = ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature'];
  f['underV1Root'] = pki.issue(v1Root, 'underV1Root', { subject: 'C=CH, O=ikekm, CN=v1-root.example', serial: '36', ...VALID, extensions: underV1 });
  const v1Int = (f['v1Int'] = pki.issueCa(ecRoot, 'v1Int', { subject: 'C=CH, O=ikekm, CN=V1 Intermediate CA', serial: '37', ...CA_VALID, extensions: [] }));
  f['underV1Int'] = pki.issue(v1Int, 'underV1Int', { subject: 'C=CH, O=ikekm, CN=v1-int.example', serial: '38', ...VALID, extensions: underV1 });

  // Path length: pathlen:0 with a CA below it.
  const pathZero = (f['pathZero'] = pki.issueCa(ecRoot, 'pathZero', { subject: 'C=CH, O=ikekm, CN=Path Length 0 CA', serial: '40', ...CA_VALID, extensions: ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign', 'subjectKeyIdentifier=hash', 'authorityKeyIdentifier=keyid'] }));
  const subCa = (f['subCa'] = pki.issueCa(pathZero, 'subCa', { subject: 'C=CH, O=ikekm, CN=Sub CA', serial: '41', ...CA_VALID }));
  f['underSubCa'] = pki.issue(subCa, 'underSubCa', { subject: 'C=CH, O=ikekm, CN=deep.example', serial: '42', ...VALID });
  f['underPathZero'] = pki.issue(pathZero, 'underPathZero', { subject: 'C=CH, O=ikekm, CN=shallow.example', serial: '43', ...VALID });

  // End-entity usage and extensions.
  f['encipherOnly'] = pki.issue(ecInt, 'encipherOnly', { subject: 'C=CH, O=ikekm, CN=encipher.example', serial: '50', ...VALID, extensions: ['keyUsage=keyEncipherment'] });
  f['codeSigning'] = pki.issue(ecInt, 'codeSigning', { subject: 'C=CH, O=ikekm, CN=code.example', serial: '51', ...VALID, extensions: ['keyUsage=digitalSignature', 'extendedKeyUsage=codeSigning'] });
  f['clientAuth'] = pki.issue(ecInt, 'clientAuth', { subject: 'C=CH, O=ikekm, CN=client.example', serial: '52', ...VALID, extensions: ['keyUsage=nonRepudiation', 'extendedKeyUsage=clientAuth,codeSigning'] });
  f['criticalExt'] = pki.issue(ecInt, 'criticalExt', { subject: 'C=CH, O=ikekm, CN=critical.example', serial: '53', ...VALID, extensions: [...PEER_EXTENSIONS, '1.2.3.4.5=critical,ASN1:UTF8String:x'] });
  const constrained = (f['constrained'] = pki.issueCa(ecRoot, 'constrained', { subject: 'C=CH, O=ikekm, CN=Constrained CA', serial: '54', ...CA_VALID, extensions: [...CA_EXTENSIONS, 'nameConstraints=critical,permitted;DNS:example'] }));
  f['underConstrained'] = pki.issue(constrained, 'underConstrained', { subject: 'C=CH, O=ikekm, CN=constrained.example', serial: '55', ...VALID });

  // Revocation: by the intermediate (an end entity) and by the root (an intermediate).
  f['revoked'] = pki.issue(ecInt, 'revoked', { subject: 'C=CH, O=ikekm, CN=revoked.example', serial: '60', ...VALID });
  pki.revoke(ecInt, f['revoked'], { reason: 'keyCompromise', at: '260504100000Z' });
  const read = (name: string, crl: { der: Buffer }): void => {
    const r = parseCrl(crl.der);
    if (!r.ok) throw new Error(r.error);
    crls[name] = r.value;
  };
  read('ecInt', pki.crl(ecInt, 'ecInt', { lastUpdate: '20260505000000Z', nextUpdate: '20260605000000Z' }));
  read('ecIntStale', pki.crl(ecInt, 'ecIntStale', { lastUpdate: '20260405000000Z', nextUpdate: '20260505000000Z' }));
  const revokedCa = (f['revokedCa'] = pki.issueCa(ecRoot, 'revokedCa', { subject: 'C=CH, O=ikekm, CN=Revoked CA', serial: '61', ...CA_VALID }));
  f['underRevokedCa'] = pki.issue(revokedCa, 'underRevokedCa', { subject: 'C=CH, O=ikekm, CN=orphan.example', serial: '62', ...VALID });
  pki.revoke(ecRoot, revokedCa, { reason: 'cACompromise', at: '260520000000Z' });
  read('ecRoot', pki.crl(ecRoot, 'ecRoot', { lastUpdate: '20260521000000Z', nextUpdate: '20260621000000Z' }));
  read('rsaRoot', pki.crl(rsaRoot, 'rsaRoot', { lastUpdate: '20260501000000Z', nextUpdate: '20260701000000Z' }));
  // A CRL under the intermediate's name, signed by another key, "revoking" sun.
  pki.revoke(impostor, f['sun']!, { reason: 'keyCompromise', at: '260510000000Z' });
  read('impostor', pki.crl(impostor, 'impostor', { lastUpdate: '20260511000000Z', nextUpdate: '20260611000000Z', extensions: [] }));
  // A CA whose keyUsage lacks cRLSign signing a CRL.
  const noCrlSign = (f['noCrlSign'] = pki.issueCa(ecRoot, 'noCrlSign', { subject: 'C=CH, O=ikekm, CN=No CRL Sign CA', serial: '63', ...CA_VALID, extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign'] }));
  f['underNoCrlSign'] = pki.issue(noCrlSign, 'underNoCrlSign', { subject: 'C=CH, O=ikekm, CN=nocrlsign.example', serial: '64', ...VALID });
  pki.revoke(noCrlSign, f['underNoCrlSign'], { reason: 'superseded', at: '260510000000Z' });
  read('noCrlSign', pki.crl(noCrlSign, 'noCrlSign', { lastUpdate: '20260511000000Z', nextUpdate: '20260611000000Z' }));

  // A loop: X and Y cross-certify each other, neither is configured.
  const x = root('x', 'C=CH, O=ikekm, CN=Cross X', 'ec-p256', { serial: '70' });
  const y = root('y', 'C=CH, O=ikekm, CN=Cross Y', 'ec-p256', { serial: '71' });
  f['xByY'] = pki.issueCa(y, 'xByY', { subject: 'C=CH, O=ikekm, CN=Cross X', keyFrom: x, serial: '72', ...CA_VALID });
  f['yByX'] = pki.issueCa(x, 'yByX', { subject: 'C=CH, O=ikekm, CN=Cross Y', keyFrom: y, serial: '73', ...CA_VALID });
  f['underX'] = pki.issue(x, 'underX', { subject: 'C=CH, O=ikekm, CN=crossed.example', serial: '74', ...VALID });
  // Ten CAs in a row under the EC root: a chain of twelve.
  let above: FixtureCa = ecRoot;
  for (let depth = 1; depth <= 10; depth++) above = f[`deep${depth}`] = pki.issueCa(above, `deep${depth}`, { subject: `C=CH, O=ikekm, CN=Level ${depth} CA`, serial: (0x80 + depth).toString(16), ...CA_VALID });
  f['deepest'] = pki.issue(above, 'deepest', { subject: 'C=CH, O=ikekm, CN=deepest.example', serial: '90', ...VALID });
  f['selfSigned'] = root('selfSigned', 'C=CH, O=ikekm, CN=self.example', 'ec-p256', { serial: '75', extensions: PEER_EXTENSIONS.filter((e) => !e.startsWith('authority')) });
}, 120_000);

afterAll(() => pki.remove());

describe('good chains', () => {
  it('RSA root → end entity, with every check line', () => {
    const v = validate('moon', { anchors: ['rsaRoot'], crls: ['rsaRoot'] });
    expect(outcome(v)).toEqual({ chain: ['C=CH, O=ikekm, CN=moon.example', RSA_ROOT] });
    expect(v.checks).toEqual([
      'C=CH, O=ikekm, CN=moon.example: valid 2026-01-01T00:00:00Z .. 2027-01-01T00:00:00Z ✓',
      `C=CH, O=ikekm, CN=moon.example: signature RSASSA-PKCS1-v1_5 SHA-256 by ${RSA_ROOT} (a configured CA) ✓`,
      `${RSA_ROOT}: a CA (basicConstraints cA=TRUE, keyUsage keyCertSign) ✓`,
      'C=CH, O=ikekm, CN=moon.example: keyUsage digitalSignature ✓',
      'C=CH, O=ikekm, CN=moon.example: no extendedKeyUsage extension (any purpose) ✓',
      'C=CH, O=ikekm, CN=moon.example: no critical extension ikekm does not process ✓',
      `C=CH, O=ikekm, CN=moon.example: not revoked (CRL of ${RSA_ROOT}, thisUpdate 2026-05-01T00:00:00Z) ✓`,
      `${RSA_ROOT}: valid 2025-01-01T00:00:00Z .. 2035-01-01T00:00:00Z ✓`,
      `${RSA_ROOT}: no critical extension ikekm does not process ✓`,
      `${RSA_ROOT}: a configured CA, trusted as it is ✓`,
    ]);
  });

  it('ECDSA root → intermediate → end entity, the peer sending the intermediate after junk and the root', () => {
    const v = validate('sun', { intermediates: ['moon', 'ecRoot', 'underOld', 'ecInt'], anchors: ['rsaRoot', 'ecRoot'], crls: ['ecInt', 'ecRoot', 'rsaRoot'] });
    expect(outcome(v)).toEqual({ chain: ['C=CH, O=ikekm, CN=sun.example', EC_INT, EC_ROOT] });
    expect(v.checks).toEqual([
      'C=CH, O=ikekm, CN=sun.example: valid 2026-01-01T00:00:00Z .. 2027-01-01T00:00:00Z ✓',
      `C=CH, O=ikekm, CN=sun.example: signature ECDSA SHA-256 by ${EC_INT} (sent by the peer) ✓`,
      `${EC_INT}: a CA (basicConstraints cA=TRUE, keyUsage keyCertSign) ✓`,
      'C=CH, O=ikekm, CN=sun.example: keyUsage digitalSignature ✓',
      'C=CH, O=ikekm, CN=sun.example: extendedKeyUsage serverAuth, ipsecIKE ✓',
      'C=CH, O=ikekm, CN=sun.example: no critical extension ikekm does not process ✓',
      `C=CH, O=ikekm, CN=sun.example: not revoked (CRL of ${EC_INT}, thisUpdate 2026-05-05T00:00:00Z) ✓`,
      `${EC_INT}: valid 2025-01-01T00:00:00Z .. 2035-01-01T00:00:00Z ✓`,
      // The root was among the peer's certificates too; it is the configured one, byte for byte.
      `${EC_INT}: signature ECDSA SHA-256 by ${EC_ROOT} (a configured CA) ✓`,
      `${EC_ROOT}: a CA (basicConstraints cA=TRUE, keyUsage keyCertSign) ✓`,
      `${EC_INT}: no critical extension ikekm does not process ✓`,
      `${EC_INT}: not revoked (CRL of ${EC_ROOT}, thisUpdate 2026-05-21T00:00:00Z) ✓`,
      `${EC_ROOT}: valid 2025-01-01T00:00:00Z .. 2035-01-01T00:00:00Z ✓`,
      `${EC_ROOT}: no critical extension ikekm does not process ✓`,
      `${EC_ROOT}: a configured CA, trusted as it is ✓`,
    ]);
  });

  it('an intermediate configured as the anchor ends the chain there, sent by the peer or not', () => {
    expect(outcome(validate('sun', { anchors: ['ecInt'] }))).toEqual({ chain: ['C=CH, O=ikekm, CN=sun.example', EC_INT] });
    const v = validate('sun', { intermediates: ['ecInt'], anchors: ['ecInt'] });
    expect(outcome(v)).toEqual({ chain: ['C=CH, O=ikekm, CN=sun.example', EC_INT] });
    expect(v.checks).toContain(`C=CH, O=ikekm, CN=sun.example: no CRL configured for issuer ${EC_INT}, revocation not checked`);
  });

  it('a version 1 root is a CA because it is configured as one (RFC 5280 6.1.4 (k))', () => {
    const v = validate('underV1Root', { anchors: ['v1Root'] });
    expect(outcome(v)).toEqual({ chain: ['C=CH, O=ikekm, CN=v1-root.example', 'C=CH, O=ikekm, CN=V1 Root CA'] });
    expect(v.checks).toContain('C=CH, O=ikekm, CN=V1 Root CA: a version 1 certificate, a CA because it is configured as one ✓');
  });

  it('of two certificates named as the issuer, the one whose key verifies the signature', () => {
    expect(cert('impostor').subjectKeyId).toBeUndefined(); // so its name alone makes it a candidate
    const v = validate('sun', { intermediates: ['impostor', 'ecInt'], anchors: ['ecRoot'] });
    expect(outcome(v)).toEqual({ chain: ['C=CH, O=ikekm, CN=sun.example', EC_INT, EC_ROOT] });
  });

  it('a configured CA wins over a copy of it the peer sent (here an expired edition of the same key)', () => {
    expect(cert('ecIntExpired').subjectKeyId!.equals(cert('ecInt').subjectKeyId!)).toBe(true);
    expect(outcome(validate('sun', { intermediates: ['ecIntExpired'], anchors: ['ecInt'] }))).toEqual({ chain: ['C=CH, O=ikekm, CN=sun.example', EC_INT] });
    // Without the configured edition, the peer's copy is the issuer, and it is expired.
    expect(outcome(validate('sun', { intermediates: ['ecIntExpired'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'expired',
      message: `${named('ecIntExpired', EC_ROOT)}: expired at 2025-01-01T00:00:00Z (now 2026-06-01T12:00:00Z)`,
    });
  });

  it('clientAuth with nonRepudiation is enough for IKE (RFC 4945 5.1.3.2, 5.1.3.12)', () => {
    expect(outcome(validate('clientAuth', { intermediates: ['ecInt'], anchors: ['ecRoot'] }))).toEqual({ chain: ['C=CH, O=ikekm, CN=client.example', EC_INT, EC_ROOT] });
  });

  it('pathLenConstraint 0 allows an end entity right below the CA', () => {
    const v = validate('underPathZero', { intermediates: ['pathZero'], anchors: ['ecRoot'] });
    expect(v.ok).toBe(true);
    expect(v.checks).toContain('C=CH, O=ikekm, CN=Path Length 0 CA: pathLenConstraint 0, 0 CAs below it ✓');
  });

  it('validity is inclusive at both ends (RFC 5280 4.1.2.5)', () => {
    expect(validate('sun', { intermediates: ['ecInt'], anchors: ['ecRoot'], at: VALID.notBefore }).ok).toBe(true);
    expect(validate('sun', { intermediates: ['ecInt'], anchors: ['ecRoot'], at: VALID.notAfter }).ok).toBe(true);
  });
});

describe('one refusal per rule, with its exact message', () => {
  it('not-yet-valid', () => {
    expect(outcome(validate('future', { intermediates: ['ecInt'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'not-yet-valid',
      message: `${named('future', EC_INT)}: not valid before 2027-01-01T00:00:00Z (now ${isoOf(NOW)})`,
    });
  });

  it('expired: an end entity, and an anchor', () => {
    expect(outcome(validate('expired', { intermediates: ['ecInt'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'expired',
      message: `${named('expired', EC_INT)}: expired at 2026-01-01T00:00:00Z (now 2026-06-01T12:00:00Z)`,
    });
    expect(outcome(validate('underOld', { anchors: ['oldRoot'] }))).toEqual({
      rule: 'expired',
      message: `${named('oldRoot', 'C=CH, O=ikekm, CN=Old Root CA')}: expired at 2026-03-01T00:00:00Z (now 2026-06-01T12:00:00Z)`,
    });
  });

  it('issuer-unknown: the wrong CA configured, a missing intermediate, no CA at all', () => {
    expect(outcome(validate('sun', { intermediates: ['moon'], anchors: ['rsaRoot'] }))).toEqual({
      rule: 'issuer-unknown',
      message: `${named('sun', EC_INT)}: issued by "${EC_INT}" which is neither among the peer's certificates nor a configured CA (configured: "${RSA_ROOT}")`,
    });
    expect(outcome(validate('sun', { anchors: ['rsaRoot', 'ecRoot'] }))).toEqual({
      rule: 'issuer-unknown',
      message: `${named('sun', EC_INT)}: issued by "${EC_INT}" which is neither among the peer's certificates nor a configured CA (configured: "${RSA_ROOT}", "${EC_ROOT}")`,
    });
    expect(outcome(validate('sun', { intermediates: ['ecInt'], anchors: [] }))).toEqual({
      rule: 'issuer-unknown',
      message: `${named('ecInt', EC_ROOT)}: issued by "${EC_ROOT}" which is neither among the peer's certificates nor a configured CA (no CA configured)`,
    });
  });

  it('a refusal carries the path as far as it was built: the refused certificate last, or the issuer refused for what it issued after it', () => {
    const subjects = (v: ChainVerdict): string[] => v.chain.map((c) => c.subject.text);
    const missingRoot = validate('sun', { intermediates: ['ecInt'], anchors: [] });
    expect(missingRoot.ok ? [] : [subjects(missingRoot), missingRoot.certificate.subject.text]).toEqual([['C=CH, O=ikekm, CN=sun.example', EC_INT], EC_INT]);
    const notCa = validate('underNotCa', { intermediates: ['notCa'], anchors: ['ecRoot'] });
    expect(notCa.ok ? [] : [subjects(notCa), notCa.certificate.der.equals(cert('notCa').der)]).toEqual([['C=CH, O=ikekm, CN=victim.example'], true]);
  });

  it('issuer-unknown: a certificate of the issuer name with another key identifier, a self-signed peer, a loop', () => {
    const aki = [...cert('sun').authorityKeyId!].map((o) => o.toString(16).padStart(2, '0')).join(':');
    expect(outcome(validate('sun', { anchors: ['impostorWithKeyId'] }))).toEqual({
      rule: 'issuer-unknown',
      message: `${named('sun', EC_INT)}: issued by "${EC_INT}" with authorityKeyIdentifier ${aki}, but the certificates of that name have other key identifiers (configured: "${EC_INT}")`,
    });
    expect(outcome(validate('selfSigned', { anchors: ['ecRoot'] }))).toEqual({
      rule: 'issuer-unknown',
      message: `${named('selfSigned', 'C=CH, O=ikekm, CN=self.example')}: is self-signed and not a configured CA (configured: "${EC_ROOT}")`,
    });
    const loop = validate('underX', { intermediates: ['xByY', 'yByX'], anchors: ['ecRoot'] });
    expect(outcome(loop)).toEqual({
      rule: 'issuer-unknown',
      message: `${named('yByX', 'C=CH, O=ikekm, CN=Cross X')}: issued by "C=CH, O=ikekm, CN=Cross X", which leads back into its own chain without reaching a configured CA (configured: "${EC_ROOT}")`,
    });
  });

  it('signature: a certificate altered after signing, and an issuer of the right name with another key', () => {
    expect(outcome(validate('tampered', { intermediates: ['ecInt'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'signature',
      message: `${named('sun', EC_INT)}: its signature (ECDSA SHA-256) does not verify with the key of "${EC_INT}"`,
    });
    expect(outcome(validate('sun', { anchors: ['impostor'] }))).toEqual({
      rule: 'signature',
      message: `${named('sun', EC_INT)}: its signature (ECDSA SHA-256) does not verify with the key of "${EC_INT}"`,
    });
  });

  it('unsupported-algorithm: an Ed448 signature, an Ed448 end-entity key', () => {
    expect(outcome(validate('underEd448', { anchors: ['ed448Ca'] }))).toEqual({
      rule: 'unsupported-algorithm',
      message: `${named('underEd448', 'C=CH, O=ikekm, CN=Ed448 CA')}: its signature cannot be checked: signature algorithm 1.3.101.113 is not supported (RSA PKCS#1 v1.5, RSASSA-PSS, ECDSA and Ed25519 are)`,
    });
    expect(outcome(validate('ed448Key', { intermediates: ['ecInt'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'unsupported-algorithm',
      message: `${named('ed448Key', EC_INT)}: its key (unsupported key 1.3.101.113) is not one ikekm checks IKE signatures with`,
    });
  });

  it('not-a-ca: cA=FALSE, no basicConstraints, keyUsage without keyCertSign, a version 1 intermediate', () => {
    expect(outcome(validate('underNotCa', { intermediates: ['notCa'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'not-a-ca',
      message: `${named('notCa', EC_ROOT)}: is not a CA (basicConstraints cA=FALSE, RFC 5280 4.2.1.9) but issued "C=CH, O=ikekm, CN=victim.example"`,
    });
    expect(outcome(validate('underNoBc', { intermediates: ['noBc'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'not-a-ca',
      message: `${named('noBc', EC_ROOT)}: is not a CA (no basicConstraints extension, RFC 5280 4.2.1.9) but issued "C=CH, O=ikekm, CN=victim2.example"`,
    });
    expect(outcome(validate('underNoCertSign', { intermediates: ['noCertSign'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'not-a-ca',
      message: `${named('noCertSign', EC_ROOT)}: keyUsage digitalSignature, cRLSign lacks keyCertSign, which a CA needs to issue "C=CH, O=ikekm, CN=victim3.example" (RFC 5280 4.2.1.3)`,
    });
    expect(outcome(validate('underV1Int', { intermediates: ['v1Int'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'not-a-ca',
      message: `${named('v1Int', EC_ROOT)}: is a version 1 certificate, which is a CA only when configured as one (RFC 5280 6.1.4 (k)), but issued "C=CH, O=ikekm, CN=v1-int.example"`,
    });
  });

  it('path-length', () => {
    expect(outcome(validate('underSubCa', { intermediates: ['subCa', 'pathZero'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'path-length',
      message: `${named('pathZero', EC_ROOT)}: pathLenConstraint 0 allows no CA below it, but "C=CH, O=ikekm, CN=Sub CA" is one`,
    });
  });

  it('path-length: a chain longer than ikekm follows', () => {
    const levels = Array.from({ length: 10 }, (_, i) => `deep${i + 1}`);
    const v = validate('deepest', { intermediates: levels, anchors: ['ecRoot'] });
    expect(outcome(v)).toEqual({ rule: 'path-length', message: `${named('deepest', 'C=CH, O=ikekm, CN=Level 10 CA')}: its chain is longer than 10 certificates, which ikekm does not follow` });
    expect(validate('deepest', { intermediates: levels.slice(2), anchors: ['deep2'] }).ok).toBe(true);
  });

  it('key-usage', () => {
    expect(outcome(validate('encipherOnly', { intermediates: ['ecInt'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'key-usage',
      message: `${named('encipherOnly', EC_INT)}: keyUsage keyEncipherment lacks digitalSignature, which IKE signatures need`,
    });
  });

  it('extended-key-usage', () => {
    expect(outcome(validate('codeSigning', { intermediates: ['ecInt'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'extended-key-usage',
      message: `${named('codeSigning', EC_INT)}: extendedKeyUsage codeSigning has none of ipsecIKE, serverAuth, clientAuth, anyExtendedKeyUsage, which IKE needs (RFC 4945 5.1.3.12)`,
    });
  });

  it('critical-extension: an unknown one on the end entity, nameConstraints on a CA', () => {
    expect(outcome(validate('criticalExt', { intermediates: ['ecInt'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'critical-extension',
      message: `${named('criticalExt', EC_INT)}: has critical extension 1.2.3.4.5 that ikekm does not process (RFC 5280 4.2)`,
    });
    expect(outcome(validate('underConstrained', { intermediates: ['constrained'], anchors: ['ecRoot'] }))).toEqual({
      rule: 'critical-extension',
      message: `${named('constrained', EC_ROOT)}: has critical extension nameConstraints (2.5.29.30) that ikekm does not process (RFC 5280 4.2)`,
    });
  });

  it('revoked: an end entity by its CA, an intermediate by the root', () => {
    expect(outcome(validate('revoked', { intermediates: ['ecInt'], anchors: ['ecRoot'], crls: ['ecRoot', 'ecInt'] }))).toEqual({
      rule: 'revoked',
      message: `${named('revoked', EC_INT)}: revoked at 2026-05-04T10:00:00Z (keyCompromise) by the CRL of "${EC_INT}" (thisUpdate 2026-05-05T00:00:00Z)`,
    });
    expect(outcome(validate('underRevokedCa', { intermediates: ['revokedCa'], anchors: ['ecRoot'], crls: ['ecRoot'] }))).toEqual({
      rule: 'revoked',
      message: `${named('revokedCa', EC_ROOT)}: revoked at 2026-05-20T00:00:00Z (cACompromise) by the CRL of "${EC_ROOT}" (thisUpdate 2026-05-21T00:00:00Z)`,
    });
  });
});

describe('CRLs', () => {
  it('a stale CRL still revokes, and says it is stale', () => {
    expect(outcome(validate('revoked', { intermediates: ['ecInt'], anchors: ['ecRoot'], crls: ['ecInt'], at: '20260701000000Z' }))).toEqual({
      rule: 'revoked',
      message: `${named('revoked', EC_INT)}: revoked at 2026-05-04T10:00:00Z (keyCompromise) by the CRL of "${EC_INT}" (thisUpdate 2026-05-05T00:00:00Z, stale: nextUpdate 2026-06-05T00:00:00Z has passed)`,
    });
    const v = validate('sun', { intermediates: ['ecInt'], anchors: ['ecRoot'], crls: ['ecIntStale'] });
    expect(v.ok).toBe(true);
    expect(v.checks).toContain(`C=CH, O=ikekm, CN=sun.example: not revoked (CRL of ${EC_INT}, thisUpdate 2026-04-05T00:00:00Z, stale: nextUpdate 2026-05-05T00:00:00Z has passed) ✓`);
  });

  it('an older CRL without the entry does not undo a newer one that has it', () => {
    expect(validate('revoked', { intermediates: ['ecInt'], anchors: ['ecRoot'], crls: ['ecIntStale', 'ecInt'] }).ok).toBe(false);
  });

  it('a CRL under the issuer name but signed by another key is skipped, and says why', () => {
    const v = validate('sun', { intermediates: ['ecInt'], anchors: ['ecRoot'], crls: ['impostor'] });
    expect(v.ok).toBe(true);
    expect(v.checks).toContain(
      `C=CH, O=ikekm, CN=sun.example: CRL of ${EC_INT} (thisUpdate 2026-05-11T00:00:00Z) skipped: its signature (ECDSA SHA-256) does not verify with the key of "${EC_INT}"`,
    );
    expect(v.checks).toContain(`C=CH, O=ikekm, CN=sun.example: no usable CRL of ${EC_INT}, revocation not checked`);
  });

  it("a CRL of another CA is no CRL for the certificate's issuer", () => {
    const v = validate('sun', { intermediates: ['ecInt'], anchors: ['ecRoot'], crls: ['rsaRoot'] });
    expect(v.ok).toBe(true);
    expect(v.checks).toContain(`C=CH, O=ikekm, CN=sun.example: no CRL configured for issuer ${EC_INT}, revocation not checked`);
  });

  it("a CRL signed by a CA whose keyUsage lacks cRLSign is skipped (RFC 5280 4.2.1.3)", () => {
    const v = validate('underNoCrlSign', { intermediates: ['noCrlSign'], anchors: ['ecRoot'], crls: ['noCrlSign'] });
    expect(v.ok).toBe(true);
    expect(v.checks).toContain(
      'C=CH, O=ikekm, CN=nocrlsign.example: CRL of C=CH, O=ikekm, CN=No CRL Sign CA (thisUpdate 2026-05-11T00:00:00Z) skipped: the keyUsage of "C=CH, O=ikekm, CN=No CRL Sign CA" (keyCertSign) lacks cRLSign',
    );
  });

  it('the failing line ends the checks', () => {
    const v = validate('revoked', { intermediates: ['ecInt'], anchors: ['ecRoot'], crls: ['ecInt'] });
    expect(v.ok).toBe(false);
    expect(v.checks.at(-1)).toBe(`${!v.ok && v.message} ✗`);
  });
});
