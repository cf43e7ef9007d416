/**
 * `ikekm pki`: a small certificate authority for IKEv2 signature authentication, in the manner
 * of strongSwan's `pki` and IBM i's Digital Certificate Manager.
 *
 * - `ca create`: a self-signed CA certificate and its key.
 * - `issue`: a gateway's certificate (or, with --ca-flag, an intermediate CA's) signed by a CA.
 * - `crl`: a CRL of the CA, carrying over the entries of its previous one.
 * - `import`: a PKCS#12 file's key, certificate and chain as PEM files.
 * - `show`: what a certificate, CRL, private key or PKCS#12 file holds (pki-show.ts).
 * - `verify`: a certificate checked as the daemon checks a peer's, rule by rule (pki-verify.ts).
 *
 * Files are written only as new files (O_CREAT|O_EXCL): nothing is ever overwritten, and a
 * symbolic link at the path is not followed. Keys are written 0600, certificates and CRLs 0644
 * (less what the umask takes). A CRL may replace the CRL it was made from (--in), through a new
 * file renamed over it. Usage errors exit 2, failures 1, each as one line on stderr.
 *
 * Times: notBefore and a CRL's thisUpdate lie five minutes in the past, so a peer whose clock is a
 * little behind does not find a fresh certificate "not yet valid" (strongSwan's pki uses now).
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { lstat, mkdir, open, realpath, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { printable } from '../config/config-diagnostic.js';
import { errnoText } from '../config/regular-file.js';
import { KEY_ALGORITHMS, certificateFromTemplate, generateKeyPair, parseSubjectAltName, toPem, type CertificateIssuer, type KeyAlgorithm } from '../pki/certificate-builder.js';
import { REVOCATION_REASONS, crlFromTemplate, type RevocationReason, type RevokedCertificate } from '../pki/crl-builder.js';
import { parseDistinguishedName } from '../pki/distinguished-name.js';
import { parseCertificate, type Certificate } from '../pki/certificate.js';
import { describeGeneralName } from '../pki/general-name.js';
import { readIssuingCa, readPreviousCrl, type IssuingCa } from '../pki/issuing-ca.js';
import { readPkcs12 } from '../pki/pkcs12.js';
import { keyMatchesPublicKey, privateKeyDescription, privateKeyFileProblem, privateKeyFromPem, type LoadedPrivateKey } from '../pki/private-key.js';
import { serialText, unsignedIntegerContents } from '../pki/x509-encoding.js';
import {
  CERTIFICATE_FILE_MAX_BYTES,
  CRL_FILE_MAX_BYTES,
  Failure,
  KEY_FILE_MAX_BYTES,
  PKCS12_FILE_MAX_BYTES,
  UsageError,
  parse,
  readInput,
  readPassphrase,
  required,
  type PkiOutput,
} from './pki-cli-common.js';
import { SHOW_USAGE, show } from './pki-show.js';
import { VERIFY_USAGE, verify } from './pki-verify.js';

interface PkiSubcommand {
  /** The words after `ikekm pki`: `['ca', 'create']`. */
  readonly words: readonly string[];
  readonly summary: string;
  readonly usage: string;
  /** Resolves with the exit code when it is not 0 for a run that did not throw (a refused `verify`). */
  run(args: readonly string[], io: PkiOutput): Promise<void | number>;
}

const DAY_MS = 86_400_000;
/** Backdating of notBefore and thisUpdate: peers' clocks may be a little behind. */
const CLOCK_SKEW_MS = 5 * 60_000;
const KEY_MODE = 0o600;
const PUBLIC_MODE = 0o644;

const SIGNING_HELP = `--digest sha256|sha384|sha512 (default by the CA key: SHA-384 for P-384, else SHA-256)
  --rsa-padding pkcs1|pss   RSASSA-PSS (RFC 4055) instead of PKCS#1 v1.5 with an RSA CA key`;

const CA_CREATE_USAGE = `usage: ikekm pki ca create --dn DN [--type T] [--days N] [--path-len N]
                            (--out DIR | --cert FILE --key FILE) [--digest D] [--rsa-padding P]

A self-signed CA certificate (basicConstraints critical CA:TRUE, keyUsage critical keyCertSign
and cRLSign) and its private key.
  --dn DN          the CA's name, e.g. "C=CH, O=ikekm, CN=ikekm Root CA"
  --type T         its key: ${KEY_ALGORITHMS.join(', ')}
                   (default rsa-3072: a CA lives long)
  --days N         validity in days (default 3650)
  --path-len N     how many intermediate CAs may follow it (default: no limit)
  --out DIR        writes DIR/ca-cert.pem and DIR/ca-key.pem (DIR is created if missing)
  --cert, --key    or these two paths
  ${SIGNING_HELP}
The key is written unencrypted, mode 0600; existing files are never overwritten.`;

const ISSUE_USAGE = `usage: ikekm pki issue --ca CACERT --ca-key CAKEY [--ca-key-passphrase-file FILE] --dn DN
                        [--san NAME]... [--type T | --key KEY [--key-passphrase-file FILE]]
                        [--days N] [--ca-flag [--path-len N]] [--eku NAME]... [--crl-uri URI]...
                        --cert OUT [--key-out OUT] [--digest D] [--rsa-padding P]

A certificate signed by the CA in CACERT, for a gateway by default: keyUsage digitalSignature
(+ keyEncipherment for RSA), extendedKeyUsage serverAuth, clientAuth, ipsecIKE, the key
identifiers, and the subjectAltNames IKE peers match their IDs against (RFC 4945 5.1.3.6).
  --dn DN          the subject, e.g. "C=CH, O=ikekm, CN=gw.example"
  --san NAME       a subjectAltName: gw.example (DNS), 192.0.2.1 or 2001:db8::1 (IP),
                   ops@gw.example (email); dns:, ip:, email:, uri: force the kind. Repeatable.
  --type T         a new key: ${KEY_ALGORITHMS.join(', ')}
                   (default rsa-2048), written to --key-out (mode 0600)
  --key KEY        or the subject's existing private key (then no --key-out)
  --days N         validity in days (default 730; never past the end of the CA)
  --ca-flag        an intermediate CA instead (basicConstraints CA:TRUE, keyCertSign, cRLSign)
  --path-len N     with --ca-flag: how many CAs may follow it
  --eku NAME       instead of the default EKUs: serverAuth, clientAuth, ipsecIKE, codeSigning,
                   … or a dotted OID. Repeatable.
  --crl-uri URI    a CRL distribution point (cRLDistributionPoints). Repeatable.
  ${SIGNING_HELP}
Existing files are never overwritten.`;

const CRL_USAGE = `usage: ikekm pki crl --ca CACERT --ca-key CAKEY [--ca-key-passphrase-file FILE]
                      [--revoke SERIAL]... [--reason R] [--days N] [--in CRL] --out FILE
                      [--digest D] [--rsa-padding P]

A CRL (v2, with cRLNumber and authorityKeyIdentifier) of the CA in CACERT.
  --revoke SERIAL  a certificate's serial number in hex, as printed: 0a:1b:2c or 0a1b2c. Repeatable.
  --reason R       why, for every --revoke of this run: ${Object.keys(REVOCATION_REASONS).slice(0, 3).join(', ')},
                   ${Object.keys(REVOCATION_REASONS).slice(3, 6).join(', ')},
                   ${Object.keys(REVOCATION_REASONS).slice(6).join(', ')}
  --days N         until the next update (default 30)
  --in CRL         the CA's previous CRL: its entries are kept, its number increased by one.
                   Without it the CRL is number 1: give the previous CRL each time.
  --out FILE       a new file, or the --in file itself, which is then replaced whole
  ${SIGNING_HELP}`;

const IMPORT_USAGE = `usage: ikekm pki import FILE.p12 [--passphrase-file F] --cert OUT --key OUT [--chain OUT]

The private key and certificates of a PKCS#12 file (Windows, macOS, IBM i DCM, openssl pkcs12)
as PEM files: the key (PKCS#8, mode 0600), the certificate that belongs to it, and with --chain
the other certificates. Without --passphrase-file the passphrase is empty. Existing files are
never overwritten.`;

const SUBCOMMANDS: readonly PkiSubcommand[] = [
  { words: ['ca', 'create'], summary: 'a self-signed CA certificate and its key', usage: CA_CREATE_USAGE, run: caCreate },
  { words: ['issue'], summary: "a gateway's (or an intermediate CA's) certificate, signed by a CA", usage: ISSUE_USAGE, run: issue },
  { words: ['crl'], summary: 'a CRL of a CA, revoking serial numbers', usage: CRL_USAGE, run: crl },
  { words: ['import'], summary: 'the key and certificates of a PKCS#12 file as PEM files', usage: IMPORT_USAGE, run: importPkcs12 },
  { words: ['show'], summary: 'what a certificate, CRL, private key or PKCS#12 file holds', usage: SHOW_USAGE, run: show },
  { words: ['verify'], summary: "a certificate checked as a peer's is, rule by rule (--ca, --crl, --id)", usage: VERIFY_USAGE, run: verify },
];

export const PKI_USAGE = `usage: ikekm pki <subcommand> [options]   (ikekm pki <subcommand> --help for its options)

subcommands:
${SUBCOMMANDS.map((s) => `  ${s.words.join(' ').padEnd(10)} ${s.summary}`).join('\n')}`;

const processOutput: PkiOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  warn: (line) => process.stderr.write(`${line}\n`),
};

const isHelp = (arg: string | undefined): boolean => arg === '--help' || arg === '-h' || arg === 'help';

export async function pkiCommand(args: readonly string[], io: PkiOutput = processOutput): Promise<number> {
  if (args.length === 0 || (args.length === 1 && isHelp(args[0]))) {
    (args.length === 0 ? io.warn : io.out)(PKI_USAGE);
    return args.length === 0 ? 2 : 0;
  }
  const subcommand = SUBCOMMANDS.find((s) => s.words.every((word, i) => args[i] === word));
  if (subcommand === undefined) {
    const known = SUBCOMMANDS.map((s) => s.words.join(' ')).join(', ');
    io.warn(`ikekm pki: unknown subcommand '${args.slice(0, args[0] === 'ca' ? 2 : 1).join(' ')}' (known: ${known}; ikekm pki --help)`);
    return 2;
  }
  const name = `ikekm pki ${subcommand.words.join(' ')}`;
  const rest = args.slice(subcommand.words.length);
  if (rest.some(isHelp)) {
    io.out(subcommand.usage);
    return 0;
  }
  // Lines carry names from certificates and PKCS#12 files: control characters are escaped.
  try {
    const code = await subcommand.run(rest, { out: (line) => io.out(printable(line)), warn: (line) => io.warn(printable(`${name}: warning: ${line}`)) });
    return code ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.warn(printable(`${name}: ${e.message} (${name} --help)`));
      return 2;
    }
    io.warn(printable(`${name}: ${e instanceof Error ? e.message : String(e)}`));
    return 1;
  }
}

// ---- the command line -------------------------------------------------------------------------

function wholeNumber(text: string | undefined, option: string, min: number, max: number, fallback?: number): number | undefined {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${option} ${text}: expected a whole number from ${min} to ${max}`);
  return Number(text);
}

function keyAlgorithm(text: string | undefined, fallback: KeyAlgorithm): KeyAlgorithm {
  if (text === undefined) return fallback;
  if (!(KEY_ALGORITHMS as readonly string[]).includes(text)) throw new UsageError(`--type ${text}: expected one of ${KEY_ALGORITHMS.join(', ')}`);
  return text as KeyAlgorithm;
}

interface SigningOptions {
  readonly signatureHash?: 'sha256' | 'sha384' | 'sha512';
  readonly rsaPss?: boolean;
}

function signingOptions(digest: string | undefined, padding: string | undefined): SigningOptions {
  if (digest !== undefined && digest !== 'sha256' && digest !== 'sha384' && digest !== 'sha512') throw new UsageError(`--digest ${digest}: expected sha256, sha384 or sha512`);
  if (padding !== undefined && padding !== 'pkcs1' && padding !== 'pss') throw new UsageError(`--rsa-padding ${padding}: expected pkcs1 or pss`);
  return { ...(digest === undefined ? {} : { signatureHash: digest }), ...(padding === 'pss' ? { rsaPss: true } : {}) };
}

const SIGNING_OPTIONS = { digest: { type: 'string' }, 'rsa-padding': { type: 'string' } } as const;

function distinguishedName(text: string): string {
  const dn = parseDistinguishedName(text);
  if (!dn.ok) throw new UsageError(`--dn: ${dn.error}`);
  return dn.value.text;
}

/** A serial as strongSwan and OpenSSL print it (`0a:1b:2c`, `0A1B2C`, `0x0a1b2c`) to its magnitude. */
export function parseSerial(text: string): Buffer | undefined {
  const plain = text.replace(/^0x/i, '');
  let hex: string;
  if (plain.includes(':')) {
    const groups = plain.split(':');
    if (!groups.every((g) => /^[0-9a-fA-F]{1,2}$/.test(g))) return undefined;
    hex = groups.map((g) => g.padStart(2, '0')).join('');
  } else {
    if (!/^[0-9a-fA-F]+$/.test(plain)) return undefined;
    hex = plain.length % 2 === 0 ? plain : `0${plain}`;
  }
  const magnitude = unsignedIntegerContents(Buffer.from(hex, 'hex'));
  return magnitude.every((b) => b === 0) ? undefined : magnitude;
}

// ---- files ------------------------------------------------------------------------------------

async function loadKey(path: string, passphraseFile: string | undefined, passphraseOption: string, io: PkiOutput): Promise<LoadedPrivateKey> {
  const { bytes, mode } = await readInput(path, KEY_FILE_MAX_BYTES, 'key file');
  const problem = privateKeyFileProblem(mode, path);
  if (problem !== undefined) io.warn(problem);
  const passphrase = passphraseFile === undefined ? undefined : await readPassphrase(passphraseFile, io);
  const loaded = privateKeyFromPem(bytes, passphrase);
  bytes.fill(0);
  passphrase?.fill(0);
  if (!loaded.ok) throw new Failure(`${path}: ${loaded.error}${loaded.error.startsWith('the key is encrypted') ? ` (${passphraseOption} FILE)` : ''}`);
  return loaded.value;
}

async function loadCa(certPath: string, keyPath: string, passphraseFile: string | undefined, io: PkiOutput): Promise<{ ca: IssuingCa; key: KeyObject; issuer: CertificateIssuer }> {
  const caFile = await readInput(certPath, CERTIFICATE_FILE_MAX_BYTES, 'CA certificate');
  const ca = readIssuingCa(caFile.bytes);
  if (!ca.ok) throw new Failure(`CA certificate ${certPath}: ${ca.error}`);
  const key = await loadKey(keyPath, passphraseFile, '--ca-key-passphrase-file', io);
  if (!keyMatchesPublicKey(key.key, ca.value.publicKey)) throw new Failure(`${keyPath} is not the private key of the CA certificate ${certPath}`);
  if (ca.value.certificate.notAfterMs < Date.now()) io.warn(`the CA certificate ${certPath} expired on ${isoTime(ca.value.certificate.notAfterMs)}`);
  const issuer: CertificateIssuer = { subject: ca.value.subject.der, privateKey: key.key, ...(ca.value.subjectKeyId === undefined ? {} : { subjectKeyId: ca.value.subjectKeyId }) };
  return { ca: ca.value, key: key.key, issuer };
}

interface Output {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

const existsMessage = (path: string): string => `${path} exists: ikekm pki never overwrites a file (remove it or choose another path)`;

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new Failure(`${path}: ${errnoText(e)}`);
  }
}

/** Creates `path` as a new file (never over an existing one, never through a symbolic link). */
async function createNewFile(path: string, content: string, mode: number): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'wx', mode);
  } catch (e) {
    throw new Failure((e as NodeJS.ErrnoException).code === 'EEXIST' ? existsMessage(path) : `${path}: ${errnoText(e)}`);
  }
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes every output as a new file, or none: what was written before a failure is removed again. */
async function writeOutputs(outputs: readonly Output[]): Promise<void> {
  const paths = outputs.map((o) => o.path);
  const repeated = paths.find((p, i) => paths.indexOf(p) !== i);
  if (repeated !== undefined) throw new UsageError(`${repeated} is given for two outputs`);
  for (const path of paths) if (await exists(path)) throw new Failure(existsMessage(path));
  const written: string[] = [];
  try {
    for (const output of outputs) {
      await createNewFile(output.path, output.content, output.mode);
      written.push(output.path);
    }
  } catch (e) {
    for (const path of written) await unlink(path).catch(() => undefined);
    throw e;
  }
}

/** Replaces `path` whole: a new file beside it, renamed over it (readers see the old or the new CRL, never half). */
async function replaceFile(path: string, content: string, mode: number): Promise<void> {
  const temporary = join(dirname(path), `.${process.pid}-${Date.now()}.ikekm-new`);
  await createNewFile(temporary, content, mode);
  try {
    await rename(temporary, path);
  } catch (e) {
    await unlink(temporary).catch(() => undefined);
    throw new Failure(`${path}: ${errnoText(e)}`);
  }
}

async function samePath(a: string, b: string): Promise<boolean> {
  try {
    return (await realpath(a)) === (await realpath(b));
  } catch {
    return false;
  }
}

// ---- what is printed --------------------------------------------------------------------------

const colonHex = (octets: Buffer): string => [...octets].map((b) => b.toString(16).padStart(2, '0')).join(':');
const isoTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The lines that describe a certificate just written: subject, SANs, serial, validity, key. */
function certificateLines(certificate: Certificate, keyDescription?: string): string[] {
  const sans = certificate.subjectAltNames;
  return [
    `  subject:  ${certificate.subject.text}`,
    ...(sans.length === 0 ? [] : [`  SANs:     ${sans.map(describeGeneralName).join(', ')}`]),
    `  issuer:   ${certificate.issuer.text}`,
    `  serial:   ${certificate.serialText}`,
    `  validity: ${isoTime(certificate.notBeforeMs)} to ${isoTime(certificate.notAfterMs)}`,
    `  key:      ${keyDescription ?? certificate.keyDescription}, SPKI SHA-1 ${colonHex(certificate.spkiSha1)}`,
    ...(certificate.basicConstraints?.ca === true ? ['  CA:       yes'] : []),
  ];
}

/** What the builder made, read back as any certificate is read: a failure here is a bug in the builder. */
function written(der: Buffer): Certificate {
  const certificate = parseCertificate(der);
  if (!certificate.ok) throw new Failure(`the certificate made does not read back: ${certificate.error}`);
  return certificate.value;
}

function describeKey(key: KeyObject): string {
  const description = privateKeyDescription(key);
  return description.ok ? description.value : (key.asymmetricKeyType ?? 'unknown key');
}

function keyPem(key: KeyObject): string {
  return toPem('PRIVATE KEY', key.export({ type: 'pkcs8', format: 'der' }));
}

// ---- ikekm pki ca create ----------------------------------------------------------------------

async function caCreate(args: readonly string[], io: PkiOutput): Promise<void> {
  const { values } = parse(args, {
    dn: { type: 'string' },
    type: { type: 'string' },
    days: { type: 'string' },
    'path-len': { type: 'string' },
    out: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ...SIGNING_OPTIONS,
  });
  const subject = distinguishedName(required(values.dn, 'dn'));
  const type = keyAlgorithm(values.type, 'rsa-3072');
  const days = wholeNumber(values.days, 'days', 1, 36_500, 3650)!;
  const pathLen = wholeNumber(values['path-len'], 'path-len', 0, 255);
  const signing = signingOptions(values.digest, values['rsa-padding']);
  if (signing.rsaPss === true && !type.startsWith('rsa')) throw new UsageError(`--rsa-padding pss signs with an RSA key, and --type ${type} is not one`);
  if (values.out !== undefined && (values.cert !== undefined || values.key !== undefined)) throw new UsageError('give --out DIR, or --cert FILE and --key FILE, not both');
  if (values.out === undefined && (values.cert === undefined || values.key === undefined)) throw new UsageError('give --out DIR, or --cert FILE and --key FILE');
  const certPath = values.out === undefined ? values.cert! : join(values.out, 'ca-cert.pem');
  const keyPath = values.out === undefined ? values.key! : join(values.out, 'ca-key.pem');
  // Before the key is made: a refusal should not cost an RSA key generation.
  for (const path of [certPath, keyPath]) if (await exists(path)) throw new Failure(existsMessage(path));

  const pair = generateKeyPair(type);
  const now = Date.now();
  const der = certificateFromTemplate({
    subject,
    publicKey: pair.publicKey,
    issuer: { selfSignedWith: pair.privateKey },
    notBeforeMs: now - CLOCK_SKEW_MS,
    notAfterMs: now + days * DAY_MS,
    ca: pathLen === undefined ? {} : { pathLen },
    ...signing,
  });
  if (!der.ok) throw new Failure(der.error);
  const made = written(der.value);
  if (values.out !== undefined) {
    try {
      await mkdir(values.out, { recursive: true, mode: 0o755 });
    } catch (e) {
      throw new Failure(`${values.out}: ${errnoText(e)}`);
    }
  }
  await writeOutputs([
    { path: keyPath, content: keyPem(pair.privateKey), mode: KEY_MODE },
    { path: certPath, content: toPem('CERTIFICATE', der.value), mode: PUBLIC_MODE },
  ]);
  io.out(`wrote CA certificate ${certPath}`);
  io.out(`wrote its private key ${keyPath} (mode 0600, not encrypted)`);
  for (const line of certificateLines(made, describeKey(pair.privateKey))) io.out(line);
}

// ---- ikekm pki issue --------------------------------------------------------------------------

async function issue(args: readonly string[], io: PkiOutput): Promise<void> {
  const { values } = parse(args, {
    ca: { type: 'string' },
    'ca-key': { type: 'string' },
    'ca-key-passphrase-file': { type: 'string' },
    dn: { type: 'string' },
    san: { type: 'string', multiple: true },
    type: { type: 'string' },
    key: { type: 'string' },
    'key-passphrase-file': { type: 'string' },
    days: { type: 'string' },
    'ca-flag': { type: 'boolean' },
    'path-len': { type: 'string' },
    eku: { type: 'string', multiple: true },
    'crl-uri': { type: 'string', multiple: true },
    cert: { type: 'string' },
    'key-out': { type: 'string' },
    ...SIGNING_OPTIONS,
  });
  const caPath = required(values.ca, 'ca');
  const caKeyPath = required(values['ca-key'], 'ca-key');
  const subject = distinguishedName(required(values.dn, 'dn'));
  const certPath = required(values.cert, 'cert');
  const days = wholeNumber(values.days, 'days', 1, 36_500, 730)!;
  const isCa = values['ca-flag'] === true;
  if (values['path-len'] !== undefined && !isCa) throw new UsageError('--path-len goes with --ca-flag');
  const pathLen = wholeNumber(values['path-len'], 'path-len', 0, 255);
  if (values.key !== undefined && values.type !== undefined) throw new UsageError('--type makes a new key; --key uses an existing one: not both');
  if (values.key !== undefined && values['key-out'] !== undefined) throw new UsageError('--key-out writes a new key; with --key the key exists already');
  if (values.key === undefined && values['key-out'] === undefined) throw new UsageError('--key-out is required for the new key (or give an existing one with --key)');
  if (values['key-passphrase-file'] !== undefined && values.key === undefined) throw new UsageError('--key-passphrase-file goes with --key');
  const type = keyAlgorithm(values.type, 'rsa-2048');
  const sans = values.san ?? [];
  for (const san of sans) {
    const parsed = parseSubjectAltName(san);
    if (!parsed.ok) throw new UsageError(`--san: ${parsed.error}`);
  }
  const signing = signingOptions(values.digest, values['rsa-padding']);
  for (const path of [certPath, ...(values['key-out'] === undefined ? [] : [values['key-out']])]) if (await exists(path)) throw new Failure(existsMessage(path));

  const { ca, issuer } = await loadCa(caPath, caKeyPath, values['ca-key-passphrase-file'], io);
  const existing = values.key === undefined ? undefined : await loadKey(values.key, values['key-passphrase-file'], '--key-passphrase-file', io);
  const pair = existing === undefined ? generateKeyPair(type) : { privateKey: existing.key, publicKey: createPublicKey(existing.key) };

  const now = Date.now();
  // A certificate cannot be validated past its CA's end: it ends there too (as a Windows CA does),
  // said when that is more than the moments between issuing the CA and this certificate.
  const caUntil = ca.certificate.notAfterMs;
  const notAfterMs = Math.min(now + days * DAY_MS, caUntil);
  if (now + days * DAY_MS - caUntil > DAY_MS) io.warn(`the validity ends with the CA's, on ${isoTime(caUntil)}, short of --days ${days}`);
  if (notAfterMs <= now) throw new Failure(`the CA certificate ${caPath} has expired: it can issue nothing more`);
  if (sans.length === 0 && !isCa) io.warn('no --san: IKE peers match the ID they are given against subjectAltNames (RFC 4945 5.1.3.6); only an ID that is the subject DN will match');
  const der = certificateFromTemplate({
    subject,
    publicKey: pair.publicKey,
    issuer,
    notBeforeMs: now - CLOCK_SKEW_MS,
    notAfterMs,
    subjectAltNames: sans,
    ...(isCa ? { ca: pathLen === undefined ? {} : { pathLen } } : {}),
    ...(values.eku === undefined ? {} : { extendedKeyUsage: values.eku }),
    ...(values['crl-uri'] === undefined ? {} : { crlDistributionPoints: values['crl-uri'] }),
    ...signing,
  });
  if (!der.ok) throw new Failure(der.error);
  const made = written(der.value);
  await writeOutputs([
    ...(values['key-out'] === undefined ? [] : [{ path: values['key-out'], content: keyPem(pair.privateKey), mode: KEY_MODE }]),
    { path: certPath, content: toPem('CERTIFICATE', der.value), mode: PUBLIC_MODE },
  ]);
  io.out(`wrote ${isCa ? 'intermediate CA' : 'certificate'} ${certPath}`);
  if (values['key-out'] !== undefined) io.out(`wrote its private key ${values['key-out']} (mode 0600, not encrypted)`);
  for (const line of certificateLines(made, describeKey(pair.privateKey))) io.out(line);
}

// ---- ikekm pki crl ----------------------------------------------------------------------------

async function crl(args: readonly string[], io: PkiOutput): Promise<void> {
  const { values } = parse(args, {
    ca: { type: 'string' },
    'ca-key': { type: 'string' },
    'ca-key-passphrase-file': { type: 'string' },
    revoke: { type: 'string', multiple: true },
    reason: { type: 'string' },
    days: { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    ...SIGNING_OPTIONS,
  });
  const caPath = required(values.ca, 'ca');
  const caKeyPath = required(values['ca-key'], 'ca-key');
  const outPath = required(values.out, 'out');
  const days = wholeNumber(values.days, 'days', 1, 3650, 30)!;
  const reason = values.reason;
  if (reason !== undefined && !(reason in REVOCATION_REASONS)) throw new UsageError(`--reason ${reason}: expected one of ${Object.keys(REVOCATION_REASONS).join(', ')}`);
  if (reason !== undefined && values.revoke === undefined) throw new UsageError('--reason goes with --revoke');
  const serials = (values.revoke ?? []).map((text) => {
    const serial = parseSerial(text);
    if (serial === undefined) throw new UsageError(`--revoke ${text}: not a serial number (hex as printed: 0a:1b:2c or 0a1b2c, not 0)`);
    return serial;
  });
  const signing = signingOptions(values.digest, values['rsa-padding']);
  const replacing = values.in !== undefined && (await samePath(values.in, outPath));
  if (!replacing && (await exists(outPath))) throw new Failure(existsMessage(outPath));

  const { ca, issuer } = await loadCa(caPath, caKeyPath, values['ca-key-passphrase-file'], io);
  let previous: { crlNumber: bigint | undefined; revoked: readonly RevokedCertificate[] } = { crlNumber: undefined, revoked: [] };
  if (values.in !== undefined) {
    const read = readPreviousCrl((await readInput(values.in, CRL_FILE_MAX_BYTES, 'CRL')).bytes, ca);
    if (!read.ok) throw new Failure(`--in ${values.in}: ${read.error}`);
    previous = read.value;
  }
  const now = Date.now();
  const thisUpdateMs = now - CLOCK_SKEW_MS;
  const revoked = [...previous.revoked];
  const known = new Set(revoked.map((r) => unsignedIntegerContents(r.serial).toString('hex')));
  const added: string[] = [];
  for (const serial of serials) {
    const key = serial.toString('hex');
    if (known.has(key)) {
      io.warn(`serial ${serialText(serial)} is revoked already; its entry is kept as it was`);
      continue;
    }
    known.add(key);
    added.push(serialText(serial));
    // Dated as the CRL that first lists it (RFC 5280 5.1.2.6 revocationDate), not after its own
    // thisUpdate, which is set back for peers whose clocks run slow.
    revoked.push({ serial, atMs: thisUpdateMs, ...(reason === undefined ? {} : { reason: reason as RevocationReason }) });
  }
  const crlNumber = previous.crlNumber === undefined ? 1n : previous.crlNumber + 1n;
  const der = crlFromTemplate({ issuer, thisUpdateMs, nextUpdateMs: now + days * DAY_MS, crlNumber, revoked, ...signing });
  if (!der.ok) throw new Failure(der.error);
  const pem = toPem('X509 CRL', der.value);
  if (replacing) await replaceFile(outPath, pem, PUBLIC_MODE);
  else await writeOutputs([{ path: outPath, content: pem, mode: PUBLIC_MODE }]);
  io.out(`wrote CRL ${outPath}${replacing ? ' (replacing the previous one)' : ''}`);
  io.out(`  issuer:      ${ca.subject.text}`);
  io.out(`  number:      ${crlNumber}`);
  io.out(`  revoked:     ${revoked.length} certificate${revoked.length === 1 ? '' : 's'}${added.length > 0 ? ` (new: ${added.join(', ')}${reason === undefined ? '' : `, reason ${reason}`})` : ''}`);
  io.out(`  next update: ${isoTime(now + days * DAY_MS)}`);
}

// ---- ikekm pki import -------------------------------------------------------------------------

async function importPkcs12(args: readonly string[], io: PkiOutput): Promise<void> {
  const { values, positionals } = parse(args, { 'passphrase-file': { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, chain: { type: 'string' } }, 1);
  const file = positionals[0]!;
  const certPath = required(values.cert, 'cert');
  const keyPath = required(values.key, 'key');
  const content = await readInput(file, PKCS12_FILE_MAX_BYTES, 'PKCS#12 file');
  const passphrase = values['passphrase-file'] === undefined ? Buffer.alloc(0) : await readPassphrase(values['passphrase-file'], io);
  const read = readPkcs12(content.bytes, passphrase.toString('utf8'));
  passphrase.fill(0);
  if (!read.ok) throw new Failure(`${file}: ${read.error}`);
  const { key, certificates } = read.value;
  const description = privateKeyDescription(key);
  if (!description.ok) throw new Failure(`${file}: ${description.error}`);
  const parsed = certificates.map((der) => parseCertificate(der));
  const ownIndex = parsed.findIndex((c) => c.ok && c.value.publicKey !== undefined && keyMatchesPublicKey(key, c.value.publicKey));
  const ownResult = parsed[ownIndex];
  if (ownResult === undefined || !ownResult.ok) throw new Failure(`${file}: none of its ${certificates.length} certificate${certificates.length === 1 ? '' : 's'} belongs to its private key`);
  const own = certificates[ownIndex]!;
  const chain = certificates.filter((_, i) => i !== ownIndex);
  await writeOutputs([
    { path: keyPath, content: keyPem(key), mode: KEY_MODE },
    { path: certPath, content: toPem('CERTIFICATE', own), mode: PUBLIC_MODE },
    ...(values.chain === undefined || chain.length === 0 ? [] : [{ path: values.chain, content: chain.map((der) => toPem('CERTIFICATE', der)).join(''), mode: PUBLIC_MODE }]),
  ]);
  io.out(`wrote private key ${keyPath} (mode 0600, not encrypted)${read.value.friendlyName === undefined ? '' : ` of "${read.value.friendlyName}"`}`);
  io.out(`wrote certificate ${certPath}`);
  for (const line of certificateLines(ownResult.value, description.value)) io.out(line);
  if (chain.length > 0 && values.chain !== undefined) io.out(`wrote ${chain.length} more certificate${chain.length === 1 ? '' : 's'} (the chain) to ${values.chain}`);
  else if (chain.length > 0) io.out(`${chain.length} more certificate${chain.length === 1 ? '' : 's'} (the chain) not written: give --chain FILE`);
  else if (values.chain !== undefined) io.out(`no chain in ${file}: ${values.chain} not written`);
}
