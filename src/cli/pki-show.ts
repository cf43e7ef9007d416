/**
 * `ikekm pki show FILE`: what a file of the PKI holds, item by item, read by the same parsers
 * the daemon reads its configured files and a peer's CERT payloads with. It answers "is this the
 * file I think it is" before a configuration names it: a certificate (or a PEM bundle of them),
 * a CRL, a private key, or a PKCS#12 file.
 *
 * A private key is described by its type and form only; no octet of it is ever printed. An
 * encrypted key is decrypted only when a passphrase file is given (its type is inside the
 * encryption, RFC 5958 3), and a PKCS#12 file without one is opened with the empty passphrase,
 * as `ikekm pki import` does.
 */
import type { KeyObject } from 'node:crypto';
import { describeCertificate, parseCertificate, type Certificate } from '../pki/certificate.js';
import { describeCrl, parseCrl, type Crl } from '../pki/crl.js';
import { looksLikePem, pemBlocks } from '../pki/pem-blocks.js';
import { looksLikePkcs12, readPkcs12 } from '../pki/pkcs12.js';
import { describePrivateKeyFile, keyMatchesPublicKey, privateKeyDescription, privateKeyFileProblem, type PrivateKeyFileDescription } from '../pki/private-key.js';
import { CRL_FILE_MAX_BYTES, Failure, parse, readInput, readPassphrase, type PkiOutput } from './pki-cli-common.js';

export const SHOW_USAGE = `usage: ikekm pki show FILE [--passphrase-file F]

What FILE holds, item by item, PEM or DER:
  a certificate, or a PEM bundle of them: subject, issuer, serial, validity, key, signature,
      subjectAltNames, basicConstraints, keyUsage, extendedKeyUsage, key identifiers,
      the CERTREQ hash and the SHA-256 fingerprint
  a CRL: issuer, thisUpdate, nextUpdate, number, and each revoked serial with date and reason
  a private key: its type and form only (e.g. ECDSA P-256 (PKCS#8, unencrypted)), never the key
  a PKCS#12 file (.p12, .pfx): its private key and its certificates
--passphrase-file F opens an encrypted key (without it only its form shows) or a PKCS#12 file
(without it the passphrase is empty). Exit 0; 1 when FILE is none of these.`;

const CERTIFICATE_LABELS = ['CERTIFICATE', 'X509 CERTIFICATE'];
const CRL_LABELS = ['X509 CRL'];
const KEY_LABELS = ['PRIVATE KEY', 'ENCRYPTED PRIVATE KEY', 'RSA PRIVATE KEY', 'EC PRIVATE KEY'];

/** One thing the file holds, where it sits in the file. */
type Item =
  | { readonly kind: 'certificate'; readonly at: number; readonly certificate: Certificate }
  | { readonly kind: 'crl'; readonly at: number; readonly crl: Crl }
  | { readonly kind: 'key'; readonly at: number; readonly key: PrivateKeyFileDescription };

export async function show(args: readonly string[], io: PkiOutput): Promise<void> {
  const { values, positionals } = parse(args, { 'passphrase-file': { type: 'string' } }, 1);
  const file = positionals[0]!;
  const { bytes, mode } = await readInput(file, CRL_FILE_MAX_BYTES, 'file');
  const passphrase = values['passphrase-file'] === undefined ? undefined : await readPassphrase(values['passphrase-file'], io);
  try {
    if (!looksLikePem(bytes) && looksLikePkcs12(bytes)) return showPkcs12(file, bytes, passphrase, mode, io);
    const items = looksLikePem(bytes) ? pemItems(file, bytes, passphrase) : derItems(file, bytes, passphrase);
    const key = items.find((i): i is Extract<Item, { kind: 'key' }> => i.kind === 'key');
    if (key !== undefined) warnMode(file, mode, io);
    const publicKey = key?.key.publicKey;
    const certificates = items.filter((i) => i.kind === 'certificate').length;
    const crls = items.filter((i) => i.kind === 'crl').length;
    let certificateNumber = 0;
    let crlNumber = 0;
    for (const item of items) {
      if (item.kind === 'key') {
        io.out(`private key: ${keyText(item.key)}`);
      } else if (item.kind === 'certificate') {
        const own = publicKey !== undefined && item.certificate.publicKey !== undefined && samePublicKey(publicKey, item.certificate.publicKey);
        io.out(`${numbered('certificate', ++certificateNumber, certificates)}${own ? " (the private key's)" : ''}:`);
        for (const line of describeCertificate(item.certificate)) io.out(`  ${line}`);
      } else {
        io.out(`${numbered('CRL', ++crlNumber, crls)}:`);
        for (const line of describeCrl(item.crl)) io.out(`  ${line}`);
      }
    }
  } finally {
    passphrase?.fill(0);
  }
}

const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });
/** Compared as node:crypto exports them, so an EC point's encoding in the certificate does not matter. */
const samePublicKey = (a: KeyObject, b: KeyObject): boolean => spki(a).equals(spki(b));

const numbered = (what: string, n: number, of: number): string => (of === 1 ? what : `${what} ${n} of ${of}`);

/** `ECDSA P-256 (PKCS#8, unencrypted)`. */
function keyText(key: PrivateKeyFileDescription): string {
  const form = `${key.form.container}, ${key.form.encrypted ? 'encrypted' : 'unencrypted'}`;
  if (key.type === undefined) return `type hidden by the encryption (${form}; --passphrase-file F reads it)`;
  return `${key.type} (${form})${key.unusable === undefined ? '' : `; ${key.unusable}`}`;
}

/** check-config refuses a key file others can read: say so here too. */
function warnMode(file: string, mode: number, io: PkiOutput): void {
  const problem = privateKeyFileProblem(mode, file);
  if (problem !== undefined) io.warn(problem);
}

/** The certificates, CRLs and private key of a PEM file, in file order. */
function pemItems(file: string, bytes: Buffer, passphrase: Buffer | undefined): Item[] {
  const text = bytes.toString('latin1');
  const labels = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]*)-----/g)].map((m) => m[1]!);
  const blocks = pemBlocks(text, [...CERTIFICATE_LABELS, ...CRL_LABELS]);
  if (!blocks.ok) throw new Failure(`${file}: ${blocks.error}`);
  const items: Item[] = [];
  for (const { block, label, der } of blocks.value) {
    if (CERTIFICATE_LABELS.includes(label)) {
      const certificate = parseCertificate(der);
      if (!certificate.ok) throw new Failure(`${file}: PEM block ${block}: ${certificate.error}`);
      items.push({ kind: 'certificate', at: block, certificate: certificate.value });
    } else {
      const crl = parseCrl(der);
      if (!crl.ok) throw new Failure(`${file}: PEM block ${block}: ${crl.error}`);
      items.push({ kind: 'crl', at: block, crl: crl.value });
    }
  }
  // Private key blocks are read by private-key.ts, which takes the file's first one (OpenSSL's
  // legacy encrypted PEM has headers inside the block, which pemBlocks does not read).
  const keyBlock = labels.findIndex((l) => KEY_LABELS.includes(l));
  if (keyBlock >= 0) {
    const key = describePrivateKeyFile(bytes, passphrase);
    if (key === undefined) throw new Failure(`${file}: PEM block ${keyBlock + 1} (${labels[keyBlock]}) is not a private key OpenSSL can read`);
    if (!key.ok) throw new Failure(`${file}: ${key.error}`);
    items.push({ kind: 'key', at: keyBlock + 1, key: key.value });
    const more = labels.filter((l) => KEY_LABELS.includes(l)).length - 1;
    if (more > 0) throw new Failure(`${file} holds ${more + 1} private keys; ikekm reads the first of a file only: keep one key per file`);
  }
  if (items.length === 0) {
    if (labels.length === 0) throw new Failure(`${file} has a PEM header but no complete PEM block`);
    throw new Failure(`${file} holds PEM blocks ${[...new Set(labels)].join(', ')}: none is a certificate, a CRL or a private key`);
  }
  return items.sort((a, b) => a.at - b.at);
}

/** One DER item: a certificate, a CRL or a private key, told apart by trying each reader. */
function derItems(file: string, bytes: Buffer, passphrase: Buffer | undefined): Item[] {
  if (bytes.length === 0) throw new Failure(`${file} is empty`);
  const certificate = parseCertificate(bytes);
  if (certificate.ok) return [{ kind: 'certificate', at: 0, certificate: certificate.value }];
  const crl = parseCrl(bytes);
  if (crl.ok) return [{ kind: 'crl', at: 0, crl: crl.value }];
  const key = describePrivateKeyFile(bytes, passphrase);
  if (key !== undefined) {
    if (!key.ok) throw new Failure(`${file}: ${key.error}`);
    return [{ kind: 'key', at: 0, key: key.value }];
  }
  throw new Failure(`${file} is neither a certificate, a CRL, a private key nor a PKCS#12 file (PEM or DER)`);
}

/** A PKCS#12 file: its key (type only), then its certificates, the key's own marked. */
function showPkcs12(file: string, bytes: Buffer, passphrase: Buffer | undefined, mode: number, io: PkiOutput): void {
  const read = readPkcs12(bytes, passphrase?.toString('utf8') ?? '');
  if (!read.ok) {
    const hint = passphrase === undefined && read.error.includes('passphrase') ? ' (without --passphrase-file the passphrase is empty)' : '';
    throw new Failure(`${file}: ${read.error}${hint}`);
  }
  warnMode(file, mode, io);
  const { key, certificates, friendlyName } = read.value;
  const parsed = certificates.map((der, i) => {
    const c = parseCertificate(der);
    if (!c.ok) throw new Failure(`${file}: certificate ${i + 1}: ${c.error}`);
    return c.value;
  });
  const count = `${parsed.length} certificate${parsed.length === 1 ? '' : 's'}`;
  io.out(`PKCS#12 file: a private key and ${count}${friendlyName === undefined ? '' : `, friendlyName "${friendlyName}"`}`);
  const description = privateKeyDescription(key);
  io.out(`private key: ${description.ok ? `${description.value} (in the PKCS#12 file)` : description.error}`);
  parsed.forEach((certificate, i) => {
    const own = certificate.publicKey !== undefined && keyMatchesPublicKey(key, certificate.publicKey);
    io.out(`${numbered('certificate', i + 1, parsed.length)}${own ? " (the private key's)" : ''}:`);
    for (const line of describeCertificate(certificate)) io.out(`  ${line}`);
  });
}
