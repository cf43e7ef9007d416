/**
 * The certificates, keys and CRLs a connection with `auth: pubkey` names, checked when the
 * configuration is loaded so that `check-config` and a reload refuse what a negotiation would
 * fail on, and say which file and why:
 *
 * - the local certificate file parses (PEM with the end entity first, then intermediates, or one
 *   DER certificate), is valid now, and its key is the private key's (or both come from one
 *   PKCS#12 file);
 * - the private key file (PEM: PKCS#8, PKCS#1, SEC1, encrypted with a passphrase file; or
 *   PKCS#12) can be read by its owner only, as ssh demands of its keys;
 * - the local ID is in the certificate (RFC 7296 3.5: a peer checks it), or, when none is
 *   written, is the certificate's subject DN (strongSwan's default);
 * - the CA files parse and are valid now; the CRL files parse, each issued by one of them;
 * - the local chain is checked against those CAs too: a peer that trusts the same CAs refuses
 *   what fails here (a chain that reaches none of them is only a warning: the peer may trust
 *   another CA).
 *
 * Certificates and CRLs go into the model as DER (model.ts PeerTrust, LocalCertificate), the key
 * behind PrivateKeyHandle.
 */
import { validateChain } from '../pki/chain-validation.js';
import { certificateName, readCertificates, type Certificate } from '../pki/certificate.js';
import { readCrls, type Crl } from '../pki/crl.js';
import { sameName } from '../pki/distinguished-name.js';
import { certificateNamesIdentity, describeCertificateIdentities } from '../pki/identity-binding.js';
import { readPkcs12 } from '../pki/pkcs12.js';
import { keyMatchesPublicKey, privateKeyFileProblem, privateKeyFromPem } from '../pki/private-key.js';
import { err, ok, type Result } from '../result.js';
import type { IdentityConfig, LocalCertificate, PeerTrust, PrivateKeyHandle } from './model.js';
import { formatIdentity, privateKeyHandle } from './model.js';

/** A file as the loader read it. */
export interface CredentialFile {
  readonly path: string;
  readonly bytes: Buffer;
  readonly mode?: number | undefined;
}

/** Which of the connection's keys a problem belongs to, for the diagnostic's position. */
export type CredentialField = 'cert' | 'key' | 'pkcs12' | 'passphrase' | 'id';

export interface CredentialProblem {
  readonly field: CredentialField;
  readonly message: string;
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Why a certificate is not valid at `atMs`, if it is not (RFC 5280 4.1.2.5). */
export function validityProblem(c: Certificate, atMs: number): string | undefined {
  if (atMs < c.notBeforeMs) return `${certificateName(c)} is not valid before ${iso(c.notBeforeMs)}`;
  if (atMs > c.notAfterMs) return `${certificateName(c)} expired at ${iso(c.notAfterMs)}`;
  return undefined;
}

export interface LocalCredentialInput {
  /** `cert` and `key` files, or one `pkcs12` file. */
  readonly cert?: CredentialFile | undefined;
  readonly key?: CredentialFile | undefined;
  readonly pkcs12?: CredentialFile | undefined;
  readonly passphrase?: CredentialFile | undefined;
  /** The `id` written, if any. */
  readonly id: IdentityConfig | undefined;
  readonly sendCert: LocalCertificate['sendCert'];
  readonly atMs: number;
}

export interface LocalCredential {
  readonly certificate: LocalCertificate;
  readonly privateKey: PrivateKeyHandle;
  readonly id: IdentityConfig;
  /** Parsed, end entity first: for the chain check against the CAs. */
  readonly chain: readonly Certificate[];
}

/** The passphrase file's text: one trailing newline dropped, as editors add it. */
function passphraseOf(file: CredentialFile | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  const text = file.bytes.toString('utf8').replace(/\r?\n$/, '');
  return Buffer.from(text, 'utf8');
}

/** A key file's mode problem (ssh's rule), as the `key` or `pkcs12` field's error. */
function modeProblem(file: CredentialFile, field: CredentialField): CredentialProblem | undefined {
  const problem = file.mode === undefined ? undefined : privateKeyFileProblem(file.mode, file.path);
  return problem === undefined ? undefined : { field, message: problem };
}

/** Our certificate and private key, checked together. */
export function localCredential(input: LocalCredentialInput): Result<LocalCredential, CredentialProblem> {
  let chain: Certificate[];
  let key;
  if (input.pkcs12 !== undefined) {
    const mode = modeProblem(input.pkcs12, 'pkcs12');
    if (mode !== undefined) return err(mode);
    const passphrase = passphraseOf(input.passphrase);
    const p12 = readPkcs12(input.pkcs12.bytes, passphrase?.toString('utf8') ?? '');
    passphrase?.fill(0);
    if (!p12.ok) return err({ field: 'pkcs12', message: `${input.pkcs12.path}: ${p12.error}` });
    const parsed = readCertificatesFromDer(p12.value.certificates);
    if (!parsed.ok) return err({ field: 'pkcs12', message: `${input.pkcs12.path}: ${parsed.error}` });
    // The end entity is the certificate of the key; the rest are its chain.
    const own = parsed.value.find((c) => c.publicKey !== undefined && keyMatchesPublicKey(p12.value.key, c.publicKey));
    if (own === undefined) return err({ field: 'pkcs12', message: `${input.pkcs12.path} holds no certificate for its private key` });
    chain = [own, ...parsed.value.filter((c) => c !== own && !c.selfSigned)];
    key = p12.value.key;
  } else {
    if (input.cert === undefined) return err({ field: 'cert', message: 'a certificate is required with auth: pubkey (cert: FILE, or pkcs12: FILE)' });
    if (input.key === undefined) return err({ field: 'key', message: 'a private key is required with auth: pubkey (key: FILE, or pkcs12: FILE)' });
    const certs = readCertificates(Buffer.from(input.cert.bytes));
    if (!certs.ok) return err({ field: 'cert', message: `${input.cert.path}: ${certs.error}` });
    if (certs.value.length === 0) return err({ field: 'cert', message: `${input.cert.path} holds no certificate` });
    chain = certs.value;
    const mode = modeProblem(input.key, 'key');
    if (mode !== undefined) return err(mode);
    const passphrase = passphraseOf(input.passphrase);
    const loaded = privateKeyFromPem(input.key.bytes, passphrase);
    passphrase?.fill(0);
    if (!loaded.ok) return err({ field: 'key', message: `${input.key.path}: ${loaded.error}` });
    key = loaded.value.key;
    const endEntity = chain[0]!;
    if (endEntity.publicKey === undefined || !keyMatchesPublicKey(key, endEntity.publicKey)) {
      return err({ field: 'key', message: `the private key in ${input.key.path} is not the key of ${certificateName(endEntity)} in ${input.cert.path}` });
    }
  }
  const endEntity = chain[0]!;
  const field: CredentialField = input.pkcs12 !== undefined ? 'pkcs12' : 'cert';
  const expired = chain.map((c) => validityProblem(c, input.atMs)).find((p) => p !== undefined);
  if (expired !== undefined) return err({ field, message: expired });
  const subjectId: IdentityConfig = { kind: 'der-asn1-dn', der: endEntity.subject.der };
  const id = input.id ?? subjectId;
  if (!certificateNamesIdentity(endEntity, id)) {
    return err({
      field: 'id',
      message: `id ${formatIdentity(id)} is not in ${certificateName(endEntity)}, which has ${describeCertificateIdentities(endEntity)}; a peer refuses an ID its certificate does not name (RFC 7296 3.5): use one of them, or leave id out for the subject`,
    });
  }
  return ok({
    certificate: { chain: chain.map((c) => Buffer.from(c.der)), sendCert: input.sendCert },
    privateKey: privateKeyHandle(key),
    id,
    chain,
  });
}

function readCertificatesFromDer(ders: readonly Buffer[]): Result<Certificate[], string> {
  const out: Certificate[] = [];
  for (const der of ders) {
    const r = readCertificates(Buffer.from(der));
    if (!r.ok) return r;
    out.push(...r.value);
  }
  return ok(out);
}

export interface TrustInput {
  readonly cas: readonly CredentialFile[];
  readonly crls: readonly CredentialFile[];
  readonly atMs: number;
}

/** A problem with one CA or CRL file: which list, which entry. */
export interface TrustProblem {
  readonly list: 'ca' | 'crl';
  readonly index: number;
  readonly message: string;
}

export interface LoadedTrust {
  readonly trust: PeerTrust;
  readonly anchors: readonly Certificate[];
  readonly crls: readonly Crl[];
}

/** The CAs a peer's chain must reach, and the CRLs that revoke within them. */
export function peerTrust(input: TrustInput): Result<LoadedTrust, TrustProblem[]> {
  const problems: TrustProblem[] = [];
  const anchors: Certificate[] = [];
  input.cas.forEach((file, index) => {
    const certs = readCertificates(Buffer.from(file.bytes));
    if (!certs.ok) return void problems.push({ list: 'ca', index, message: `${file.path}: ${certs.error}` });
    if (certs.value.length === 0) return void problems.push({ list: 'ca', index, message: `${file.path} holds no certificate` });
    for (const c of certs.value) {
      const expired = validityProblem(c, input.atMs);
      if (expired !== undefined) problems.push({ list: 'ca', index, message: `${file.path}: ${expired}` });
      else if (c.basicConstraints?.ca !== true && c.version >= 3) problems.push({ list: 'ca', index, message: `${file.path}: ${certificateName(c)} is not a CA certificate (no basicConstraints cA=TRUE, RFC 5280 4.2.1.9)` });
      else anchors.push(c);
    }
  });
  const crls: Crl[] = [];
  input.crls.forEach((file, index) => {
    const read = readCrls(Buffer.from(file.bytes));
    if (!read.ok) return void problems.push({ list: 'crl', index, message: `${file.path}: ${read.error}` });
    for (const crl of read.value) {
      if (!anchors.some((a) => sameName(a.subject, crl.issuer))) {
        problems.push({ list: 'crl', index, message: `${file.path}: the CRL is issued by "${crl.issuer.text}", which is not among the CAs (ca:) of this connection` });
      } else crls.push(crl);
    }
  });
  if (problems.length > 0) return err(problems);
  return ok({
    trust: { anchors: anchors.map((a) => Buffer.from(a.der)), crls: crls.map((c) => Buffer.from(c.der)), caHashes: anchors.map((a) => Buffer.from(a.spkiSha1)) },
    anchors,
    crls,
  });
}

/**
 * Our chain as a peer trusting the same CAs would check it: a refusal for a rule a peer would
 * apply (revoked, key usage, …) is an error; a chain that reaches none of these CAs, a warning.
 */
export function localChainProblem(chain: readonly Certificate[], trust: LoadedTrust, atMs: number): { readonly severity: 'error' | 'warning'; readonly message: string } | undefined {
  const [endEntity, ...intermediates] = chain;
  if (endEntity === undefined) return undefined;
  const verdict = validateChain({ endEntity, intermediates, anchors: trust.anchors, crls: trust.crls, atMs });
  if (verdict.ok) return undefined;
  if (verdict.rule === 'issuer-unknown') {
    return { severity: 'warning', message: `our certificate's chain does not reach a CA in this connection's ca list (${verdict.message}); the peer must trust the CA that issued it` };
  }
  return { severity: 'error', message: `our certificate would be refused by a peer trusting these CAs: ${verdict.message}` };
}
