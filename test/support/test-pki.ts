/**
 * Certificates for tests that need a working PKI rather than a judged one (the engine, the
 * daemon, strongSwan): a CA, gateways, intermediates and CRLs issued in process by ikekm's own
 * builder. The builder itself is judged by OpenSSL in test/pki/.
 */
import type { KeyObject } from 'node:crypto';
import { buildCertificate, generateKeyPair, toPem, type KeyAlgorithm } from '../../src/pki/certificate-builder.js';
import { buildCrl, type RevocationReason } from '../../src/pki/crl-builder.js';

const DAY_MS = 86_400_000;

export interface TestCa {
  readonly subject: string;
  readonly der: Buffer;
  readonly pem: string;
  readonly privateKey: KeyObject;
  readonly keyPem: string;
}

export interface TestCertificate {
  readonly subject: string;
  readonly der: Buffer;
  readonly pem: string;
  readonly serial: Buffer;
  readonly privateKey: KeyObject;
  readonly keyPem: string;
}

let serialCounter = 1;
const nextSerial = (): Buffer => Buffer.from([0x10, serialCounter++ & 0xff, (serialCounter >> 8) & 0xff]);

const keyPemOf = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

export function testCa(subject: string, options: { readonly key?: KeyAlgorithm; readonly nowMs?: number; readonly issuer?: TestCa; readonly pathLen?: number } = {}): TestCa {
  const now = options.nowMs ?? Date.now();
  const keys = generateKeyPair(options.key ?? 'ecdsa-p256');
  const der = buildCertificate({
    subject,
    publicKey: keys.publicKey,
    issuer: options.issuer === undefined ? { selfSignedWith: keys.privateKey } : { subject: options.issuer.subject, privateKey: options.issuer.privateKey },
    serial: nextSerial(),
    notBeforeMs: now - DAY_MS,
    notAfterMs: now + 3650 * DAY_MS,
    ca: options.pathLen === undefined ? {} : { pathLen: options.pathLen },
  });
  return { subject, der, pem: toPem('CERTIFICATE', der), privateKey: keys.privateKey, keyPem: keyPemOf(keys.privateKey) };
}

export function testCertificate(
  ca: TestCa,
  subject: string,
  options: { readonly key?: KeyAlgorithm; readonly san?: readonly string[]; readonly nowMs?: number; readonly notAfterMs?: number; readonly keyUsage?: readonly string[] } = {},
): TestCertificate {
  const now = options.nowMs ?? Date.now();
  const keys = generateKeyPair(options.key ?? 'ecdsa-p256');
  const serial = nextSerial();
  const der = buildCertificate({
    subject,
    publicKey: keys.publicKey,
    issuer: { subject: ca.subject, privateKey: ca.privateKey },
    serial,
    notBeforeMs: now - DAY_MS,
    notAfterMs: options.notAfterMs ?? now + 365 * DAY_MS,
    subjectAltNames: options.san ?? [],
    ...(options.keyUsage === undefined ? {} : { keyUsage: options.keyUsage }),
  });
  return { subject, der, pem: toPem('CERTIFICATE', der), serial, privateKey: keys.privateKey, keyPem: keyPemOf(keys.privateKey) };
}

export function testCrl(ca: TestCa, revoked: readonly { readonly certificate: TestCertificate; readonly reason?: RevocationReason }[], nowMs = Date.now()): { der: Buffer; pem: string } {
  const der = buildCrl({
    issuer: { subject: ca.subject, privateKey: ca.privateKey },
    thisUpdateMs: nowMs - 3_600_000,
    nextUpdateMs: nowMs + 7 * DAY_MS,
    crlNumber: 1n,
    revoked: revoked.map((r) => ({ serial: r.certificate.serial, atMs: nowMs - 60_000, ...(r.reason === undefined ? {} : { reason: r.reason }) })),
  });
  return { der, pem: toPem('X509 CRL', der) };
}
