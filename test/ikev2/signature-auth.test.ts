/**
 * Signature AUTH payloads (RFC 7296 3.8, RFC 4754 7, RFC 7427 3): the AlgorithmIdentifiers against
 * RFC 7427 Appendix A, the choice of method and scheme from what the peer announced (RFC 7427 4),
 * and signatures made by OpenSSL's command line checked here.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseSignature, ecdsaDerToFixed, ecdsaFixedToDer, signatureAuthData, verifySignatureAuth } from '../../src/ikev2/signature-auth.js';
import { decodeAlgorithmIdentifier, encodeAlgorithmIdentifier, signData } from '../../src/pki/signature-algorithm.js';
import { AuthMethod, HashAlgorithm } from '../../src/wire/index.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed = generateKeyPairSync('ed25519');
const octets = Buffer.from('RealMessage1 | NonceRData | prf(SK_pi, RestOfInitIDPayload), standing in');
const SHA2 = [HashAlgorithm.SHA2_256, HashAlgorithm.SHA2_384, HashAlgorithm.SHA2_512];
const prefs = { rsaPadding: 'pkcs1', digitalSignature: true } as const;

const hex = (b: Buffer) => b.toString('hex');

describe('AlgorithmIdentifiers (RFC 7427 Appendix A)', () => {
  // A.1: PKCS#1 v1.5 with NULL parameters; A.3: ECDSA without parameters.
  const vectors = [
    [{ kind: 'rsa-pkcs1', hash: 'sha1' }, '300d06092a864886f70d0101050500'],
    [{ kind: 'rsa-pkcs1', hash: 'sha256' }, '300d06092a864886f70d01010b0500'],
    [{ kind: 'rsa-pkcs1', hash: 'sha384' }, '300d06092a864886f70d01010c0500'],
    [{ kind: 'rsa-pkcs1', hash: 'sha512' }, '300d06092a864886f70d01010d0500'],
    [{ kind: 'ecdsa', hash: 'sha256' }, '300a06082a8648ce3d040302'],
    [{ kind: 'ecdsa', hash: 'sha384' }, '300a06082a8648ce3d040303'],
    [{ kind: 'ecdsa', hash: 'sha512' }, '300a06082a8648ce3d040304'],
  ] as const;
  for (const [scheme, der] of vectors) {
    it(`${scheme.kind} ${scheme.hash}: ${der}`, () => {
      expect(hex(encodeAlgorithmIdentifier(scheme))).toBe(der);
      expect(decodeAlgorithmIdentifier(Buffer.from(der, 'hex'))).toEqual({ ok: true, value: scheme });
    });
  }

  it('RSASSA-PSS: the parameters OpenSSL writes into a PSS-signed certificate (RFC 4055 3.1)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-pss-'));
    try {
      execFileSync('openssl', ['req', '-new', '-x509', '-nodes', '-newkey', 'rsa:2048', '-subj', '/CN=pss', '-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '1'], { stdio: 'ignore' });
      const der = execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-outform', 'DER']);
      const ours = encodeAlgorithmIdentifier({ kind: 'rsa-pss', hash: 'sha256', saltLength: 32 });
      // The certificate's outer signatureAlgorithm is the AlgorithmIdentifier right before the signature BIT STRING.
      const at = der.lastIndexOf(ours);
      expect(at).toBeGreaterThan(0);
      expect(der[at + ours.length]).toBe(0x03);
      expect(decodeAlgorithmIdentifier(ours)).toEqual({ ok: true, value: { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads RSASSA-PSS with absent parameters as its defaults, and refuses unknown algorithms', () => {
    expect(decodeAlgorithmIdentifier(Buffer.from('300d06092a864886f70d01010a3000', 'hex'))).toEqual({ ok: true, value: { kind: 'rsa-pss', hash: 'sha1', saltLength: 20 } });
    // dsa-with-sha256 (2.16.840.1.101.3.4.3.2), RFC 7427 A.2: DSA is not supported.
    const dsa = decodeAlgorithmIdentifier(Buffer.from('300b0609608648016503040302', 'hex'));
    expect(dsa.ok).toBe(false);
    expect(!dsa.ok && dsa.error).toMatch(/2\.16\.840\.1\.101\.3\.4\.3\.2 is not supported/);
  });
});

describe('choosing the method and scheme (RFC 7427 4)', () => {
  it('RSA: Digital Signature with the first SHA-2 hash the peer announced; PKCS#1 v1.5 SHA-1 (method 1) when it announced none', () => {
    expect(chooseSignature(rsa.publicKey, [...SHA2, HashAlgorithm.IDENTITY], prefs)).toEqual({ ok: true, value: { method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'rsa-pkcs1', hash: 'sha256' } } });
    expect(chooseSignature(rsa.publicKey, [HashAlgorithm.SHA2_512], prefs)).toEqual({ ok: true, value: { method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'rsa-pkcs1', hash: 'sha512' } } });
    expect(chooseSignature(rsa.publicKey, undefined, prefs)).toEqual({ ok: true, value: { method: AuthMethod.RSA_DIGITAL_SIGNATURE, scheme: { kind: 'rsa-pkcs1', hash: 'sha1' } } });
    // SHA-1 alone announced is not used for Digital Signature.
    expect(chooseSignature(rsa.publicKey, [HashAlgorithm.SHA1], prefs)).toEqual({ ok: true, value: { method: AuthMethod.RSA_DIGITAL_SIGNATURE, scheme: { kind: 'rsa-pkcs1', hash: 'sha1' } } });
  });

  it('RSA with PSS preferred: salt as long as the hash; the older methods only when the policy says so', () => {
    expect(chooseSignature(rsa.publicKey, SHA2, { ...prefs, rsaPadding: 'pss' })).toEqual({ ok: true, value: { method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'rsa-pss', hash: 'sha256', saltLength: 32 } } });
    expect(chooseSignature(rsa.publicKey, SHA2, { ...prefs, digitalSignature: false })).toEqual({ ok: true, value: { method: AuthMethod.RSA_DIGITAL_SIGNATURE, scheme: { kind: 'rsa-pkcs1', hash: 'sha1' } } });
  });

  it("ECDSA: the curve's own hash when announced, another SHA-2 otherwise, else RFC 4754's method for the curve", () => {
    expect(chooseSignature(p256.publicKey, SHA2, prefs)).toEqual({ ok: true, value: { method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'ecdsa', hash: 'sha256' } } });
    expect(chooseSignature(p384.publicKey, SHA2, prefs)).toEqual({ ok: true, value: { method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'ecdsa', hash: 'sha384' } } });
    expect(chooseSignature(p256.publicKey, [HashAlgorithm.SHA2_512], prefs)).toEqual({ ok: true, value: { method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'ecdsa', hash: 'sha512' } } });
    expect(chooseSignature(p256.publicKey, undefined, prefs)).toEqual({ ok: true, value: { method: AuthMethod.ECDSA_SHA256_P256, scheme: { kind: 'ecdsa', hash: 'sha256' } } });
    expect(chooseSignature(p384.publicKey, [], prefs)).toEqual({ ok: true, value: { method: AuthMethod.ECDSA_SHA384_P384, scheme: { kind: 'ecdsa', hash: 'sha384' } } });
  });

  it('Ed25519 needs the Identity hash (RFC 8420)', () => {
    expect(chooseSignature(ed.publicKey, [HashAlgorithm.IDENTITY], prefs)).toEqual({ ok: true, value: { method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'ed25519' } } });
    expect(chooseSignature(ed.publicKey, SHA2, prefs)).toEqual({ ok: false, error: 'an Ed25519 key needs the peer to announce the Identity hash (RFC 8420), and it did not' });
  });
});

describe('AUTH data made and checked', () => {
  const cases: Array<[string, KeyObject, KeyObject, readonly number[] | undefined, number]> = [
    ['RSA, method 14', rsa.privateKey, rsa.publicKey, SHA2, AuthMethod.DIGITAL_SIGNATURE],
    ['RSA, method 1', rsa.privateKey, rsa.publicKey, undefined, AuthMethod.RSA_DIGITAL_SIGNATURE],
    ['ECDSA P-256, method 14', p256.privateKey, p256.publicKey, SHA2, AuthMethod.DIGITAL_SIGNATURE],
    ['ECDSA P-256, method 9', p256.privateKey, p256.publicKey, undefined, AuthMethod.ECDSA_SHA256_P256],
    ['ECDSA P-384, method 10', p384.privateKey, p384.publicKey, undefined, AuthMethod.ECDSA_SHA384_P384],
    ['Ed25519, method 14', ed.privateKey, ed.publicKey, [HashAlgorithm.IDENTITY], AuthMethod.DIGITAL_SIGNATURE],
  ];
  for (const [name, privateKey, publicKey, hashes, method] of cases) {
    it(`${name}: verifies, and a flipped octet or another key does not`, () => {
      const choice = chooseSignature(publicKey, hashes, prefs);
      if (!choice.ok) throw new Error(choice.error);
      expect(choice.value.method).toBe(method);
      const data = signatureAuthData(choice.value, signData(choice.value.scheme, privateKey, octets));
      if (!data.ok) throw new Error(data.error);
      expect(verifySignatureAuth({ method, data: data.value }, publicKey, octets)).toEqual({ ok: true, value: choice.value.scheme });
      const flipped = Buffer.from(data.value);
      flipped[flipped.length - 3]! ^= 0x01;
      const bad = verifySignatureAuth({ method, data: flipped }, publicKey, octets);
      expect(bad.ok).toBe(false);
      expect(verifySignatureAuth({ method, data: data.value }, publicKey, Buffer.concat([octets, Buffer.from([0])])).ok).toBe(false);
      const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
      expect(verifySignatureAuth({ method, data: data.value }, other, octets).ok).toBe(false);
    });
  }

  it('method 14 starts with the length of the AlgorithmIdentifier, then the identifier (RFC 7427 3)', () => {
    const data = signatureAuthData({ method: AuthMethod.DIGITAL_SIGNATURE, scheme: { kind: 'ecdsa', hash: 'sha256' } }, Buffer.from('3006020101020101', 'hex'));
    expect(data.ok && hex(data.value)).toBe('0c' + '300a06082a8648ce3d040302' + '3006020101020101');
  });

  it('checks signatures OpenSSL made: RSA PKCS#1 SHA-256 (method 14) and ECDSA P-256 (method 14 as DER, method 9 as r | s)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ikekm-sig-'));
    try {
      writeFileSync(join(dir, 'octets'), octets);
      writeFileSync(join(dir, 'rsa.pem'), rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      writeFileSync(join(dir, 'ec.pem'), p256.privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const rsaSig = execFileSync('openssl', ['dgst', '-sha256', '-sign', join(dir, 'rsa.pem'), join(dir, 'octets')]);
      const ecSig = execFileSync('openssl', ['dgst', '-sha256', '-sign', join(dir, 'ec.pem'), join(dir, 'octets')]);
      const withId = (id: string, sig: Buffer) => Buffer.concat([Buffer.from([id.length / 2]), Buffer.from(id, 'hex'), sig]);
      expect(verifySignatureAuth({ method: 14, data: withId('300d06092a864886f70d01010b0500', rsaSig) }, rsa.publicKey, octets).ok).toBe(true);
      expect(verifySignatureAuth({ method: 14, data: withId('300a06082a8648ce3d040302', ecSig) }, p256.publicKey, octets).ok).toBe(true);
      const fixed = ecdsaDerToFixed(ecSig, 32);
      if (!fixed.ok) throw new Error(fixed.error);
      expect(verifySignatureAuth({ method: AuthMethod.ECDSA_SHA256_P256, data: fixed.value }, p256.publicKey, octets).ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("r | s (RFC 4754 7) and DER convert both ways, as node:crypto's ieee-p1363 encoding has them", () => {
    for (let i = 0; i < 50; i++) {
      const raw = nodeSign('sha256', octets, { key: p256.privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaFixedToDer(raw, 32);
      if (!der.ok) throw new Error(der.error);
      expect(ecdsaDerToFixed(der.value, 32)).toEqual({ ok: true, value: raw });
      expect(verifySignatureAuth({ method: AuthMethod.ECDSA_SHA256_P256, data: raw }, p256.publicKey, octets).ok).toBe(true);
    }
  });

  it('says why it refuses', () => {
    expect(verifySignatureAuth({ method: AuthMethod.ECDSA_SHA384_P384, data: Buffer.alloc(96) }, p256.publicKey, octets)).toEqual({ ok: false, error: 'AUTH method ECDSA_SHA384_P384 needs a P-384 key, the certificate\'s key is ECDSA P-256' });
    expect(verifySignatureAuth({ method: AuthMethod.RSA_DIGITAL_SIGNATURE, data: Buffer.alloc(256) }, p256.publicKey, octets)).toEqual({ ok: false, error: "the peer signed with RSASSA-PKCS1-v1_5 SHA-1, which does not fit the certificate's ECDSA P-256 key" });
    const sha1 = Buffer.concat([Buffer.from([15]), Buffer.from('300d06092a864886f70d0101050500', 'hex'), Buffer.alloc(256)]);
    expect(verifySignatureAuth({ method: AuthMethod.DIGITAL_SIGNATURE, data: sha1 }, rsa.publicKey, octets)).toEqual({
      ok: false,
      error: 'the peer signed with RSASSA-PKCS1-v1_5 SHA-1, but SHA-1 is not among the hashes we announced (SHA-256, SHA-384, SHA-512)',
    });
    expect(verifySignatureAuth({ method: AuthMethod.DIGITAL_SIGNATURE, data: Buffer.from([40, 1, 2]) }, rsa.publicKey, octets).ok).toBe(false);
    expect(verifySignatureAuth({ method: AuthMethod.DSS_DIGITAL_SIGNATURE, data: Buffer.alloc(40) }, rsa.publicKey, octets)).toEqual({ ok: false, error: 'AUTH method DSS_DIGITAL_SIGNATURE is not a signature method' });
  });
});

