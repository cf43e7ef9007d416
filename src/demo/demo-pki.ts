/**
 * The throwaway PKI of `ikekm demo --auth pubkey`: a CA made for one run and one certificate per
 * daemon, issued by ikekm's own builder (src/pki/certificate-builder.ts, what `ikekm pki ca
 * create` and `ikekm pki issue` use) and written into the demo's temporary directory, which the
 * demo removes on exit: the CA's key never leaves the process, the daemons' keys live as long as
 * the run.
 *
 * - ECDSA P-256 keys throughout: generated in microseconds (an RSA-3072 CA key takes a second),
 *   and what RFC 7427 digital signatures and strongSwan's `pubkey` handle by default.
 * - Each certificate names its daemon's IKE ID, `ikekm-a.demo.invalid`, as a dNSName: peers
 *   match an FQDN ID against the subjectAltName, never the CN (RFC 4945 3.2.3, 5.1.3.6). The
 *   `.invalid` TLD can never resolve (RFC 6761 6.4).
 * - notBefore lies five minutes back, as `ikekm pki` writes it, for a peer whose clock is behind.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCertificate, generateKeyPair, toPem } from '../pki/certificate-builder.js';
import { demoIdentity, type DemoCredentials, type DemoSideName } from './demo-config.js';

export const DEMO_CA_SUBJECT = 'C=CH, O=ikekm demo, CN=ikekm demo CA';
const KEY_TYPE = 'ecdsa-p256';
const CLOCK_SKEW_MS = 5 * 60_000;
const VALIDITY_MS = 30 * 86_400_000;

export interface DemoPki {
  readonly caSubject: string;
  /** `ECDSA P-256`: what the demo says it issued. */
  readonly keyDescription: string;
  readonly sides: Readonly<Record<DemoSideName, DemoCredentials>>;
}

/**
 * Issues the CA and both certificates and writes them into `dir` (a fresh temporary directory):
 * ca-cert.pem, and ikekm-a-cert.pem / ikekm-a-key.pem and the same for ikekm-b. Keys are 0600,
 * as check-config demands of a key file; files are created new ('wx'), never through a link.
 */
export function writeDemoPki(dir: string, nowMs = Date.now()): DemoPki {
  const ca = generateKeyPair(KEY_TYPE);
  const notBeforeMs = nowMs - CLOCK_SKEW_MS;
  const notAfterMs = nowMs + VALIDITY_MS;
  const caDer = buildCertificate({ subject: DEMO_CA_SUBJECT, publicKey: ca.publicKey, issuer: { selfSignedWith: ca.privateKey }, notBeforeMs, notAfterMs, ca: { pathLen: 0 } });
  const caCert = join(dir, 'ca-cert.pem');
  writeFileSync(caCert, toPem('CERTIFICATE', caDer), { mode: 0o644, flag: 'wx' });

  const side = (name: DemoSideName): DemoCredentials => {
    const pair = generateKeyPair(KEY_TYPE);
    const der = buildCertificate({
      subject: `C=CH, O=ikekm demo, CN=${demoIdentity(name)}`,
      publicKey: pair.publicKey,
      issuer: { subject: DEMO_CA_SUBJECT, privateKey: ca.privateKey },
      notBeforeMs,
      notAfterMs,
      subjectAltNames: [demoIdentity(name)],
    });
    const cert = join(dir, `${name}-cert.pem`);
    const key = join(dir, `${name}-key.pem`);
    writeFileSync(key, toPem('PRIVATE KEY', pair.privateKey.export({ type: 'pkcs8', format: 'der' })), { mode: 0o600, flag: 'wx' });
    writeFileSync(cert, toPem('CERTIFICATE', der), { mode: 0o644, flag: 'wx' });
    return { caCert, cert, key };
  };
  return { caSubject: DEMO_CA_SUBJECT, keyDescription: 'ECDSA P-256', sides: { 'ikekm-a': side('ikekm-a'), 'ikekm-b': side('ikekm-b') } };
}
